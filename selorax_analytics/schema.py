"""The typed frames every part of the package agrees on.

``load_customers`` and ``load_orders`` return frames with exactly these columns (the API's field
names) and dtypes, fresh or cached; the analytics take them as input. Extra columns that the API
may add later are kept after these ones.

Customers
    ``user_id`` and ``store_id`` (Int64), ``name``, ``email``, ``phone`` (str, email nullable),
    ``address_json`` (JSON text, nullable: an object as ``json.dumps`` writes it, other text as
    sent), ``address``, ``city``, ``area`` (flattened from ``address_json``), ``is_guest``
    (bool), ``created_at`` and ``updated_at`` (UTC, microseconds), ``total_orders`` (Int64),
    ``total_spent`` (float, taka).
Orders
    ``order_id``, ``store_id``, ``user_id`` (Int64), ``order_status``, ``financial_status``,
    ``fulfillment_status``, ``payment_method`` (category), ``sub_total``, ``tax``, ``shipping``,
    ``discount``, ``grand_total`` (float, taka), ``note`` (str, nullable), ``created_at``,
    ``updated_at`` (UTC, microseconds).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime

import numpy as np
import pandas as pd

from selorax_analytics.exceptions import DataError

DATETIME = "datetime64[us, UTC]"

CUSTOMER_DTYPES: dict[str, str] = {
    "user_id": "Int64",
    "store_id": "Int64",
    "name": "str",
    "email": "str",
    "phone": "str",
    "address_json": "str",
    "address": "str",
    "city": "str",
    "area": "str",
    "is_guest": "bool",
    "created_at": DATETIME,
    "updated_at": DATETIME,
    "total_orders": "Int64",
    "total_spent": "float64",
}
ORDER_DTYPES: dict[str, str] = {
    "order_id": "Int64",
    "store_id": "Int64",
    "user_id": "Int64",
    "order_status": "category",
    "financial_status": "category",
    "fulfillment_status": "category",
    "sub_total": "float64",
    "tax": "float64",
    "shipping": "float64",
    "discount": "float64",
    "grand_total": "float64",
    "payment_method": "category",
    "note": "str",
    "created_at": DATETIME,
    "updated_at": DATETIME,
}
MONEY_COLUMNS = ("sub_total", "tax", "shipping", "discount", "grand_total")
ADDRESS_FIELDS = ("address", "city", "area")


def _address_object(value: object) -> Mapping[str, object] | None:
    """The address ``value`` holds: an object as sent, or JSON text of an object; else None."""
    if isinstance(value, Mapping):
        return value
    if isinstance(value, str) and value:
        try:
            parsed = json.loads(value)
        except (ValueError, RecursionError):
            return None  # malformed text is kept as it is, with no flattened fields
        return parsed if isinstance(parsed, dict) else None
    return None


def _address_field(found: Mapping[str, object] | None, field: str) -> object:
    value = None if found is None else found.get(field)
    return None if value is None else str(value)


def _is_null(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def _address_text(value: object, found: Mapping[str, object] | None) -> object:
    """``address_json`` as the frame keeps it: one JSON text per address, however it was sent."""
    if found is not None:
        # an object, sent as such or as JSON text, written as json.dumps writes it (key order
        # kept as sent, as the platform and the generator write it)
        return json.dumps(found, ensure_ascii=False)
    if _is_null(value):
        return None
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def coerce_customers(frame: pd.DataFrame) -> pd.DataFrame:
    """Type a frame of customer records (API field names) into :data:`CUSTOMER_DTYPES`.

    Ids, counts and money may be numbers or numeric text; ``is_guest`` 0/1, true/false or
    ``"0"``/``"1"``; times ISO 8601 with any precision and offset. ``address_json`` may hold
    objects (dicts, as parsed from JSON) or JSON text: an object either way is kept as
    ``json.dumps(value, ensure_ascii=False)`` and flattened into ``address``, ``city`` and
    ``area``; text that is not a JSON object is kept as sent, its flattened fields null.
    Unknown columns are kept at the end.

    Parameters
    ----------
    frame : DataFrame
        One row per record, as ``DataFrame.from_records`` makes of the API's records.

    Returns
    -------
    DataFrame
        The typed frame, rows in the order given.

    Raises
    ------
    DataError
        When a required field is missing from every record (the message lists every field a
        record needs), a ``user_id`` is missing, or a value cannot be typed: the message names
        the field, the record (its position, and its id) and the value.
    """
    out = frame.copy()
    if "address_json" not in out:
        out["address_json"] = None
    raw = out["address_json"].astype(object)
    found = [_address_object(v) for v in raw]
    out["address_json"] = pd.Series(
        [_address_text(v, f) for v, f in zip(raw, found, strict=True)],
        index=out.index,
        dtype=object,
    )
    for field in ADDRESS_FIELDS:
        out[field] = pd.Series(
            [_address_field(f, field) for f in found], index=out.index, dtype=object
        )
    for column in ("total_orders", "total_spent", "email"):
        if column not in out:
            out[column] = None
    return _coerce(out, CUSTOMER_DTYPES, "user_id")


def coerce_orders(frame: pd.DataFrame) -> pd.DataFrame:
    """Type a frame of orders (API field names) into :data:`ORDER_DTYPES`.

    Money arrives as numbers or numeric text (``"1460.00"``) and becomes float taka; ids as
    numbers or numeric text. Raises :class:`DataError` as :func:`coerce_customers` does (an
    ``order_id`` missing, a value that cannot be typed, a required field in no record).
    """
    out = frame.copy()
    if "note" not in out:
        out["note"] = None
    return _coerce(out, ORDER_DTYPES, "order_id")


_EXPECTED = {
    "bool": "0/1 or true/false (or the text '0'/'1')",
    "Int64": "a whole number that fits 64 bits",
    "float64": "a number or numeric text such as '1460.00'",
    DATETIME: "an ISO 8601 time such as '2026-06-30T18:00:00.000Z'",
}
_SHOWN_LENGTH = 60  # characters of a bad value a message shows


def _shown(value: object) -> str:
    """``value`` for a message: its repr, cut short when long; 'missing' for a null."""
    if isinstance(value, np.generic):
        value = value.item()
    if _is_null(value):
        return "missing"
    text = repr(value)
    if len(text) > _SHOWN_LENGTH:
        text = f"{text[: _SHOWN_LENGTH - 3]}... ({len(text):,} characters)"
    return text


class _Records:
    """Where a value sits, for messages: the record's position as given and its id."""

    def __init__(self, frame: pd.DataFrame, id_field: str) -> None:
        self.frame, self.id_field = frame, id_field

    def bad(self, name: str, at: int, expected: str) -> DataError:
        """The DataError for field ``name`` of record ``at`` (a position) holding a bad value."""
        value = self.frame[name].iloc[at]
        where = f"record {at} (counting from 0"
        if name != self.id_field and self.id_field in self.frame:
            key = self.frame[self.id_field].iloc[at]
            where += f", {self.id_field} {_shown(key)}" if not _is_null(key) else ""
        return DataError(
            f"`{name}` of {where}) is {_shown(value)}, not {expected}; fix or drop that record "
            "(the records should be the API's, unchanged)."
        )


