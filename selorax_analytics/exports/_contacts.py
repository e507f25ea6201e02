"""Contact details for segment exports: one row per person, normalised and checked.

The RFM frame holds one row per customer record (``user_id``); a person may own several records
(a guest record and, later, an account). :func:`segment_people` collapses them with
:func:`selorax_analytics.identities` and picks, for each person, the segment of the record they
ordered on most recently. Phones become E.164 through ``phonenumbers``; e-mails are trimmed,
lower-cased and checked. Values that cannot be used are reported, never silently dropped.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pandas as pd
import phonenumbers

from selorax_analytics.exceptions import DataError

RFM_COLUMNS = ("user_id", "last_order_at", "recency_days", "frequency", "monetary", "segment")
CUSTOMER_COLUMNS = ("user_id", "name", "email", "phone", "city", "is_guest", "updated_at")

#: Reasons a value or a person was left out of an export.
INVALID_PHONE = "invalid phone number"
INVALID_EMAIL = "invalid e-mail address"
NO_CUSTOMER = "no customer record for this user_id"
SKIPPED_COLUMNS = ("identity_id", "user_id", "field", "value", "reason")

_EMAIL = re.compile(
    r"^[a-z0-9!#$%&'*+/=?^_`{|}~.-]+@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$"
)
#: Characters a spreadsheet reads as the start of a formula (OWASP CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
#: Control characters other than tab, line feed and carriage return (illegal in xlsx).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: A plain number (``+8801712345678``, ``-3``, ``12.5``) cannot carry a formula.
_PLAIN_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?$")


def normalise_email(raw: object) -> str | None:
    """The trimmed, lower-cased e-mail, or ``None`` when it is missing or malformed."""
    if not isinstance(raw, str):
        return None
    email = raw.strip().lower()
    if not email or len(email) > 254 or ".." in email or not _EMAIL.match(email):
        return None
    local = email.split("@", 1)[0]
    if local.startswith(".") or local.endswith(".") or len(local) > 64:
        return None
    return email


def phone_region(e164: str) -> str | None:
    """ISO region of an E.164 number (``"BD"`` for ``+8801712345678``)."""
    if e164.startswith("+880"):
        return "BD"
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return None


def guard_cell(value: object) -> object:
    """Text made safe for a spreadsheet; other values pass through.

    Control characters no spreadsheet can hold are dropped first (so they cannot hide a
    formula), then text a spreadsheet would read as a formula gets a leading ``'``.
    """
    if not isinstance(value, str):
        return value
    text = _CONTROL.sub("", value)
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def split_name(name: object) -> tuple[str, str]:
    """``("Rahim", "Karim Hasan")`` from ``"Rahim Karim Hasan"``; blanks for a missing name."""
    if not isinstance(name, str):
        return "", ""
    parts = name.split()
    if not parts:
        return "", ""
    return parts[0], " ".join(parts[1:])


def check_columns(frame: pd.DataFrame, needed: Iterable[str], what: str) -> None:
    """Raise :class:`DataError` naming every column of ``needed`` that ``frame`` lacks."""
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise DataError(
            f"`{what}` lacks the column(s) {missing}; it needs {list(needed)}. "
            f"Pass the frame {'rfm_segments' if what == 'rfm' else 'load_customers'} returned."
        )


def segment_names(rfm: pd.DataFrame) -> list[str]:
    """Segments an export can name: the categories of ``segment``, else the values present."""
    column = rfm["segment"]
    if isinstance(column.dtype, pd.CategoricalDtype):
        return [str(c) for c in column.cat.categories]
    return sorted(str(s) for s in column.dropna().unique())


def _people_of(rfm: pd.DataFrame, records: pd.DataFrame) -> pd.DataFrame:
    """One row per identity with an RFM row: its segment and its combined figures."""
    joined = rfm.merge(records[["user_id", "identity_id"]], on="user_id", how="inner")
    joined = joined.sort_values(
        ["identity_id", "last_order_at", "monetary", "user_id"],
        ascending=[True, False, False, True],
        kind="stable",
    )
    grouped = joined.groupby("identity_id", sort=True)
    people = grouped.agg(
        segment=("segment", "first"),
        recency_days=("recency_days", "min"),
        frequency=("frequency", "sum"),
        monetary=("monetary", "sum"),
    )
    return people.reset_index()


def _identity_records(customers: pd.DataFrame, region: str) -> pd.DataFrame:
    from selorax_analytics.analytics.conversion import identities

    linked = identities(customers, region=region)
    records = customers[list(CUSTOMER_COLUMNS)].copy()
    records["identity_id"] = linked["identity_id"].to_numpy()
    # The identities' own E.164 phones, so linking and exporting agree on every number.
    records["phone_e164"] = linked["phone_e164"].to_numpy()
    # Preferred record first: an account over a guest record, then the latest touched.
    return records.sort_values(
        ["identity_id", "is_guest", "updated_at", "user_id"],
        ascending=[True, True, False, False],
        kind="stable",
    )


def _first_valid(records: pd.DataFrame, column: str) -> pd.Series:
    """Per identity, the first non-missing value of ``column`` in preference order."""
    present = records.dropna(subset=[column])
    return present.groupby("identity_id", sort=False)[column].first()


@dataclass(frozen=True)
class Linked:
    """Customer records joined into people, and every person's segment and figures."""

    records: pd.DataFrame
    people: pd.DataFrame
    orphans: pd.DataFrame


