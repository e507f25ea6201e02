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
