"""The generated store as the typed frames a load returns, typed by the sandbox itself.

The sandbox is the independent implementation the client and the loader are tested against, so
it does not borrow the loader's typing (:mod:`selorax_analytics.schema`): the column types
below are the sandbox's own reading of the documented contract (README, "The typed frames"),
written for the generator's well-formed records only. A test checks that both readings give
the same frames.
"""

from __future__ import annotations

import json

import pandas as pd

DATETIME = "datetime64[us, UTC]"
#: Customers: ids, text, the address flattened from ``address_json``, the flag, times, totals.
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
#: Orders: ids, statuses as categories, money in taka, the note, times.
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
ADDRESS_FIELDS = ("address", "city", "area")


def _address_part(text: object, field: str) -> str | None:
    """One field of an ``address_json`` text (the generator writes objects of strings)."""
    if not isinstance(text, str):
        return None
    value = json.loads(text).get(field)
    return None if value is None else str(value)


def _typed(frame: pd.DataFrame, dtypes: dict[str, str]) -> pd.DataFrame:
    columns = {}
    for name, dtype in dtypes.items():
        values = frame[name]
        if dtype == DATETIME:
            values = pd.to_datetime(values, utc=True).dt.as_unit("us")
        elif dtype == "category":
            values = values.astype("str").astype("category")
        else:
            values = values.astype(pd.api.types.pandas_dtype(dtype))
        columns[name] = values.reset_index(drop=True)
    return pd.DataFrame(columns)


def typed_customers(customers: pd.DataFrame) -> pd.DataFrame:
    """Customers with the API's fields and ``total_orders``/``total_spent`` as typed frames."""
    out = customers.copy()
    for field in ADDRESS_FIELDS:
        out[field] = out["address_json"].map(lambda text, f=field: _address_part(text, f))
    return _typed(out, CUSTOMER_DTYPES)


def typed_orders(orders: pd.DataFrame) -> pd.DataFrame:
    """Orders with the API's fields (money in taka) as typed frames."""
    return _typed(orders, ORDER_DTYPES)
