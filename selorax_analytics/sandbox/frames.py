"""The generated store as the typed frames a load returns, typed by the sandbox itself.

:func:`api_frames` turns a :class:`~selorax_analytics.sandbox.generator.Store` into the
customers and orders a load returns, with each customer's totals as :func:`customer_totals`
counts them (the sandbox's SQL counts them the same way, with :data:`UNSPENT_STATUSES`).

The sandbox is the independent implementation the client and the loader are tested against, so
it does not borrow the loader's typing (:mod:`selorax_analytics.schema`): the column types
below are the sandbox's own reading of the documented contract (README, "The typed frames"),
written for the generator's well-formed records only. A test checks that both readings give
the same frames.
"""

from __future__ import annotations

import json

import pandas as pd

from selorax_analytics.sandbox.generator import Store
from selorax_analytics.sandbox.money import MONEY_COLUMNS

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
#: Orders in these statuses count in ``total_orders`` but not in ``total_spent`` [assumed: the
#: platform does not say; this is what the sandbox does].
UNSPENT_STATUSES = ("cancelled", "returned", "failed")


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


def customer_totals(orders: pd.DataFrame) -> pd.DataFrame:
    """``total_orders`` (all orders) and ``total_spent`` (whole taka, half up) per ``user_id``.

    ``orders`` carries ``user_id``, ``order_status`` and ``grand_total_paisa``.
    """
    spent = orders["grand_total_paisa"].where(~orders["order_status"].isin(UNSPENT_STATUSES), 0)
    grouped = orders.assign(spent=spent).groupby("user_id")
    return pd.DataFrame(
        {
            "total_orders": grouped.size(),
            "total_spent": (grouped["spent"].sum() + 50) // 100,
        }
    )


def api_frames(store: Store) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The store's customers and orders as the typed frames a load returns.

    These are the frames ``load_customers(include_guests=True)`` and ``load_orders()`` return
    for this store, so analytics can be built and tested straight from the generator. They are
    typed by the sandbox itself (this module), not by the loader.
    """
    totals = customer_totals(store.orders)
    customers = store.customers.drop(columns=["is_phone_verified", "is_email_verified"])
    customers = customers.join(totals, on="user_id")
    customers["total_orders"] = customers["total_orders"].fillna(0).astype("int64")
    customers["total_spent"] = customers["total_spent"].fillna(0).astype("int64")
    orders = store.orders.rename(columns=lambda c: c.removesuffix("_paisa"))
    for column in MONEY_COLUMNS:
        orders[column] = orders[column] / 100
    return typed_customers(customers), typed_orders(orders)
