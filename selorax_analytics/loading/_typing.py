"""API records (dicts, as parsed from JSON) to the typed frames of :mod:`selorax_analytics.schema`.

One entry point, :func:`to_frame`, and the two paths behind it, which give the same frame:

- the **fast path** (:func:`fast_frame`): the fields are read out of the records in one pass,
  then each column is typed by a converter keyed by its schema dtype. A converter returns None
  when the values are of a kind it does not take (mixed kinds, values that do not convert), and
  the whole batch then goes the general way;
- the **general path** (:func:`general_frame`): a frame of the records
  (``DataFrame.from_records``) typed by :func:`coerce_customers` / :func:`coerce_orders`, which
  take every documented form and report a bad value as a :class:`DataError` naming the field,
  the record and the value.

The fast path's column converters and its vectorised time parsing are in
:mod:`~selorax_analytics.loading._columns`; this module holds the entry point, both paths' top
level and the general path's typing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from itertools import chain
from operator import itemgetter
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from selorax_analytics.exceptions import DataError
from selorax_analytics.loading._columns import address_object, plain_value, typed_columns
from selorax_analytics.schema import ADDRESS_FIELDS, CUSTOMER_DTYPES, DATETIME, ORDER_DTYPES

# --- the entry point ------------------------------------------------------------------------------


def to_frame(records: Iterable[dict[str, Any]], kind: str) -> pd.DataFrame:
    """Typed frame (:mod:`~selorax_analytics.schema`) of API records, sorted by id.

    Records as the API sends them take the fast path; anything it does not take (mixed kinds of
    value in one field, fields missing from some records, values it cannot convert) takes the
    general path, which gives the same frame and reports bad values.

    Parameters
    ----------
    records : iterable of dict
        The records of one list endpoint, as parsed from JSON; they are not changed.
    kind : {"customers", "orders"}
        Which schema to type them into.

    Returns
    -------
    DataFrame
        The schema's columns and dtypes, then unknown fields in the order first sent (objects
        and lists as JSON text, sorted keys); rows sorted by id (stable).

    Raises
    ------
    DataError
        A record that is not an object, a required field in no record, an id missing, or a value
        that cannot be typed: the message names the field, the record and the value.
    """
    rows = records if isinstance(records, list) else list(records)
    fast = fast_frame(rows, kind)
    return fast if fast is not None else general_frame(rows, kind)


def fast_frame(records: Sequence[dict[str, Any]], kind: str) -> pd.DataFrame | None:
    """The frame :func:`to_frame` gives, by the fast path; None when it does not take them.

    Taken: records that are dicts with one set of fields (every schema field among them but
    the optional ones), integer ids, and for each field values of one kind the API sends.
    """
    rows = records if isinstance(records, list) else list(records)
    spec = KINDS[kind]
    if not rows or type(rows[0]) is not dict:
        return None
    keys = list(rows[0])
    if any(c not in rows[0] and c not in spec.optional for c in spec.dtypes):
        return None  # the general path names the missing fields
    try:
        if set(map(len, rows)) != {len(keys)} or len(keys) < 2:
            return None  # fields missing from some records (or records that are not objects)
        # one pass over the records into one flat list, then a slice per field
        flat = list(chain.from_iterable(map(itemgetter(*keys), rows)))
        columns = {key: flat[i :: len(keys)] for i, key in enumerate(keys)}
        if set(map(type, columns[spec.id_field])) != {int}:
            return None
        ids = np.array(columns[spec.id_field], dtype=np.int64)
        order = None if (np.diff(ids) > 0).all() else np.argsort(ids, kind="stable")
        if order is not None and (np.diff(ids) < 0).all():  # newest first: reversed
            columns, order = {key: values[::-1] for key, values in columns.items()}, None
        frame = typed_columns(columns, spec.dtypes, len(rows))
    except (KeyError, ValueError, TypeError, OverflowError):
        return None  # a field missing from some record or a value that does not convert
    if frame is not None and order is not None:
        frame = frame.take(order).reset_index(drop=True)  # a stable sort by id
    return frame


def general_frame(records: Sequence[dict[str, Any]], kind: str) -> pd.DataFrame:
    """The frame :func:`to_frame` gives, by the general path: every form, every error reported.

    Raises
    ------
    DataError
        As :func:`to_frame` does.
    """
    rows = records if isinstance(records, list) else list(records)
    spec = KINDS[kind]
    if not set(map(type, rows)) <= {dict}:
        bad = next(((i, r) for i, r in enumerate(rows) if not isinstance(r, dict)), None)
        if bad is not None:
            shown = repr(bad[1]) if len(repr(bad[1])) <= 60 else f"{repr(bad[1])[:57]}..."
            raise DataError(
                f"Record {bad[0]} (counting from 0) of the {kind} is {shown}, not a JSON object "
                "of fields; the records should be the SeloraX Apps API v1's, unchanged."
            )
    frame = (
        pd.DataFrame.from_records(rows)
        if rows
        else pd.DataFrame({c: pd.Series([], dtype=object) for c in spec.dtypes})
    )
    typed = spec.coerce(frame)
    for column in typed.columns.difference(list(spec.dtypes), sort=False):
        typed[column] = pd.Series([plain_value(v) for v in typed[column]], index=typed.index)
    return typed.sort_values(spec.id_field, kind="stable").reset_index(drop=True)


# --- the general path: a frame of the records, typed column by column ----------------------


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
    found = [address_object(v) for v in raw]
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


class Kind(NamedTuple):
    """What typing needs to know of one kind of record."""

    id_field: str
    dtypes: dict[str, str]
    #: Fields a record may leave out: the general path fills them with nulls (or flattens them)
    optional: frozenset[str]
    coerce: Callable[[pd.DataFrame], pd.DataFrame]


KINDS: dict[str, Kind] = {
    "customers": Kind(
        "user_id",
        CUSTOMER_DTYPES,
        frozenset({"email", "address_json", "total_orders", "total_spent", *ADDRESS_FIELDS}),
        coerce_customers,
    ),
    "orders": Kind("order_id", ORDER_DTYPES, frozenset({"note"}), coerce_orders),
}
