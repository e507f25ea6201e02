"""Helpers shared by the sandbox test modules: HTTP clients, page walks and shape checks."""

from __future__ import annotations

import re
from typing import Any

import httpx

from selorax_analytics.sandbox import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_STORE_ID,
    DEMO_TOKEN,
)

PREFIX = "/api/apps/v1"
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

LIST_FIELDS = {
    "user_id",
    "store_id",
    "name",
    "email",
    "phone",
    "address_json",
    "is_guest",
    "created_at",
    "updated_at",
    "total_orders",
    "total_spent",
}
DETAIL_FIELDS = LIST_FIELDS | {"is_phone_verified", "is_email_verified"}
UPDATED_FIELDS = DETAIL_FIELDS - {"total_orders", "total_spent"}
ORDER_FIELDS = {
    "order_id",
    "store_id",
    "user_id",
    "order_status",
    "financial_status",
    "fulfillment_status",
    "sub_total",
    "tax",
    "shipping",
    "discount",
    "grand_total",
    "payment_method",
    "note",
    "created_at",
    "updated_at",
}
ITEM_FIELDS = {"order_item_id", "order_id", "product_id", "variant_id", "name", "price"}
ITEM_FIELDS |= {"quantity", "sku"}
MONEY = ("sub_total", "tax", "shipping", "discount", "grand_total")


def bearer(base_url: str, token: str = DEMO_TOKEN) -> httpx.Client:
    """A client for the API prefix with a Bearer token."""
    return httpx.Client(
        base_url=base_url + PREFIX, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def client_credentials(base_url: str, store_id: int = DEMO_STORE_ID) -> httpx.Client:
    headers = {
        "X-Client-Id": DEMO_CLIENT_ID,
        "X-Client-Secret": DEMO_CLIENT_SECRET,
        "X-Store-Id": str(store_id),
    }
    return httpx.Client(base_url=base_url + PREFIX, headers=headers, timeout=30)


def walk(client: httpx.Client, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every record of a list endpoint, page by page at the largest page size.

    Checks on the way that each page reports the same ``total`` and the page it was asked for.
    """
    records: list[dict[str, Any]] = []
    totals = set()
    page = 1
    while True:
        response = client.get(path, params={**params, "page": page, "limit": 250})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["pagination"]["page"] == page
        assert body["pagination"]["limit"] == 250
        totals.add(body["pagination"]["total"])
        records += body["data"]
        if not body["data"]:
            break
        page += 1
    assert len(totals) == 1, f"`total` changed while walking: {totals}"
    assert len(records) == totals.pop()
    return records


def is_int(value: object) -> bool:
    return type(value) is int


def is_flag(value: object) -> bool:
    return type(value) is int and value in (0, 1)


def is_money(value: object) -> bool:
    return type(value) in (int, float)


def check_customer(record: dict[str, Any], fields: set[str] = LIST_FIELDS) -> None:
    """A customer record shaped exactly as the Customers API page shows it."""
    assert set(record) == fields
    assert is_int(record["user_id"]) and is_int(record["store_id"])
    assert isinstance(record["name"], str) and isinstance(record["phone"], str)
    assert record["email"] is None or isinstance(record["email"], str)
    assert record["address_json"] is None or isinstance(record["address_json"], dict)
    assert is_flag(record["is_guest"])
    for stamp in ("created_at", "updated_at"):
        assert ISO_MS.match(record[stamp]), record[stamp]
    for flag in ("is_phone_verified", "is_email_verified"):
        if flag in fields:
            assert is_flag(record[flag])
    if "total_orders" in fields:
        assert is_int(record["total_orders"]) and is_int(record["total_spent"])


def check_order(record: dict[str, Any], fields: set[str] = ORDER_FIELDS) -> None:
    """An order shaped as the Orders API list shows it (money as numbers in taka)."""
    assert set(record) == fields
    for key in ("order_id", "store_id", "user_id"):
        assert is_int(record[key])
    for key in ("order_status", "financial_status", "fulfillment_status", "payment_method"):
        assert isinstance(record[key], str)
    for key in MONEY:
        assert is_money(record[key])
    assert record["note"] is None or isinstance(record["note"], str)
    for stamp in ("created_at", "updated_at"):
        assert ISO_MS.match(record[stamp]), record[stamp]


def check_error(response: httpx.Response, status: int, code: str | None = None) -> str:
    """The error envelope ``{message, code, status}``; returns the message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == status
    assert isinstance(body["message"], str) and body["message"]
    if code is None:
        assert set(body) <= {"message", "code", "status"}
    else:
        assert set(body) == {"message", "code", "status"}
        assert body["code"] == code
    return body["message"]


def paisa(value: float | str) -> int:
    """Taka as sent (number or numeric string) to whole paisa."""
    return round(float(value) * 100)
