"""``selorax-analytics fleet``: many stores at once, from a fleet file.

``fleet fetch --fleet FILE [--out DIR]`` loads every store of the file into the fleet dataset
(:func:`selorax_analytics.fleet.load.load_fleet`) and prints one line per store; exit 1 when any
store failed (the others are still loaded and written). ``fleet report`` (in
:mod:`selorax_analytics.cli._fleet_report`) is added to the same subcommands by :func:`add_fleet`
and loads the fleet the same way (:func:`load_options`, :func:`run_load`) before its page.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from selorax_analytics.cli import _options as options
from selorax_analytics.presentation import numbers

#: The fleet dataset's folder when none is given (``fleet fetch --out``, ``fleet report``).
DEFAULT_DATASET = "fleet-data"


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not accepted; give a whole number from 1")
    return value


def fleet_file_option(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    """``--fleet FILE`` (shared by the ``fleet`` subcommands)."""
    parser.add_argument(
        "--fleet",
        required=required,
        type=options.path,
        metavar="FILE",
        help="fleet file (TOML): [[store]] name, base_url, token_env (never the secret itself)",
    )


def load_options(parser: argparse.ArgumentParser) -> None:
    """How a fleet is loaded: ``--refresh``, ``--max-in-flight``, ``--cache-dir``, ``--no-progress``."""
    parser.add_argument(
        "--refresh",
        choices=("auto", "full", "never"),
        default="auto",
        help="auto: serve fresh caches, else update them; full: reload; never: offline",
    )
    parser.add_argument(
        "--max-in-flight",
        type=_positive,
        metavar="N",
        help="requests in flight across the fleet (default: the file's max_in_flight, else 16)",
    )
    parser.add_argument(
        "--cache-dir", type=options.path, help="cache folder (env SELORAX_CACHE_DIR)"
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def run_load(args: argparse.Namespace, out: str) -> Any:
    """:func:`~selorax_analytics.fleet.load.load_fleet` of ``args.fleet`` into ``out``."""
    from selorax_analytics.fleet.load import load_fleet

    if args.cache_dir:
        os.environ["SELORAX_CACHE_DIR"] = str(Path(args.cache_dir).expanduser())
    return load_fleet(
        args.fleet,
        out=out,
        refresh=args.refresh,
        max_in_flight=args.max_in_flight,
        progress=not args.no_progress,
    )


def add_fleet(commands: Any) -> None:
    """Add ``fleet`` and its subcommands (``fetch``, ``report``) to ``commands`` (argparse subparsers)."""
    from selorax_analytics.cli._fleet_report import add_report

    fleet = commands.add_parser("fleet", help="many stores at once, from a fleet file")
    actions = fleet.add_subparsers(dest="fleet_command", required=True, metavar="ACTION")
    fetch = actions.add_parser(
        "fetch", help="load every store of the fleet file into one Parquet dataset"
    )
    fleet_file_option(fetch)
    fetch.add_argument(
        "--out",
        type=options.path,
        default=DEFAULT_DATASET,
        metavar="DIR",
        help="the dataset folder (default %(default)s): <DIR>/customers/store_id=<id>/...",
    )
    load_options(fetch)
    fetch.add_argument("--json", action="store_true", help="print JSON for scripts")
    fetch.set_defaults(handler=fleet_fetch)
    add_report(actions)


def fleet_fetch(args: argparse.Namespace) -> int:
    """Load the fleet; print a line per store; 1 if any store failed."""
    result = run_load(args, args.out)
    if args.json:
        frame = result.to_frame().astype({"store_id": "object"})
        rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
        print(json.dumps({"out": str(result.out), "stores": rows}, indent=2))
    else:
        for line in summary_lines(result):
            print(line)
    if result.failed:
        names = ", ".join(o.name for o in result.failed)
        print(
            f"error: {len(result.failed)} of {len(result.outcomes)} stores failed ({names}); "
            "the others are in the dataset. Fix them and run fleet fetch again.",
            file=sys.stderr,
        )
        return 1
    return 0


def summary_lines(result: Any) -> list[str]:
    """One readable line per store of a :class:`~selorax_analytics.fleet.load.FleetLoad`."""
    width = max(len(o.name) for o in result.outcomes)
    lines = []
    for o in result.outcomes:
        if o.ok:
            lines.append(
                f"ok      {o.name:<{width}}  store {o.store_id}: {numbers.count(o.customers)} "
                f"customers, {numbers.count(o.orders)} orders ({o.source}, {o.seconds:.1f} s)"
            )
        else:
            lines.append(f"FAILED  {o.name:<{width}}  {o.error}")
    done = len(result.outcomes) - len(result.failed)
    lines.append(
        f"{done} of {len(result.outcomes)} stores in {result.out} in {result.seconds:.1f} s "
        f"(at most {result.peak_in_flight} of {result.max_in_flight} requests in flight)"
    )
    return lines
