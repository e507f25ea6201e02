"""The SeloraX Apps API v1 endpoints the sandbox serves, as ``customers-api.txt`` documents them.

Assumptions where the documents are silent (also in the README):
- ``GET /orders/{order_id}`` puts the line items in an ``items`` list.
- ``DELETE /customers/{user_id}`` answers ``{"message": "Customer deleted.", "status": 200}``.
- ``search`` matches a case-insensitive substring of name, e-mail or phone; a search holding a
  control character (NUL, newline) is refused with a 400.
- ``until`` is inclusive: orders created on or before that instant.
- Validation errors carry ``code: "validation_error"``; 404 bodies carry no code, as documented.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from selorax_analytics.sandbox import params
from selorax_analytics.sandbox.auth import Credential
from selorax_analytics.sandbox.body import json_object
from selorax_analytics.sandbox.db import Database, now_text
from selorax_analytics.sandbox.params import ApiProblem
from selorax_analytics.sandbox.sql import (
    CUSTOMER_FIELDS,
    ORDER_FIELDS,
    TOTAL_SPENT_SQL,
    json_column,
)
from selorax_analytics.sandbox.state import SandboxState

MONEY = ("sub_total", "tax", "shipping", "discount", "grand_total")
LIST_FIELDS = (
    "user_id, store_id, name, email, phone, address_json, is_guest, created_at, updated_at, "
    f"total_orders, {TOTAL_SPENT_SQL} AS total_spent"
)


def _state(request: Request) -> SandboxState:
    state: SandboxState = request.app.state.sandbox
    return state


def _credential(request: Request, scope: str) -> Credential:
    credential: Credential = request.state.credential
    credential.require(scope)
    return credential


def _path_id(request: Request, name: str) -> int:
    return params.path_id(request.path_params[name], name)


def _customer(row: dict[str, Any]) -> dict[str, Any]:
    row = dict(row)
    if row.get("address_json") is not None:
        row["address_json"] = json.loads(row["address_json"])
    return row


def _order(state: SandboxState, row: dict[str, Any]) -> dict[str, Any]:
    row = dict(row)
    for column in MONEY:
        taka = row[column] / 100
        row[column] = f"{taka:.2f}" if state.money_as_strings else round(taka, 2)
    return row


def _json_page(
    db: Database, count_sql: str, rows_sql: str, args: list[Any], page: int, limit: int
) -> bytes:
    """The body of one list page, built by SQLite in one statement.

    ``rows_sql`` selects each row's JSON object, rendered when the row was written (see
    :mod:`~selorax_analytics.sandbox.db`), as ``row``, ending in ``LIMIT ? OFFSET ?``;
    ``count_sql`` counts the rows of the same filter. One statement sees one snapshot, so the
    ``total`` always agrees with the rows, and the interpreter lock is released once for the
    whole page instead of once per row.
    """
    sql = (
        """SELECT CAST('{"data":[' || ifnull((SELECT group_concat(row, ',') FROM ("""
        f"{rows_sql}"
        """)), '') || '],"pagination":{"page":' || ? || ',"limit":' || ? || ',"total":' || ("""
        f"{count_sql}"
        """) || '},"status":200}' AS BLOB)"""
    )
    body: bytes = db.scalar(sql, [*args, limit, (page - 1) * limit, page, limit, *args])
    return body


#: Filters whose count ``list_totals`` keeps: the store's rows, customers without guests.
_KEPT_TOTALS = {
    ("customers", ("store_id = ?",)): "customers",
    ("customers", ("store_id = ?", "is_guest = 0")): "customers - guests",
    ("orders", ("store_id = ?",)): "orders",
}


def _count_sql(table: str, where: list[str]) -> str:
    """How many rows of ``table`` match ``where``: read from ``list_totals`` when it keeps the
    number (same parameters), else counted."""
    kept = _KEPT_TOTALS.get((table, tuple(where)))
    if kept is None:
        return f"SELECT COUNT(*) FROM {table} WHERE {' AND '.join(where)}"
    return f"SELECT ifnull(sum({kept}), 0) FROM list_totals WHERE store_id = ?"


def _rows_sql(table: str, key: str, column: str, clause: str, order: str) -> str:
    """The rendered JSON of one page's rows, as ``row``, in the sort order (``order``, then key).

    The page's keys come first, from the index alone where it covers the filter and sort, and
    only the rows on the page are then read from the table: ``OFFSET`` steps over index entries
    without reading the rows it skips. ``CROSS JOIN`` keeps the keys' order as the outer loop.
    """
    direction = order.rsplit(" ", 1)[1]
    keys = (
        f"SELECT {key} FROM {table} WHERE {clause} "
        f"ORDER BY {order}, {key} {direction} LIMIT ? OFFSET ?"
    )
    return f"SELECT t.{column} AS row FROM ({keys}) AS k CROSS JOIN {table} AS t USING ({key})"


async def _list_response(*args: Any) -> Response:
    # Off the event loop, so other requests (and their injected latency) go on meanwhile;
    # asyncio's own executor costs less per call than anyio's thread portal.
    body = await asyncio.get_running_loop().run_in_executor(None, _json_page, *args)
    return Response(body, media_type="application/json")


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def list_customers(request: Request) -> Response:
    credential = _credential(request, "read:customers")
    q = request.query_params
    page, limit = params.paging(q)
    column, direction = params.sort(q, ("created_at", "updated_at", "name"))
    where: list[str] = ["store_id = ?"]
    args: list[Any] = [credential.store_id]
    if not params.flag(q, "include_guests"):
        where.append("is_guest = 0")
    since = params.timestamp(q, "since")
    if since is not None:
        where.append("created_at >= ?")
        args.append(since)
    text = params.search(q)
    if text is not None:
        where.append(
            "(name LIKE ? ESCAPE '\\' OR email LIKE ? ESCAPE '\\' OR phone LIKE ? ESCAPE '\\')"
        )
        args += [_like(text)] * 3
    orders_min = params.integer(q, "total_orders_min", None, 0)
    if orders_min is not None:
        where.append("total_orders >= ?")
        args.append(orders_min)
    spent_min = params.integer(q, "total_spent_min", None, 0)
    if spent_min is not None:
        where.append(f"{TOTAL_SPENT_SQL} >= ?")
        args.append(spent_min)
    clause = " AND ".join(where)
    return await _list_response(
        _state(request).db,
        _count_sql("customers", where),
        _rows_sql(
            "customers", "user_id", json_column("customers"), clause, f"{column} {direction}"
        ),
        args,
        page,
        limit,
    )


def _find_customer(state: SandboxState, credential: Credential, user_id: int) -> dict[str, Any]:
    rows = state.db.query(
        f"SELECT {CUSTOMER_FIELDS} FROM customers WHERE user_id = ? AND store_id = ?",
        (user_id, credential.store_id),
    )
    if not rows:
        raise ApiProblem(404, "Customer not found.")
    return _customer(rows[0])


async def get_customer(request: Request) -> JSONResponse:
    credential = _credential(request, "read:customers")
    found = _find_customer(_state(request), credential, _path_id(request, "user_id"))
    return JSONResponse({"data": found, "status": 200})


async def _body(request: Request) -> dict[str, Any]:
    return json_object(await request.body())


def _phone_conflict(state: SandboxState, store_id: int, phone: str, user_id: int = 0) -> None:
    taken = state.db.scalar(
        "SELECT user_id FROM customers WHERE store_id = ? AND phone = ? AND user_id != ?",
        (store_id, phone, user_id),
    )
    if taken is not None:
        raise ApiProblem(409, "Phone number already exists for this store.", "conflict")


async def update_customer(request: Request) -> JSONResponse:
    credential = _credential(request, "write:customers")
    state = _state(request)
    user_id = _path_id(request, "user_id")
    body = await _body(request)
    before = _find_customer(state, credential, user_id)
    changes: dict[str, Any] = {}
    if "name" in body:
        changes["name"] = params.text_field(body, "name", maximum=255)
    if "email" in body:
        changes["email"] = params.email_field(body)
    if "phone" in body:
        changes["phone"] = params.text_field(body, "phone", maximum=20)
        _phone_conflict(state, credential.store_id, changes["phone"], user_id)
    if "address_json" in body:
        address = params.address_field(body, "address_json")
        changes["address_json"] = (
            None if address is None else json.dumps(address, ensure_ascii=False)
        )
    if not changes:
        raise ApiProblem(
            400,
            "At least one field must be provided: name, email, phone or address_json.",
            "validation_error",
        )
    changes["updated_at"] = now_text(after=before["updated_at"])
    assignments = ", ".join(f"{k} = ?" for k in changes)
    with state.db.transaction() as conn:
        conn.execute(
            f"UPDATE customers SET {assignments} WHERE user_id = ?", [*changes.values(), user_id]
        )
    found = _find_customer(state, credential, user_id)
    data = {k: v for k, v in found.items() if k not in ("total_orders", "total_spent")}
    return JSONResponse({"data": data, "message": "Customer updated.", "status": 200})


async def create_customer(request: Request) -> JSONResponse:
    credential = _credential(request, "write:customers")
    state = _state(request)
    body = await _body(request)
    missing = [name for name in ("name", "phone") if body.get(name) in (None, "")]
    if missing:
        raise ApiProblem(
            400, f"Missing required field(s): {', '.join(missing)}.", "validation_error"
        )
    name = params.text_field(body, "name", maximum=255)
    phone = params.text_field(body, "phone", maximum=20, minimum=10)
    email = params.email_field(body) if "email" in body else None
    address = params.address_field(body, "address") if "address" in body else None
    _phone_conflict(state, credential.store_id, phone)
    stamp = now_text()
    with state.db.transaction() as conn:
        cursor = conn.execute(
            "INSERT INTO customers (store_id, name, email, phone, address_json, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                credential.store_id,
                name,
                email,
                phone,
                None if address is None else json.dumps(address, ensure_ascii=False),
                stamp,
                stamp,
            ),
        )
    data = {
        "user_id": cursor.lastrowid,
        "name": name,
        "phone": phone,
        "email": email,
        "store_id": credential.store_id,
    }
    return JSONResponse({"data": data, "status": 201}, status_code=201)


async def delete_customer(request: Request) -> JSONResponse:
    credential = _credential(request, "write:customers")
    state = _state(request)
    user_id = _path_id(request, "user_id")
    found = _find_customer(state, credential, user_id)
    if found["total_orders"] > 0:
        raise ApiProblem(400, "Customer has orders and cannot be deleted.", "customer_has_orders")
    with state.db.transaction() as conn:
        conn.execute("DELETE FROM customers WHERE user_id = ?", (user_id,))
    return JSONResponse({"message": "Customer deleted.", "status": 200})


async def _orders_page(
    request: Request,
    state: SandboxState,
    where: list[str],
    args: list[Any],
    allowed: tuple[str, ...],
) -> Response:
    q = request.query_params
    page, limit = params.paging(q)
    column, direction = params.sort(q, allowed)
    if q.get("status"):
        where.append("order_status = ?")
        args.append(q["status"])
    clause = " AND ".join(where)
    order_by = f"{column}_paisa" if column == "grand_total" else column
    return await _list_response(
        state.db,
        _count_sql("orders", where),
        _rows_sql(
            "orders",
            "order_id",
            json_column("orders", state.money_as_strings),
            clause,
            f"{order_by} {direction}",
        ),
        args,
        page,
        limit,
    )


async def customer_orders(request: Request) -> Response:
    credential = _credential(request, "read:customers")
    state = _state(request)
    user_id = _path_id(request, "user_id")
    _find_customer(state, credential, user_id)
    where = ["store_id = ?", "user_id = ?"]
    return await _orders_page(
        request, state, where, [credential.store_id, user_id], ("created_at",)
    )


async def list_orders(request: Request) -> Response:
    credential = _credential(request, "read:orders")
    state = _state(request)
    q = request.query_params
    where: list[str] = ["store_id = ?"]
    args: list[Any] = [credential.store_id]
    for name, op in (("since", ">="), ("until", "<=")):
        value = params.timestamp(q, name)
        if value is not None:
            where.append(f"created_at {op} ?")
            args.append(value)
    customer_id = params.integer(q, "customer_id", None, 1)
    if customer_id is not None:
        where.append("user_id = ?")
        args.append(customer_id)
    return await _orders_page(
        request, state, where, args, ("created_at", "updated_at", "grand_total")
    )


async def get_order(request: Request) -> JSONResponse:
    credential = _credential(request, "read:orders")
    state = _state(request)
    order_id = _path_id(request, "order_id")
    rows = state.db.query(
        f"SELECT {ORDER_FIELDS} FROM orders WHERE order_id = ? AND store_id = ?",
        (order_id, credential.store_id),
    )
    if not rows:
        raise ApiProblem(404, "Order not found.")
    order = _order(state, rows[0])
    items = state.db.query(
        "SELECT order_item_id, order_id, product_id, variant_id, name, price_paisa, quantity, sku "
        "FROM order_items WHERE order_id = ? ORDER BY order_item_id",
        (order_id,),
    )
    for item in items:
        taka = item.pop("price_paisa") / 100
        item["price"] = f"{taka:.2f}" if state.money_as_strings else round(taka, 2)
    return JSONResponse({"data": {**order, "items": items}, "status": 200})


async def get_store(request: Request) -> JSONResponse:
    credential: Credential = request.state.credential
    rows = _state(request).db.query(
        "SELECT store_id, name, currency FROM stores WHERE store_id = ?", (credential.store_id,)
    )
    if not rows:
        raise ApiProblem(404, "Store not found.")
    return JSONResponse({"data": rows[0], "status": 200})