def _number_parsed(value: object) -> float:
    """One value as ``pd.to_numeric`` reads it, NaN when it cannot (the slow, exact way)."""
    try:
        return float(pd.to_numeric(pd.Series([value], dtype=object), errors="raise").iloc[0])
    except (ValueError, TypeError, OverflowError):
        return float("nan")


def _first_bad_number(values: pd.Series, dtype: str, nullable: bool) -> int | None:
    """Position of the first value of ``values`` that is not of ``dtype``, or None."""
    objects = values.astype(object)
    try:
        parsed = pd.to_numeric(objects, errors="coerce").astype("float64")
    except (ValueError, TypeError, OverflowError):
        parsed = pd.Series([_number_parsed(v) for v in objects], dtype="float64")
    wrong = parsed.isna().to_numpy()
    if dtype == "Int64":
        finite = np.nan_to_num(parsed.to_numpy(), nan=0.0)
        wrong = wrong | (finite % 1 != 0) | (np.abs(finite) >= 2.0**63)
    if nullable:
        wrong = wrong & objects.notna().to_numpy()
    at = np.flatnonzero(wrong)
    return int(at[0]) if len(at) else None


def _numbers(values: pd.Series, name: str, dtype: str, records: _Records) -> pd.Series:
    """``values`` as numbers of ``dtype``; a value that is none of them is a DataError."""
    nullable = dtype != "bool" and name != records.id_field
    typed: pd.Series
    try:
        numbers = pd.to_numeric(values, errors="raise")
        if dtype == "bool":
            typed = numbers.astype("int64").astype(bool)
        else:
            typed = numbers.astype("float64") if dtype == "float64" else numbers.astype("Int64")
    except (ValueError, TypeError, OverflowError) as exc:
        at = _first_bad_number(values, dtype, nullable)
        if at is None:
            raise DataError(
                f"`{name}` holds values that are not {_EXPECTED[dtype]} ({exc})."
            ) from exc
        raise records.bad(name, at, _EXPECTED[dtype]) from exc
    if not nullable and typed.isna().any():
        at = int(np.flatnonzero(typed.isna().to_numpy())[0])
        raise records.bad(name, at, f"{_EXPECTED[dtype]} (every record needs its {name})")
    return typed


