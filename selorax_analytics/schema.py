"""The typed frames every part of the package agrees on.

``load_customers`` and ``load_orders`` return frames with exactly these columns (the API's field
names) and dtypes, fresh or cached; the analytics take them as input. Extra columns that the API
may add later are kept after these ones.

Customers
    ``user_id`` and ``store_id`` (Int64), ``name``, ``email``, ``phone`` (str, email nullable),
    ``address_json`` (the JSON text as sent, nullable), ``address``, ``city``, ``area``
    (flattened from ``address_json``), ``is_guest`` (bool), ``created_at`` and ``updated_at``
    (UTC, microseconds), ``total_orders`` (Int64), ``total_spent`` (float, taka).
Orders
    ``order_id``, ``store_id``, ``user_id`` (Int64), ``order_status``, ``financial_status``,
    ``fulfillment_status``, ``payment_method`` (category), ``sub_total``, ``tax``, ``shipping``,
    ``discount``, ``grand_total`` (float, taka), ``note`` (str, nullable), ``created_at``,
    ``updated_at`` (UTC, microseconds).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

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


def _address_field(value: object, field: str) -> object:
    if isinstance(value, Mapping):
        found = value.get(field)
    elif isinstance(value, str) and value:
        try:
            parsed = json.loads(value)
        except ValueError:
            return None
        found = parsed.get(field) if isinstance(parsed, Mapping) else None
    else:
        return None
    return None if found is None else str(found)


def _text(values: pd.Series) -> pd.Series:
    """Strings as pandas' ``str`` dtype with missing values kept missing."""
    return values.astype("str").where(values.notna(), None).astype("str")


def _address_text(value: object) -> object:
    if isinstance(value, Mapping):
        # key order kept as sent, as the platform (and the generator) write it
        return json.dumps(value, ensure_ascii=False)
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return str(value)


def coerce_customers(frame: pd.DataFrame) -> pd.DataFrame:
    """Type a frame of customer records (API field names) into :data:`CUSTOMER_DTYPES`.

    ``address_json`` may hold dicts (as parsed from JSON) or JSON text; it is kept as JSON text
    and flattened into ``address``, ``city`` and ``area``. Unknown columns are kept at the end.

    Raises
    ------
    KeyError
        When a required column is missing (the message lists every column a record needs).
    DataError
        When a value cannot be typed: the message names the column, the row and the value.
    """
    out = frame.copy()
    if "address_json" not in out:
        out["address_json"] = None
    raw = out["address_json"].astype(object)
    out["address_json"] = raw.map(_address_text)
    for field in ADDRESS_FIELDS:
        out[field] = raw.map(lambda v, f=field: _address_field(v, f))
    for column in ("total_orders", "total_spent", "email"):
        if column not in out:
            out[column] = None
    return _coerce(out, CUSTOMER_DTYPES)


def coerce_orders(frame: pd.DataFrame) -> pd.DataFrame:
    """Type a frame of orders (API field names) into :data:`ORDER_DTYPES`.

    Money arrives as numbers or numeric strings (``"1460.00"``) and becomes float taka. Raises
    ``KeyError`` and ``DataError`` as :func:`coerce_customers` does.
    """
    out = frame.copy()
    if "note" not in out:
        out["note"] = None
    return _coerce(out, ORDER_DTYPES)


_EXPECTED = {
    "bool": "0/1 or true/false",
    "Int64": "a whole number that fits 64 bits",
    "float64": "a number or numeric text such as '1460.00'",
}


def _numbers(values: pd.Series, name: str, dtype: str) -> pd.Series:
    """``values`` as numbers of ``dtype``; a value that is none (or a missing 0/1) is a DataError."""
    try:
        numbers = pd.to_numeric(values, errors="raise")
        if dtype == "bool":
            return numbers.astype("int64").astype(bool)
        return numbers.astype("float64") if dtype == "float64" else numbers.astype("Int64")
    except (ValueError, TypeError) as exc:
        raise DataError(_number_problem(values, name, dtype, exc)) from exc


def _number_problem(values: pd.Series, name: str, dtype: str, exc: Exception) -> str:
    """Which record's value (the first) made ``_numbers`` fail, in a sentence."""
    parsed = pd.to_numeric(values.astype(object), errors="coerce").astype("float64")
    wrong = parsed.isna()
    if dtype == "Int64":
        wrong |= (parsed % 1 != 0) | (parsed.abs() >= 2.0**63)
    if dtype != "bool":
        wrong &= values.notna()  # nulls are allowed there
    if not wrong.any():
        return f"`{name}` holds values that are not {_EXPECTED[dtype]} ({exc})."
    at = int(np.flatnonzero(wrong.to_numpy())[0])
    value = values.iloc[at]
    if isinstance(value, np.generic):
        value = value.item()
    shown = "missing" if value is None or pd.isna(value) else repr(value)
    return (
        f"`{name}` of record {at} (counting from 0) is {shown}, not {_EXPECTED[dtype]}; "
        "fix or drop that record (the records should be the API's, unchanged)."
    )


def _times(values: pd.Series, name: str) -> pd.Series:
    """ISO 8601 texts (``2026-06-30T18:00:00.000Z``, or with an offset) as UTC microseconds."""
    try:
        stamps = pd.to_datetime(values, utc=True, format="ISO8601")
    except (ValueError, TypeError) as exc:
        raise DataError(
            f"`{name}` holds a value that is not an ISO 8601 time such as "
            f"'2026-06-30T18:00:00.000Z' ({str(exc).splitlines()[0]}); fix or drop that record."
        ) from exc
    return stamps.astype("datetime64[us, UTC]")


def _coerce(frame: pd.DataFrame, dtypes: Mapping[str, str]) -> pd.DataFrame:
    missing = [c for c in dtypes if c not in frame]
    if missing:
        raise KeyError(
            f"Records lack the field(s) {missing}; every record needs {list(dtypes)} "
            "(only the optional ones, such as email or note, may be left out)."
        )
    columns: dict[str, pd.Series] = {}
    for name, dtype in dtypes.items():
        values = frame[name]
        if dtype == DATETIME:
            columns[name] = _times(values, name)
        elif dtype == "str":
            columns[name] = _text(values)
        elif dtype in ("bool", "float64", "Int64"):
            columns[name] = _numbers(values, name, dtype)
        else:
            columns[name] = _text(values).astype(pd.CategoricalDtype())
    extra = [c for c in frame.columns if c not in dtypes]
    out = pd.DataFrame(columns, index=pd.RangeIndex(len(frame)))
    for name in extra:
        out[name] = frame[name].to_numpy()
    return out
