"""The report's folder: what counts as an earlier report, and when the folder is refused.

:func:`selorax_analytics.build_report` writes into a folder that is new, empty or holds an
earlier report; one holding anything else is refused unless ``overwrite=True``. Nothing in the
folder is ever deleted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from selorax_analytics.exceptions import OutputExistsError


def check_folder(out: Path, stems: Sequence[str], *, overwrite: bool) -> None:
    """Refuse a report folder that is a file, or that holds what no report writes.

    An earlier report's files are ``index.html``, ``summary.json``, ``exports/``, the pages
    ``NN_topic.html`` (or ``<stem>.html`` of the notebooks being run), and the temporary files
    of an interrupted write (``.<name>.*.tmp``).
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


_PAGE = re.compile(r"[0-9][0-9]_[^/]*\.html")
_TEMPORARY = re.compile(r"\..+\.tmp")


def _report_entry(entry: Path, pages: set[str]) -> bool:
    if entry.name == "exports":
        return entry.is_dir() and not entry.is_symlink()
    if entry.is_symlink() or not entry.is_file():
        return False
    name = entry.name
    return (
        name in ("index.html", "summary.json")
        or name in pages
        or bool(_PAGE.fullmatch(name) or _TEMPORARY.fullmatch(name))
    )