def link(rfm: pd.DataFrame, customers: pd.DataFrame, *, region: str) -> Linked:
    """Check both frames and collapse their records into people (once for many segments)."""
    check_columns(rfm, RFM_COLUMNS, "rfm")
    check_columns(customers, CUSTOMER_COLUMNS, "customers")
    records = _identity_records(customers, region)
    orphans = rfm.loc[~rfm["user_id"].isin(records["user_id"])]
    return Linked(records, _people_of(rfm, records), orphans)


def segment_people(linked: Linked, segment: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The people of ``segment`` with checked contacts, and what was left out.

    Returns
    -------
    people
        One row per person: ``identity_id``, ``user_id`` (the preferred record), ``name``,
        ``first_name``, ``last_name``, ``phone`` (E.164 or missing), ``phone_region``,
        ``email`` (normalised or missing), ``city``, ``segment``, ``recency_days``,
        ``frequency``, ``monetary``.
    skipped
        ``identity_id``, ``user_id``, ``field``, ``value``, ``reason``: records without a
        customer, and every phone or e-mail that could not be used.
    """
    records, orphans = linked.records, linked.orphans
    people = linked.people.loc[linked.people["segment"].astype("str") == segment]
    mine = records.loc[records["identity_id"].isin(people["identity_id"])].copy()
    skipped = [_orphan_rows(orphans.loc[orphans["segment"].astype("str") == segment])]

    parsed = mine["phone_e164"]
    bad_phone = parsed.isna() & mine["phone"].notna() & (mine["phone"].str.strip() != "")
    skipped.append(_value_rows(mine.loc[bad_phone], "phone", INVALID_PHONE))
    emails = mine["email"].map(normalise_email)
    bad_email = emails.isna() & mine["email"].notna() & (mine["email"].str.strip() != "")
    skipped.append(_value_rows(mine.loc[bad_email], "email", INVALID_EMAIL))
    mine["email"] = emails.astype("str")

    preferred = mine.groupby("identity_id", sort=False).first()[["user_id", "name"]]
    numbers = _first_valid(mine, "phone_e164")
    out = people.set_index("identity_id").join(preferred)
    out["phone"] = numbers.reindex(out.index).astype("str")
    regions = {p: phone_region(p) for p in numbers.unique()}
    out["phone_region"] = out["phone"].map(regions).astype("str")
    out["email"] = _first_valid(mine, "email").reindex(out.index).astype("str")
    out["city"] = _first_valid(mine, "city").reindex(out.index).astype("str")
    names = out["name"].map(split_name)
    out["first_name"] = names.str[0].astype("str")
    out["last_name"] = names.str[1].astype("str")
    out = out.reset_index().sort_values(["monetary", "identity_id"], ascending=[False, True])
    return out.reset_index(drop=True), _concat_skipped(skipped)


def _orphan_rows(orphans: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "identity_id": pd.NA,
            "user_id": orphans["user_id"].to_numpy(),
            "field": "person",
            "value": None,
            "reason": NO_CUSTOMER,
        }
    )


def _value_rows(records: pd.DataFrame, field: str, reason: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "identity_id": records["identity_id"].to_numpy(),
            "user_id": records["user_id"].to_numpy(),
            "field": field,
            "value": records[field].to_numpy(),
            "reason": reason,
        }
    )


def _concat_skipped(parts: list[pd.DataFrame]) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    if not parts:
        return empty_skipped()
    out = pd.concat(parts, ignore_index=True)
    return typed_skipped(out)


def empty_skipped() -> pd.DataFrame:
    """A skipped-values frame with no rows."""
    return typed_skipped(pd.DataFrame({c: [] for c in SKIPPED_COLUMNS}))


def typed_skipped(frame: pd.DataFrame) -> pd.DataFrame:
    """The skipped-values frame with its dtypes: Int64 ids, ``str`` text."""
    return pd.DataFrame(
        {
            "identity_id": frame["identity_id"].astype("Int64"),
            "user_id": frame["user_id"].astype("Int64"),
            "field": frame["field"].astype("str"),
            "value": frame["value"].astype("str"),
            "reason": frame["reason"].astype("str"),
        }
    )


# --- rows of each file format ---------------------------------------------------------------

PEOPLE_COLUMNS = (
    "user_id",
    "name",
    "phone",
    "email",
    "city",
    "segment",
    "recency_days",
    "frequency",
    "monetary",
)
META_COLUMNS = ("email", "phone", "fn", "ln", "ct", "country")
GOOGLE_COLUMNS = ("Email", "Phone")
MAILCHIMP_COLUMNS = ("Email Address", "First Name", "Last Name", "Phone", "Tags")
SMS_COLUMNS = ("phone", "name")
#: Columns a platform reads as data: written exactly as they are, without the formula guard
#: (a hash never starts like a formula; an e-mail such as ``-sales@shop.com.bd`` may, and a
#: ``'`` before it would make another address).
PLATFORM_DATA_COLUMNS: dict[str, tuple[str, ...]] = {
    "meta": META_COLUMNS,
    "google": GOOGLE_COLUMNS,
    "mailchimp": ("Email Address",),
}


def _sha256(value: object) -> str:
    """Hex SHA-256 of a non-empty text; empty for a missing value (never the hash of "")."""
    if not isinstance(value, str) or not value:
        return ""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


#: Unicode categories kept in Meta's names and cities: letters, combining marks (the vowel
#: signs and virama of Bengali: ``রহিম`` keeps its ``ি``), digits. Punctuation, symbols, spaces
#: and invisible format characters (zero-width joiners) are removed.
_META_KEPT = ("L", "M", "N")


def meta_text(value: object) -> str:
    """A name or city normalised as Meta documents, before hashing.

    Unicode NFC first (so a letter typed as base plus combining mark and the precomposed letter
    agree), then trimmed and lower-cased, then punctuation, symbols and spaces removed; the
    result is NFC again (lower-casing can decompose) and is hashed as UTF-8.
    ``" Rahim-Uddin "`` gives ``"rahimuddin"`` and ``"রহিম"`` stays ``"রহিম"``.
    """
    if not isinstance(value, str):
        return ""
    lowered = unicodedata.normalize("NFC", value).strip().lower()
    kept = "".join(ch for ch in lowered if unicodedata.category(ch)[0] in _META_KEPT)
    return unicodedata.normalize("NFC", kept)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


Row = list[Any]


def _records(people: pd.DataFrame) -> list[SimpleNamespace]:
    """Rows as light objects (column lists zipped: much faster than ``to_dict``)."""
    columns = [str(c) for c in people.columns]
    values = [people[c].tolist() for c in people.columns]
    return [
        SimpleNamespace(**dict(zip(columns, row, strict=True))) for row in zip(*values, strict=True)
    ]


def people_rows(people: pd.DataFrame) -> tuple[Sequence[str], list[Row]]:
    rows = [
        [
            int(p.user_id),
            _text(p.name),
            _text(p.phone),
            _text(p.email),
            _text(p.city),
            str(p.segment),
            int(p.recency_days),
            int(p.frequency),
            round(float(p.monetary), 2),
        ]
        for p in _records(people)
    ]
    return PEOPLE_COLUMNS, rows


def sms_rows(people: pd.DataFrame) -> tuple[Sequence[str], list[Row]]:
    rows = [[_text(p.phone).removeprefix("+"), _text(p.name)] for p in _records(people)]
    return SMS_COLUMNS, rows


def meta_rows(people: pd.DataFrame) -> tuple[Sequence[str], list[Row]]:
    rows: list[Row] = []
    for p in _records(people):
        rows.append(
            [
                _sha256(_text(p.email)),
                _sha256(_text(p.phone).removeprefix("+")),
                _sha256(meta_text(p.first_name)),
                _sha256(meta_text(p.last_name)),
                _sha256(meta_text(p.city)),
                _sha256(_text(p.phone_region).lower()),
            ]
        )
    return META_COLUMNS, rows


def google_rows(people: pd.DataFrame) -> tuple[Sequence[str], list[Row]]:
    rows: list[Row] = [[_sha256(_text(p.email)), _sha256(_text(p.phone))] for p in _records(people)]
    return GOOGLE_COLUMNS, rows


def mailchimp_rows(people: pd.DataFrame) -> tuple[Sequence[str], list[Row]]:
    rows: list[Row] = [
        [
            _text(p.email),
            _text(p.first_name),
            _text(p.last_name),
            _text(p.phone),
            str(p.segment),
        ]
        for p in _records(people)
    ]
    return MAILCHIMP_COLUMNS, rows