_TIME_KINDS = {str, type(None), float}  # float: NaN, where a record leaves the field out


def _is_time(value: object) -> bool:
    """Text to parse, a datetime (frames built in Python, such as the generator's), or null."""
    return isinstance(value, str | datetime) or _is_null(value)


def _times(values: pd.Series, name: str, records: _Records) -> pd.Series:
    """ISO 8601 texts (``2026-06-30T18:00:00.000Z``, or with an offset) as UTC microseconds."""
    if isinstance(values.dtype, pd.DatetimeTZDtype) or values.dtype.kind == "M":
        return pd.to_datetime(values, utc=True).astype("datetime64[us, UTC]")
    objects = values.astype(object)
    kinds = set(map(type, objects))
    if not kinds <= _TIME_KINDS or float in kinds:
        at = next((i for i, v in enumerate(objects) if not _is_time(v)), None)
        if at is not None:
            raise records.bad(name, at, _EXPECTED[DATETIME])
    try:
        stamps = pd.to_datetime(values, utc=True, format="ISO8601")
    except (ValueError, TypeError, OverflowError) as exc:
        parsed = pd.to_datetime(objects, utc=True, format="ISO8601", errors="coerce")
        wrong = np.flatnonzero((parsed.isna() & objects.notna()).to_numpy())
        if not len(wrong):
            raise DataError(f"`{name}` holds values that are not {_EXPECTED[DATETIME]}.") from exc
        raise records.bad(name, int(wrong[0]), _EXPECTED[DATETIME]) from exc
    return stamps.astype("datetime64[us, UTC]")


def _text(values: pd.Series) -> pd.Series:
    """Strings as pandas' ``str`` dtype with missing values kept missing."""
    return values.astype("str").where(values.notna(), None).astype("str")


def _coerce(frame: pd.DataFrame, dtypes: Mapping[str, str], id_field: str) -> pd.DataFrame:
    missing = [c for c in dtypes if c not in frame]
    if missing:
        needed = [c for c in dtypes if c not in ADDRESS_FIELDS]  # those are read from address_json
        raise DataError(
            f"No record has the field(s) {missing}; every record needs {needed} (only "
            "the optional ones, such as email or note, may be left out). Check that the records "
            "are the SeloraX Apps API v1's, unchanged."
        )
    records = _Records(frame, id_field)
    columns: dict[str, pd.Series] = {}
    for name, dtype in dtypes.items():
        values = frame[name]
        if dtype == DATETIME:
            columns[name] = _times(values, name, records)
        elif dtype == "str":
            columns[name] = _text(values)
        elif dtype in ("bool", "float64", "Int64"):
            columns[name] = _numbers(values, name, dtype, records)
        else:
            columns[name] = _text(values).astype(pd.CategoricalDtype())
    extra = [c for c in frame.columns if c not in dtypes]
    out = pd.DataFrame(columns, index=pd.RangeIndex(len(frame)))
    for name in extra:
        out[name] = frame[name].to_numpy()
    return out
