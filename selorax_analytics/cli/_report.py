"""``selorax-analytics report`` and ``selorax-analytics notebooks``: the report's subcommands.

``report`` builds the HTML report of a store into a folder, or with ``--single-file`` into one
HTML file (the folder or file is checked before any store is started or asked); ``notebooks``
re-executes the committed notebooks of a source checkout (or only those named) in place on a
fresh demo store.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from selorax_analytics.cli import _options as options
from selorax_analytics.cli._client import command_client, store_options


def add_report(commands: Any) -> None:
    """Add the ``report`` subcommand to the ``commands`` subparsers."""
    report = commands.add_parser("report", help="build the HTML report of the store")
    store_options(report)
    report.add_argument(
        "--as-of",
        type=options.as_of_day,
        help="last day of the analysis, YYYY-MM-DD (default: the demo's, or today)",
    )
    report.add_argument(
        "--out",
        type=options.path,
        help="folder to write into (default: report), or with --single-file the .html file "
        "(default: report.html)",
    )
    report.add_argument(
        "--single-file",
        action="store_true",
        help="write one self-contained HTML file (every page and picture inside) to send by "
        "e-mail or WhatsApp; exports and full tables stay in the folder form",
    )
    report.add_argument(
        "--overwrite",
        action="store_true",
        help="also write into a folder that holds other files (an earlier report is replaced "
        "without it); with --single-file, replace the file",
    )
    report.set_defaults(handler=_report)


def add_notebooks(commands: Any) -> None:
    """Add the ``notebooks`` subcommand to the ``commands`` subparsers."""
    notebooks = commands.add_parser(
        "notebooks",
        help="re-execute the committed notebooks in place on the demo store",
        description="Re-execute notebooks/NN_topic.ipynb of a source checkout in place, on a "
        "fresh demo store, so their outputs show the current numbers; review and commit them "
        "when the change is intended.",
    )
    notebooks.add_argument(
        "paths",
        nargs="*",
        type=_notebook_path,
        metavar="NOTEBOOK",
        help="only these notebooks (default: every notebooks/NN_topic.ipynb)",
    )
    notebooks.add_argument("--no-progress", action="store_true", help="hide progress bars")
    notebooks.set_defaults(handler=_notebooks)


def _report(args: argparse.Namespace) -> int:
    from selorax_analytics.exceptions import IncompleteReportError
    from selorax_analytics.report._folder import check_folder, check_single_file
    from selorax_analytics.report._notebooks import notebook_paths
    from selorax_analytics.report.build import build_report

    # The folder (or file) first: refused before a store is started or asked.
    stems = [p.stem for p in notebook_paths()]
    out = Path(args.out or ("report.html" if args.single_file else "report"))
    if args.single_file:
        check_single_file(out, overwrite=args.overwrite)
    else:
        check_folder(out, stems, overwrite=args.overwrite)
    try:
        path = build_report(
            out,
            as_of=args.as_of,
            client=command_client(args),
            progress=not args.no_progress,
            overwrite=args.overwrite,
            single_file=args.single_file,
        )
    except IncompleteReportError as exc:
        # the report is written all the same: one line per notebook that stopped, then its path
        for line in exc.failures:
            print(f"error: {line}", file=sys.stderr)
        _print_written(exc.index, args.single_file, f"{len(exc.failures)} of {len(stems)}")
        return 1
    _print_written(path, args.single_file, "")
    return 0


def _print_written(path: Path, single_file: bool, incomplete: str) -> None:
    """The line naming what was written; ``incomplete`` is "k of n" pages that did not finish."""
    notes = [f"{incomplete} pages incomplete"] if incomplete else []
    if single_file:
        size = file_size(path.stat().st_size)
        notes = [size, *notes, "one file with every page: send it as it is"]
    print(f"{path} ({', '.join(notes)})" if notes else str(path))


def file_size(size: int) -> str:
    """A file's size for people: ``812 KB``, ``2.4 MB``."""
    if size < 1_000_000:
        return f"{max(1, round(size / 1000)):,} KB"
    return f"{size / 1_000_000:.1f} MB"


def _notebooks(args: argparse.Namespace) -> int:
    from selorax_analytics.report.build import execute_notebooks

    for path in execute_notebooks(args.paths or None, progress=not args.no_progress):
        print(f"executed {path}")
    return 0


def _notebook_path(text: str) -> Path:
    path = Path(text)
    if path.suffix != ".ipynb" or not path.is_file():
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a notebook file; pass existing .ipynb files, e.g. "
            "notebooks/02_rfm_segments.ipynb, or none for all of them"
        )
    return path
