"""Writing one segment export: the file (CSV or Excel) and the manifest JSON beside it.

The manifest holds counts only (people, rows, what was left out and why), the file's SHA-256,
the as-of day and the package version: no contact detail and no credential.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from selorax_analytics._version import __version__
from selorax_analytics.exports._contacts import Row


def manifest_path(path: Path) -> Path:
    """The manifest beside an export: ``<file>.manifest.json``."""
    return path.with_name(path.name + ".manifest.json")


def write_csv(path: Path, header: Sequence[str], rows: list[Row], _: str) -> None:
    import csv

    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def write_xlsx(path: Path, header: Sequence[str], rows: list[Row], segment: str) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    title = re.sub(r"[\[\]:*?/\\']", " ", segment).strip()[:31] or "segment"
    sheet = book.create_sheet(title)
    sheet.append(list(header))
    for row in rows:
        # XML stores a carriage return as a line feed; say so rather than let it change.
        sheet.append([_xlsx_text(v) for v in row])
    book.save(path)


def _xlsx_text(value: object) -> object:
    return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest_day(as_of: object) -> str | None:
    """``rfm.attrs["as_of"]`` for the manifest: ISO 8601, or as it was set when it is not a date."""
    from selorax_analytics._dates import NotADateError, parse

    if as_of is None:
        return None
    try:
        return parse(as_of).isoformat()
    except NotADateError:
        return str(as_of)


def manifest(
    rfm: pd.DataFrame,
    segment: str,
    format: str,
    path: Path,
    rows: int,
    people: int,
    skipped: pd.DataFrame,
    region: str,
) -> dict[str, object]:
    """What was exported, with counts only: no contact detail and no credential."""
    as_of = rfm.attrs.get("as_of")
    reasons = skipped.groupby(["field", "reason"]).size().reset_index(name="n")
    return {
        "file": path.name,
        "segment": segment,
        "format": format,
        "as_of": manifest_day(as_of),
        "region": region,
        "counts": {
            "people": people,
            "rows": rows,
            "skipped_people": int((skipped["field"] == "person").sum()),
            "skipped_values": int((skipped["field"] != "person").sum()),
            "skipped_by_reason": {
                f"{f}: {r}": int(n)
                for f, r, n in zip(reasons["field"], reasons["reason"], reasons["n"], strict=True)
            },
        },
        "sha256": _file_sha256(path),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "package_version": __version__,
    }
