"""Segment files for people and platforms: spreadsheets, SMS gateways, Meta, Google, Mailchimp.

Each export takes the frame :func:`selorax_analytics.rfm_segments` returned and the customers
frame, keeps the people of one segment (one row per person, identities collapsed), normalises
their contacts and writes one file, atomically, with a manifest JSON beside it.

==========  ==================================================================================
format      file
==========  ==================================================================================
csv         ``user_id, name, phone, email, city, segment, recency_days, frequency, monetary``
xlsx        the same columns in an Excel workbook, one sheet
sms         ``phone, name`` with ``phone`` as Bangladeshi gateways take it: ``8801XXXXXXXXX``
meta        Meta Custom Audience customer list: ``email, phone, fn, ln, ct, country``, each the
            SHA-256 of the value normalised as Meta documents (phone: digits with country code)
google      Google Ads Customer Match: ``Email, Phone``, SHA-256 of the lower-cased e-mail and of
            the phone in E.164 (with ``+``)
mailchimp   ``Email Address, First Name, Last Name, Phone, Tags`` (Tags is the segment)
==========  ==================================================================================

Every text cell that a spreadsheet would read as a formula (it starts with ``=``, ``+``, ``-``,
``@``, a tab, a carriage return or a line feed) gets a leading ``'``; a plain number such as an
E.164 phone carries no formula and is left as it is.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, get_args

import pandas as pd

from selorax_analytics import _contacts
from selorax_analytics._contacts import Row, guard_cell
from selorax_analytics._version import __version__
from selorax_analytics.exceptions import DataError

ExportFormat = Literal["csv", "xlsx", "sms", "meta", "google", "mailchimp"]
EXPORT_FORMATS: tuple[str, ...] = get_args(ExportFormat)
#: File name ending of each format (``champions.meta.csv``).
FORMAT_SUFFIXES: dict[str, str] = {
    "csv": ".csv",
    "xlsx": ".xlsx",
    "sms": ".sms.csv",
    "meta": ".meta.csv",
    "google": ".google.csv",
    "mailchimp": ".mailchimp.csv",
}
NO_CONTACT = "no valid phone or e-mail"
NO_SMS_PHONE = "no valid Bangladeshi mobile number"
NO_EMAIL = "no valid e-mail address (Mailchimp needs one)"


@dataclass(frozen=True, eq=False)
class ExportResult:
    """What one export wrote.

    Attributes
    ----------
    path
        The file written.
    manifest_path
        The manifest JSON beside it.
    segment, format
        What was exported and how.
    rows
        Data rows written (people).
    skipped
        One row per value or person left out: ``identity_id``, ``user_id``, ``field``
        (``"phone"``, ``"email"`` or ``"person"``), ``value`` and ``reason``. A person whose
        phone is invalid but whose e-mail is usable is still written, without the phone.
    """

    path: Path
    manifest_path: Path
    segment: str
    format: str
    rows: int
    skipped: pd.DataFrame = field(repr=False)

    @property
    def skipped_people(self) -> int:
        """People of the segment that were not written."""
        return int((self.skipped["field"] == "person").sum())


Rows = Callable[[pd.DataFrame], tuple[Sequence[str], list[Row]]]
_ROWS: dict[str, Rows] = {
    "csv": _contacts.people_rows,
    "xlsx": _contacts.people_rows,
    "sms": _contacts.sms_rows,
    "meta": _contacts.meta_rows,
    "google": _contacts.google_rows,
    "mailchimp": _contacts.mailchimp_rows,
}


def _eligible(people: pd.DataFrame, format: str) -> tuple[pd.Series, str]:
    """Which people a format can take, and the reason for those it cannot."""
    if format == "sms":
        ok = people["phone_region"].eq("BD") & people["phone"].str.startswith("+8801")
        return ok.fillna(False).astype(bool), NO_SMS_PHONE
    if format == "mailchimp":
        return people["email"].notna(), NO_EMAIL
    return people["phone"].notna() | people["email"].notna(), NO_CONTACT


def _check_format(format: str) -> None:
    if format not in EXPORT_FORMATS:
        raise DataError(f"`format` must be one of {list(EXPORT_FORMATS)}, got {format!r}.")


def _check_segment(rfm: pd.DataFrame, segment: str) -> None:
    valid = _contacts.segment_names(rfm)
    if segment not in valid:
        raise DataError(
            f"Unknown segment {segment!r}; the `rfm` frame has {valid}. "
            "Pick one of these (names are case-sensitive)."
        )


def export_segment(
    rfm: pd.DataFrame,
    segment: str,
    path: str | os.PathLike[str],
    *,
    customers: pd.DataFrame,
    format: ExportFormat = "csv",
    region: str = "BD",
    overwrite: bool = False,
) -> ExportResult:
    """Write the people of one RFM segment to a file for a person or a platform.

    Parameters
    ----------
    rfm
        The frame :func:`selorax_analytics.rfm_segments` returned (``user_id``,
        ``last_order_at``, ``recency_days``, ``frequency``, ``monetary``, ``segment``);
        ``rfm.attrs["as_of"]``, when set, goes into the manifest.
    segment
        A segment name present in ``rfm`` (such as ``"Champions"``).
    path
        The file to write. A manifest is written beside it as ``<path>.manifest.json``.
    customers
        The customers frame (``load_customers``): names and contacts. Records of one person
        (by phone or e-mail) are collapsed; the person is exported under the segment of the
        record they ordered on most recently, with recency the least and frequency and
        monetary the sums over their records.
    format
        One of ``"csv"``, ``"xlsx"``, ``"sms"``, ``"meta"``, ``"google"``, ``"mailchimp"``.
    region
        Region for phones written without a country code (ISO 3166, default Bangladesh).
    overwrite
        Replace existing files. By default an existing file is an error.

    Returns
    -------
    ExportResult
        The path, rows written and every value or person left out, with the reason.

    Raises
    ------
    DataError
        Unknown segment or format, or a frame missing columns.
    FileExistsError
        ``path`` or its manifest exists and ``overwrite`` is false.

    Examples
    --------
    >>> rfm = sa.rfm_segments(orders, as_of="2026-07-01")  # doctest: +SKIP
    >>> sa.export_segment(rfm, "At Risk", "at_risk.sms.csv", customers=customers,
    ...                   format="sms")  # doctest: +SKIP
    """
    _check_format(format)
    _contacts.check_columns(rfm, _contacts.RFM_COLUMNS, "rfm")
    _check_segment(rfm, segment)
    target = Path(path)
    _refuse_existing([target, _manifest_path(target)], overwrite)
    linked = _contacts.link(rfm, customers, region=region)
    return _export(linked, rfm, segment, target, format, region, overwrite)


def _export(
    linked: _contacts.Linked,
    rfm: pd.DataFrame,
    segment: str,
    target: Path,
    format: str,
    region: str,
    overwrite: bool,
) -> ExportResult:
    people, skipped = _contacts.segment_people(linked, segment)
    ok, reason = _eligible(people, format)
    left_out = people.loc[~ok]
    person_rows = pd.DataFrame(
        {
            "identity_id": left_out["identity_id"].to_numpy(),
            "user_id": left_out["user_id"].to_numpy(),
            "field": "person",
            "value": None,
            "reason": reason,
        }
    )
    parts = [s for s in (skipped, person_rows) if len(s)]
    skipped = _contacts.typed_skipped(pd.concat(parts, ignore_index=True)) if parts else skipped
    header, rows = _ROWS[format](people.loc[ok])
    writer = _write_xlsx if format == "xlsx" else _write_csv
    _atomic_write(target, lambda f: writer(f, header, rows, segment), overwrite)
    manifest = _manifest(rfm, segment, format, target, len(rows), len(people), skipped, region)
    _atomic_write(
        _manifest_path(target),
        lambda f: f.write_bytes(json.dumps(manifest, indent=2).encode() + b"\n"),
        overwrite,
    )
    return ExportResult(target, _manifest_path(target), segment, format, len(rows), skipped)


def segment_file_stem(segment: str) -> str:
    """``"Can't Lose Them"`` -> ``"cant_lose_them"``: how export files are named."""
    slug = re.sub(r"[^a-z0-9]+", "_", segment.lower().replace("'", "")).strip("_")
    return slug or "segment"


def export_segments(
    rfm: pd.DataFrame,
    directory: str | os.PathLike[str],
    *,
    customers: pd.DataFrame,
    format: ExportFormat = "csv",
    region: str = "BD",
    overwrite: bool = False,
) -> dict[str, ExportResult]:
    """Export every segment present in ``rfm`` into ``directory``, one file each.

    Files are named after the segment and the format (``cant_lose_them.meta.csv``). Nothing is
    written when any target exists and ``overwrite`` is false. Parameters are those of
    :func:`export_segment`.

    Returns
    -------
    dict
        Segment name to its :class:`ExportResult`, in the order of ``segment_names``.

    Examples
    --------
    >>> sa.export_segments(rfm, "exports", customers=customers, format="google")  # doctest: +SKIP
    """
    _check_format(format)
    _contacts.check_columns(rfm, _contacts.RFM_COLUMNS, "rfm")
    folder = Path(directory)
    present = set(rfm["segment"].dropna().astype("str"))
    segments = [s for s in _contacts.segment_names(rfm) if s in present]
    targets = {s: folder / f"{segment_file_stem(s)}{FORMAT_SUFFIXES[format]}" for s in segments}
    _refuse_existing([p for t in targets.values() for p in (t, _manifest_path(t))], overwrite)
    linked = _contacts.link(rfm, customers, region=region)
    folder.mkdir(parents=True, exist_ok=True)
    return {s: _export(linked, rfm, s, t, format, region, overwrite) for s, t in targets.items()}


def _manifest_path(path: Path) -> Path:
    return path.with_name(path.name + ".manifest.json")


def _refuse_existing(paths: Sequence[Path], overwrite: bool) -> None:
    if overwrite:
        return
    existing = [str(p) for p in paths if p.exists()]
    if existing:
        raise FileExistsError(
            f"Refusing to overwrite {existing}; pass overwrite=True (--overwrite) to replace, "
            "or choose another path."
        )


def _atomic_write(target: Path, write: Callable[[Path], object], overwrite: bool) -> None:
    """Write through a temporary file in the same folder, then move it into place."""
    if not target.parent.is_dir():
        raise FileNotFoundError(f"The folder {str(target.parent)!r} does not exist; create it.")
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(handle)
    tmp = Path(name)
    try:
        write(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        if overwrite:
            os.replace(tmp, target)
        else:
            _link_no_clobber(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _link_no_clobber(tmp: Path, target: Path) -> None:
    """Move ``tmp`` to ``target`` only if ``target`` does not exist, atomically."""
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise FileExistsError(
            f"Refusing to overwrite {str(target)!r}; pass overwrite=True (--overwrite)."
        ) from None
    except OSError:  # file systems without hard links
        if target.exists():
            raise FileExistsError(
                f"Refusing to overwrite {str(target)!r}; pass overwrite=True (--overwrite)."
            ) from None
        os.replace(tmp, target)


def _write_csv(path: Path, header: Sequence[str], rows: list[Row], _: str) -> None:
    import csv

    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows([[guard_cell(v) for v in row] for row in rows])


def _write_xlsx(path: Path, header: Sequence[str], rows: list[Row], segment: str) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    title = re.sub(r"[\[\]:*?/\\']", " ", segment).strip()[:31] or "segment"
    sheet = book.create_sheet(title)
    sheet.append(list(header))
    for row in rows:
        # XML stores a carriage return as a line feed; say so rather than let it change.
        sheet.append([_xlsx_text(guard_cell(v)) for v in row])
    book.save(path)


def _xlsx_text(value: object) -> object:
    return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _manifest(
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
        "as_of": None if as_of is None else str(pd.Timestamp(as_of).isoformat()),
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
