"""The fast path's machinery: API records' fields, typed column by column.

:func:`~selorax_analytics.loading._typing.fast_frame` reads the records' fields into one list
per field and hands them to :func:`typed_columns`, which types each with the converter of its
schema dtype. A converter returns None when the values are of a kind it does not take (mixed
kinds, values that do not convert); the batch then goes the general way, which gives the same
frame. The converters build pandas' arrays directly (Arrow text, categorical codes, times parsed
vectorised over their characters) instead of going through ``DataFrame.from_records``.

Two rules both paths keep are here too, so that both apply them alike: what an ``address_json``
value holds (:func:`address_object`), and how an unknown field's value is kept
(:func:`plain_value`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from json.encoder import encode_basestring
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from selorax_analytics.schema import ADDRESS_FIELDS, DATETIME

_NONE = type(None)
_STR = pd.StringDtype(na_value=np.nan)  # the "str" dtype
_ENCODER = json.JSONEncoder(ensure_ascii=False)  # what json.dumps(v, ensure_ascii=False) uses


# --- the rules both paths keep ----------------------------------------------------------------


def plain_value(value: object) -> object:
    """An unknown field's value as a frame keeps it: dicts and lists as JSON text, sorted keys."""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


def address_object(value: object) -> Mapping[str, object] | None:
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


# --- the columns of a batch -----------------------------------------------------------------


def typed_columns(
    columns: dict[str, list[Any]], dtypes: dict[str, str], n: int
) -> pd.DataFrame | None:
    """The frame of ``n`` records' fields (one list per field), typed into ``dtypes``.

    Schema fields come first, in the schema's order (those no record has are null); unknown
    fields follow in the order sent, kept by :func:`plain_value`. None when a converter does not
    take a field's values.
    """
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
        frame[name] = pd.Series([plain_value(v) for v in columns[name]], index=frame.index)
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
            parsed = address_object(v)  # a dict, parsed from text, or None
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


# --- one converter per dtype: the typed array, or None when the values are not of its kind ---


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


_CONVERTERS: dict[str, Callable[[list[Any]], Any]] = {
    "Int64": _int_column,
    "float64": _float_column,
    "bool": _bool_column,
    "str": _str_column,
    "category": _category_column,
    DATETIME: _datetime_column,
}


# --- the API's time form, parsed vectorised over the characters ----------------------------


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
