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
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from itertools import chain
from json.encoder import encode_basestring
from operator import itemgetter
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa

from selorax_analytics.exceptions import DataError
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
        frame = _typed_columns(columns, spec.dtypes, len(rows))
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
        typed[column] = pd.Series([_plain_value(v) for v in typed[column]], index=typed.index)
    return typed.sort_values(spec.id_field, kind="stable").reset_index(drop=True)


def _plain_value(value: object) -> object:
    """An unknown field's value as a frame keeps it: dicts and lists as JSON text, sorted keys."""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


# --- the general path: a frame of the records, typed column by column ----------------------


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


# --- the fast path: one pass over the records, one converter per dtype ---------------------

_NONE = type(None)
_STR = pd.StringDtype(na_value=np.nan)  # the "str" dtype
_ENCODER = json.JSONEncoder(ensure_ascii=False)  # what json.dumps(v, ensure_ascii=False) uses


def _int_column(values: list[Any]) -> Any:
    array = np.array(values)  # integers (bools read as 0/1, as pd.to_numeric reads them)
    if array.ndim == 1 and array.dtype.kind in "ib":
        return pd.arrays.IntegerArray(array.astype(np.int64), np.zeros(len(array), dtype=bool))
    if set(map(type, values)) <= {int, float, _NONE}:  # nulls: through float, as from_records
        floats = np.array(values, dtype=np.float64)
        if np.abs(floats[~np.isnan(floats)]).max(initial=0.0) < 2.0**63:
            return pd.Series(floats).astype("Int64").array
    return None


def _float_column(values: list[Any]) -> Any:
    if values and type(values[0]) is not str:
        array = np.array(values)  # numbers (bools read as 0/1, as pd.to_numeric reads them)
        if array.ndim == 1 and array.dtype.kind in "fib":
            return array.astype(np.float64)
    types = set(map(type, values))
    if types <= {int, float, _NONE}:
        return np.array(values, dtype=np.float64)
    if types == {str}:  # numeric text such as "1460.00": what pd.to_numeric makes of a str column
        return pd.to_numeric(np.array(values, dtype=object), errors="raise").astype(np.float64)
    if types == {str, _NONE}:
        return pd.to_numeric(pd.Series(values, dtype="str"), errors="raise").astype("float64")
    return None


def _bool_column(values: list[Any]) -> Any:
    array = np.array(values)  # 0/1 or true/false
    return array.astype(bool) if array.ndim == 1 and array.dtype.kind in "ib" else None


def _str_column(values: list[Any]) -> Any:
    return _texts(values) if set(map(type, values)) <= {str, _NONE} else None


def _texts(values: Sequence[str | None] | np.ndarray) -> Any:
    """``pd.array(values, dtype="str")`` of texts and nulls, built straight from Arrow."""
    if _STR.storage != "pyarrow":
        return pd.array(values, dtype=_STR)
    return _STR.__from_arrow__(pa.array(values, type=pa.large_string()))  # type: ignore[attr-defined]


def _category_column(values: list[Any]) -> Any:
    objects = np.array(values, dtype=object)
    if objects.ndim != 1:
        return None  # lists among the values
    codes, found = pd.factorize(objects)
    if set(map(type, found)) - {str}:
        return None  # not only text and nulls (None, and NaN which from_records also reads as null)
    categories = sorted(found)  # code point order, the order pandas sorts str categories in
    position = {v: i for i, v in enumerate(categories)}
    rank = np.array([position[v] for v in found] + [-1], dtype=np.intp)  # null code -1 stays -1
    codes = rank[codes]
    return pd.Categorical.from_codes(codes, dtype=_category_dtype(tuple(categories)))


@functools.lru_cache(maxsize=256)
def _category_dtype(categories: tuple[str, ...]) -> pd.CategoricalDtype:
    return pd.CategoricalDtype(pd.Index(categories, dtype="str"))


def _datetime_column(values: list[Any]) -> Any:
    fixed = _utc_millis(values)
    if fixed is not None:
        return pd.array(fixed).tz_localize("UTC")
    types = set(map(type, values))
    if not (str in types and types <= {str, _NONE}):
        return None
    stamps = pd.to_datetime(pd.Series(values, dtype="str"), utc=True, format="ISO8601")
    return stamps.astype("datetime64[us, UTC]")


#: Where ``2026-06-30T18:00:00.000Z`` (the API's form) has its separators, and its digits.
_STAMP_SEPARATORS = {4: "-", 7: "-", 10: "T", 13: ":", 16: ":", 19: ".", 23: "Z"}
_STAMP_DIGITS = [i for i in range(24) if i not in _STAMP_SEPARATORS]
_STAMP_SEPARATOR_CODES = np.array([ord(c) for c in _STAMP_SEPARATORS.values()], dtype=np.uint8)
_MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
_DAYS_BEFORE_MONTH = np.concatenate([[0], np.cumsum(_MONTH_DAYS)[:-1]])


