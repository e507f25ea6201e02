"""Segment files for people and platforms: spreadsheets, SMS gateways, Meta, Google, Mailchimp.

Each export takes the frame :func:`selorax_analytics.rfm_segments` returned and the customers
frame, keeps the people of one segment (one row per person, identities collapsed), normalises
their contacts and writes one file with a manifest JSON beside it. Files are written as every
file of the package is (:mod:`selorax_analytics._files`): an existing file is refused unless
``overwrite=True``, the write is atomic (a temporary file in the same folder, then a rename;
never a half-written file), the folder is created, and the file is readable by its owner only
(mode ``0600``): it holds customers' contacts.

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

In files people open (csv, xlsx, and the names of sms and mailchimp files), every text cell
that a spreadsheet would read as a formula (it starts with ``=``, ``+``, ``-``, ``@``, a tab, a
carriage return or a line feed) gets a leading ``'``; a plain number such as an E.164 phone
carries no formula and is left as it is. Columns a platform reads as data are written exactly:
the hashes of meta and google files, and the e-mail of mailchimp files (``-sales@shop.com.bd``
is a valid address, and ``'-sales@...`` would be another one).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

import pandas as pd

from selorax_analytics._files import refuse_existing, write_file
from selorax_analytics.exceptions import DataError, OutputExistsError
from selorax_analytics.exports import _contacts, _holdout, _risk, _writing
from selorax_analytics.exports._contacts import Row, guard_cell

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
    campaign
        With a hold-out, the campaign record beside the file (``<path>.campaign.json``: who was
        targeted and who held out); ``None`` otherwise.
    risk_threshold, risk_excluded
        With ``exclude_risk_above``, the threshold and how many of the segment's people it
        left out (not in ``skipped``); ``None`` and 0 otherwise.
    """

    path: Path
    manifest_path: Path
    segment: str
    format: str
    rows: int
    skipped: pd.DataFrame = field(repr=False)
    campaign: Path | None = field(default=None, repr=False)
    risk_threshold: float | None = field(default=None, repr=False)
    risk_excluded: int = field(default=0, repr=False)

    @property
    def skipped_people(self) -> int:
        """People of the segment that were not written."""
        return int((self.skipped["field"] == "person").sum())

    def summary(self) -> dict[str, object]:
        """What was written, for a person: segment, format, rows, file name, people left out, why.

        ``why`` lists each reason a person was left out with its count (``"7 no valid e-mail
        address (Mailchimp needs one)"``), ``"; "``-separated, empty when nobody was. With a
        risk threshold, ``left_out_for_risk`` says how many people it removed and why (``"12
        with a cash-on-delivery risk above 40%"``).
        """
        people = self.skipped.loc[self.skipped["field"] == "person", "reason"]
        reasons = people.value_counts(sort=True)
        why = "; ".join(f"{n:,} {reason}" for reason, n in reasons.items())
        return {
            "segment": self.segment,
            "format": self.format,
            "rows": self.rows,
            "file": self.path.name,
            "people_left_out": len(people),
            "why": why,
            **({"left_out_for_risk": self._risk_text()} if self.risk_threshold is not None else {}),
        }

    def _risk_text(self) -> str:
        return (
            f"{self.risk_excluded:,} with a cash-on-delivery risk above {self.risk_threshold:.0%}"
        )

    def __repr__(self) -> str:
        left = f"{self.skipped_people:,} people left out"
        if self.risk_threshold is not None:
            left += f" for their contacts, {self._risk_text()}"
        return (
            f"<ExportResult {self.segment!r} as {self.format}: {self.rows:,} rows in "
            f"{self.path.name}, {left}>"
        )

    def _repr_html_(self) -> str:
        from html import escape

        cells = "".join(
            f"<tr><th style='text-align:left'>{escape(k.replace('_', ' '))}</th>"
            f"<td style='text-align:left'>{escape(f'{v:,}' if isinstance(v, int) else str(v))}"
            "</td></tr>"
            for k, v in self.summary().items()
        )
        return f"<table class='selorax-export'>{cells}</table>"


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
    holdout: float | None = None,
    seed: int | None = None,
    risk: Any = None,
    exclude_risk_above: float | None = None,
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
        Replace existing files. By default an existing file (or manifest) is an error and
        nothing is written.
    holdout
        A share strictly between 0 and 1: that share of the people the file could take is kept
        out of it, drawn at random within each RFM cell (``r_score``, ``f_score``,
        ``m_score``) so both groups look alike, and a campaign record is written beside the
        file as ``<path>.campaign.json`` for :func:`selorax_analytics.campaign_report`.
        ``None`` (the default): everyone is written and no record.
    seed
        The seed of the hold-out draw: the same people, share and seed give the same groups.
        ``None`` draws a fresh seed, written in the record.
    risk, exclude_risk_above
        Leave out people whose cash-on-delivery risk (``risk``: what
        :func:`selorax_analytics.delivery_risk` returned) is above ``exclude_risk_above``
        (such as 0.4); the manifest records the threshold and how many left.

    Returns
    -------
    ExportResult
        The path, rows written and every value or person left out, with the reason.

    Raises
    ------
    DataError
        Unknown segment or format, a frame missing columns, or a ``holdout`` or ``seed`` out
        of range.
    OutputExistsError
        ``path`` or its manifest exists and ``overwrite`` is false (also a ``FileExistsError``),
        or ``path`` is a folder.

    Examples
    --------
    >>> rfm = sa.rfm_segments(orders, as_of="2026-07-01")  # doctest: +SKIP
    >>> sa.export_segment(rfm, "At Risk", "at_risk.sms.csv", customers=customers,
    ...                   format="sms")  # doctest: +SKIP
    """
    _check_format(format)
    _contacts.check_columns(rfm, _contacts.RFM_COLUMNS, "rfm")
    _check_segment(rfm, segment)
    draw = None if holdout is None else _holdout.check_holdout(holdout, seed)
    target = Path(path)
    refuse_existing(_paths(target, draw), overwrite=overwrite)
    excluded = _risk.exclusion(risk, exclude_risk_above)
    linked = _contacts.link(rfm, customers, region=region)
    return _export(linked, rfm, segment, target, format, region, overwrite, draw, excluded)


def _paths(target: Path, draw: tuple[float, int] | None) -> list[Path]:
    """The files one export writes: the file, its manifest and, with a hold-out, its record."""
    record = [_holdout.record_path(target)] if draw else []
    return [target, _writing.manifest_path(target), *record]


def _export(
    linked: _contacts.Linked,
    rfm: pd.DataFrame,
    segment: str,
    target: Path,
    format: str,
    region: str,
    overwrite: bool,
    draw: tuple[float, int] | None = None,
    excluded: _risk.Exclusion | None = None,
) -> ExportResult:
    people, skipped = _contacts.segment_people(linked, segment)
    in_segment = len(people)
    people, risk_note = _risk.without_risky(people, excluded)
    ok, reason = _eligible(people, format)
    record = None
    if draw is not None:
        strata = _holdout.person_cells(rfm, linked)
        strata = strata.reindex(people.loc[ok, "identity_id"].astype("int64"))
        held = _holdout.draw_holdout(strata, *draw)
        record = _holdout.campaign_record(
            linked=linked, cells=strata, held=held, segment=segment, format=format, file=target,
            as_of=_writing.manifest_day(rfm.attrs.get("as_of")), holdout=draw[0], seed=draw[1],
        )  # fmt: skip
        sent = ok & ~people["identity_id"].isin(held)
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
    header, rows = _ROWS[format](people.loc[ok if record is None else sent])
    raw = _contacts.PLATFORM_DATA_COLUMNS.get(format, ())
    cells = [
        [v if c in raw else guard_cell(v) for c, v in zip(header, r, strict=True)] for r in rows
    ]
    writer = _writing.write_xlsx if format == "xlsx" else _writing.write_csv
    write_file(target, lambda f: writer(f, header, cells, segment), overwrite=overwrite)
    manifest = _writing.manifest(
        rfm, segment, format, target, len(rows), len(people), skipped, region
    )
    if record is not None:
        held_out = int((ok & ~sent).sum())
        manifest["campaign"] = {"record": _holdout.record_path(target).name, "held_out": held_out}
        write_file(_holdout.record_path(target), record, overwrite=overwrite)
    if risk_note is not None:
        manifest["delivery_risk"] = risk_note
    text = json.dumps(manifest, indent=2).encode() + b"\n"
    write_file(_writing.manifest_path(target), text, overwrite=overwrite)
    campaign = _holdout.record_path(target) if record is not None else None
    risky = (excluded.threshold, in_segment - len(people)) if excluded else (None, 0)
    return ExportResult(
        target,
        _writing.manifest_path(target),
        segment,
        format,
        len(rows),
        skipped,
        campaign,
        *risky,
    )


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
    holdout: float | None = None,
    seed: int | None = None,
    risk: Any = None,
    exclude_risk_above: float | None = None,
) -> dict[str, ExportResult]:
    """Export every segment present in ``rfm`` into ``directory``, one file each.

    Files are named after the segment and the format (``cant_lose_them.meta.csv``). Nothing is
    written when any target exists and ``overwrite`` is false. Parameters are those of
    :func:`export_segment`; with ``holdout`` each segment gets its own hold-out and campaign
    record, every draw with the same ``seed`` (one fresh seed for all when ``None``).

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
    draw = None if holdout is None else _holdout.check_holdout(holdout, seed)
    folder = Path(directory)
    if folder.exists() and not folder.is_dir():
        raise OutputExistsError(
            f"{str(folder)!r} is a file; exporting every segment needs a folder (new or existing).",
            path=str(folder),
        )
    present = set(rfm["segment"].dropna().astype("str"))
    segments = [s for s in _contacts.segment_names(rfm) if s in present]
    targets = {s: folder / f"{segment_file_stem(s)}{FORMAT_SUFFIXES[format]}" for s in segments}
    refuse_existing([p for t in targets.values() for p in _paths(t, draw)], overwrite=overwrite)
    excluded = _risk.exclusion(risk, exclude_risk_above)
    linked = _contacts.link(rfm, customers, region=region)
    return {
        s: _export(linked, rfm, s, t, format, region, overwrite, draw, excluded)
        for s, t in targets.items()
    }
