"""The report's folder (or file): what counts as an earlier report, and what is refused.

:func:`selorax_analytics.build_report` writes into a folder that is new, empty or holds an
earlier report; one holding anything else is refused unless ``overwrite=True``. Nothing in the
folder is ever deleted. The single-file report (``single_file=True``) writes one ``.html`` file,
refused when it exists unless ``overwrite=True``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from selorax_analytics._files import refuse_existing
from selorax_analytics.exceptions import OutputExistsError, ReportError

#: The folder of full tables beside the pages: ``sa.style`` writes ``<name>.csv`` there.
TABLES_FOLDER = "tables"


def check_folder(out: Path, stems: Sequence[str], *, overwrite: bool) -> None:
    """Refuse a report folder that is a file, or that holds what no report writes.

    An earlier report's files are ``index.html``, ``summary.json``, ``exports/``, ``tables/``
    (when it holds only ``.csv`` files), the pages ``NN_topic.html`` (or ``<stem>.html`` of the
    notebooks being run), and the temporary files of an interrupted write (``.<name>.*.tmp``).
    """
    if out.exists() and not out.is_dir():
        raise OutputExistsError(
            f"{str(out)!r} is a file; the report needs a folder (new or empty, or an earlier "
            "report's).",
            path=str(out),
        )
    if overwrite or not out.is_dir():
        return
    pages = {f"{stem}.html" for stem in stems}
    foreign = sorted(e.name for e in out.iterdir() if not _report_entry(e, pages))
    if foreign:
        shown = ", ".join(foreign[:3]) + (
            f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
        )
        raise OutputExistsError(
            f"{str(out)!r} holds files that are not part of a report ({shown}); choose a new or "
            "empty folder, or pass --overwrite (overwrite=True) to write the report into it "
            "(files of the report's names are replaced, the others left).",
            path=str(out),
        )


def check_single_file(path: Path, *, overwrite: bool) -> None:
    """Refuse a single-file report's path that is not an ``.html`` file name, or that exists.

    A folder is refused even with ``overwrite`` (it is never replaced).
    """
    refuse_existing([path], overwrite=overwrite)
    if path.suffix.lower() not in (".html", ".htm"):
        raise ReportError(
            f"{str(path)!r} is not an .html file name; the single-file report is one HTML file, "
            "such as report.html (a folder is the default form, without --single-file)."
        )


_PAGE = re.compile(r"[0-9][0-9]_[^/]*\.html")
_TEMPORARY = re.compile(r"\..+\.tmp")
_TABLE = re.compile(r"[^/]+\.csv")


def _report_entry(entry: Path, pages: set[str]) -> bool:
    if entry.name == "exports":
        return entry.is_dir() and not entry.is_symlink()
    if entry.name == TABLES_FOLDER:
        return _tables_folder(entry)
    if entry.is_symlink() or not entry.is_file():
        return False
    name = entry.name
    return (
        name in ("index.html", "summary.json")
        or name in pages
        or bool(_PAGE.fullmatch(name) or _TEMPORARY.fullmatch(name))
    )


def _tables_folder(entry: Path) -> bool:
    """An earlier report's ``tables/``: a real folder of ``.csv`` files (and temporary files)."""
    if entry.is_symlink() or not entry.is_dir():
        return False
    return all(
        f.is_file()
        and not f.is_symlink()
        and bool(_TABLE.fullmatch(f.name) or _TEMPORARY.fullmatch(f.name))
        for f in entry.iterdir()
    )