def _utc_millis(values: Sequence[str]) -> np.ndarray | None:
    """``datetime64[us]`` of texts all in the form ``YYYY-MM-DDTHH:MM:SS.mmmZ``, else None.

    Vectorised over the characters; any other form, or a field out of range (``2026-02-30``,
    a leap second), is left to ``pd.to_datetime``.
    """
    try:
        if set(map(len, values)) != {24}:
            return None
        joined = "".join(values)  # raises for anything but text
    except TypeError:
        return None
    if not joined.isascii():
        return None
    chars = np.frombuffer(joined.encode("ascii"), dtype=np.uint8).reshape(-1, 24).T
    if not (chars[list(_STAMP_SEPARATORS)].T == _STAMP_SEPARATOR_CODES).all():
        return None
    digits = chars[_STAMP_DIGITS] - np.uint8(ord("0"))  # below "0" wraps round to above 9
    if (digits > 9).any():
        return None
    d = digits.astype(np.int64)
    pairs = d[0:14:2] * 10 + d[1:14:2]  # century, year of century, month, day, h, min, s
    year = pairs[0] * 100 + pairs[1]
    month, day, hour, minute, second = pairs[2:]
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    if not ((year >= 1) & (month >= 1) & (month <= 12) & (day >= 1)).all():
        return None
    length = _MONTH_DAYS[month - 1] + (leap & (month == 2))
    if not ((day <= length) & (hour < 24) & (minute < 60) & (second < 60)).all():
        return None
    # days since 1970-01-01 of a proleptic Gregorian date: whole years, then months, then days
    before = year - 1
    leaps = before // 4 - before // 100 + before // 400 - 477  # 477 leap years before 1970
    days = (year - 1970) * 365 + leaps + _DAYS_BEFORE_MONTH[month - 1] + (leap & (month > 2))
    seconds = (((days + day - 1) * 24 + hour) * 60 + minute) * 60 + second
    milli = d[14] * 100 + d[15] * 10 + d[16]
    return (seconds * 1_000_000 + milli * 1000).view("datetime64[us]")


_CONVERTERS: dict[str, Callable[[list[Any]], Any]] = {
    "Int64": _int_column,
    "float64": _float_column,
    "bool": _bool_column,
    "str": _str_column,
    "category": _category_column,
    DATETIME: _datetime_column,
}


def _json_texts(objects: list[dict[Any, Any]]) -> list[str]:
    """``json.dumps(o, ensure_ascii=False)`` of each dict, keys in the order sent."""
    shapes = set(map(tuple, objects))
    if len(shapes) == 1:
        keys = next(iter(shapes))
        if keys and set(map(type, keys)) == {str}:
            columns = [list(map(itemgetter(k), objects)) for k in keys]
            if all(set(map(type, c)) == {str} for c in columns):
                # dicts of text with one key order: the encoder's output, assembled directly
                texts = [
                    "{" + encode_basestring(keys[0]) + ": " + v
                    for v in map(encode_basestring, columns[0])
                ]
                for key, column in zip(keys[1:], columns[1:], strict=True):
                    head = ", " + encode_basestring(key) + ": "
                    texts = [
                        t + head + v
                        for t, v in zip(texts, map(encode_basestring, column), strict=True)
                    ]
                return [t + "}" for t in texts]
    return [_ENCODER.encode(o) for o in objects]


def _typed_columns(
    columns: dict[str, list[Any]], dtypes: dict[str, str], n: int
) -> pd.DataFrame | None:
    nulls = [None] * n
    typed: dict[str, Any] = {}
    if "address_json" in dtypes:
        address = _address_columns(columns.get("address_json", nulls))
        if address is None:
            return None
        typed.update(address)
    for name, dtype in dtypes.items():
        if name not in typed:
            column = _CONVERTERS[dtype](columns.get(name, nulls))
            if column is None:
                return None
            typed[name] = column
    frame = pd.DataFrame({name: typed[name] for name in dtypes}, index=pd.RangeIndex(n))
    for name in [c for c in columns if c not in dtypes]:  # unknown fields, in the order sent
        frame[name] = pd.Series([_plain_value(v) for v in columns[name]], index=frame.index)
    return frame


def _address_columns(values: list[Any]) -> dict[str, Any] | None:
    """``address_json`` as JSON text and ``address``, ``city``, ``area`` flattened from it.

    An object, sent as such or as JSON text, is written as ``json.dumps`` writes it; other text
    (malformed, or JSON that is not an object) is kept as sent, with null flattened fields.
    """
    if not set(map(type, values)) <= {dict, str, _NONE}:
        return None
    n = len(values)
    text = np.array(values, dtype=object) if n else np.empty(0, dtype=object)
    at_objects = [i for i, v in enumerate(values) if type(v) is dict]
    objects = [values[i] for i in at_objects]
    for i, v in enumerate(values):
        if type(v) is str and v:
            parsed = _address_object(v)  # a dict, parsed from text, or None
            if parsed is not None:
                at_objects.append(i)
                objects.append(parsed)
    if objects:
        text[at_objects] = np.array(_json_texts(objects), dtype=object)
    out: dict[str, Any] = {"address_json": _texts(text)}
    for field in ADDRESS_FIELDS:
        column = np.full(n, None, dtype=object)
        found = [o.get(field) for o in objects]
        if not set(map(type, found)) <= {str, _NONE}:
            found = [None if v is None else str(v) for v in found]
        if found:
            column[at_objects] = np.array(found, dtype=object)
        out[field] = _texts(column)
    return out
