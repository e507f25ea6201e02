"""Sandbox-only changes and counters, for tests and benchmarks (not part of the platform).

The same operations are methods of :class:`selorax_analytics.sandbox.Sandbox` and endpoints
under ``/_sandbox`` (no credentials; the sandbox binds to 127.0.0.1):

- ``GET /_sandbox/requests``: request counts per endpoint and credential label.
- ``POST /_sandbox/requests/reset``: set the counts to zero.
- ``POST /_sandbox/customers/{user_id}/convert``: a guest opens an account.
- ``POST /_sandbox/orders``: a new order ``{"user_id", "grand_total", "order_status"?}``.
- ``PATCH /_sandbox/orders/{order_id}``: ``{"order_status"}``; ``updated_at`` moves.
- ``POST /_sandbox/campaigns/response``: a campaign's simulated response
  (:mod:`selorax_analytics.sandbox.campaigns`).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from selorax_analytics.sandbox import campaigns
from selorax_analytics.sandbox.body import json_object
from selorax_analytics.sandbox.db import Database, now_text
from selorax_analytics.sandbox.params import MAX_INTEGER, ApiProblem, bad, path_id

#: The largest order the sandbox takes, in taka: sums of many such orders still fit SQLite's
#: 64-bit integers (as paisa), so the totals triggers never overflow.
MAX_ORDER_TAKA = 10**12
#: The longest ``order_status`` accepted (the platform's statuses are a word or two).
MAX_STATUS_LENGTH = 64


def convert_guest(db: Database, user_id: int) -> None:
    """Turn guest ``user_id`` into a registered customer; ``updated_at`` moves to now."""
    with db.transaction() as conn:
        row = conn.execute(
            "SELECT updated_at FROM customers WHERE user_id = ? AND is_guest = 1", (user_id,)
        ).fetchone()
        if row is None:
            raise ApiProblem(404, f"No guest customer {user_id}.")
        conn.execute(
            "UPDATE customers SET is_guest = 0, updated_at = ? WHERE user_id = ?",
            (now_text(after=row[0]), user_id),
        )


def _order_total(grand_total: float) -> int:
    """``grand_total`` taka as paisa; a 400 naming it unless from 0 to :data:`MAX_ORDER_TAKA`."""
    taka = float(grand_total)
    if not 0 <= taka <= MAX_ORDER_TAKA:  # NaN fails both comparisons
        raise bad("grand_total", grand_total, f"a number of taka from 0 to {MAX_ORDER_TAKA}")
    return round(taka * 100)


def _order_status(order_status: str) -> str:
    if not isinstance(order_status, str) or not 0 < len(order_status) <= MAX_STATUS_LENGTH:
        raise bad("order_status", order_status, f"text of 1 to {MAX_STATUS_LENGTH} characters")
    if any("\ud800" <= c <= "\udfff" for c in order_status):
        raise bad("order_status", order_status, "text without lone surrogates")
    return order_status


def add_order(db: Database, user_id: int, grand_total: float, order_status: str = "pending") -> int:
    """A new cash-on-delivery order of ``grand_total`` taka for ``user_id``; its ``order_id``."""
    paisa = _order_total(grand_total)
    order_status = _order_status(order_status)
    if not 0 < user_id <= MAX_INTEGER:
        raise ApiProblem(404, "Customer not found.")
    store = db.scalar("SELECT store_id FROM customers WHERE user_id = ?", (user_id,))
    if store is None:
        raise ApiProblem(404, "Customer not found.")
    stamp = now_text()
    with db.transaction() as conn:
        cursor = conn.execute(
            "INSERT INTO orders (store_id, user_id, order_status, financial_status, "
            "fulfillment_status, sub_total_paisa, tax_paisa, shipping_paisa, discount_paisa, "
            "grand_total_paisa, payment_method, note, created_at, updated_at) "
            "VALUES (?, ?, ?, 'unpaid', 'unfulfilled', ?, 0, 0, 0, ?, 'cod', NULL, ?, ?)",
            (store, user_id, order_status, paisa, paisa, stamp, stamp),
        )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def set_order_status(db: Database, order_id: int, order_status: str) -> None:
    order_status = _order_status(order_status)
    with db.transaction() as conn:
        row = conn.execute(
            "SELECT updated_at FROM orders WHERE order_id = ?", (order_id,)
        ).fetchone()
        if row is None:
            raise ApiProblem(404, "Order not found.")
        conn.execute(
            "UPDATE orders SET order_status = ?, updated_at = ? WHERE order_id = ?",
            (order_status, now_text(after=row[0]), order_id),
        )


def counts_body(counts: dict[tuple[str, str], int]) -> list[dict[str, Any]]:
    return [
        {"endpoint": endpoint, "credential": credential, "count": n}
        for (endpoint, credential), n in sorted(counts.items())
    ]


async def _requests(request: Request) -> JSONResponse:
    state = request.app.state.sandbox
    return JSONResponse({"data": counts_body(state.request_counts()), "status": 200})


async def _reset(request: Request) -> JSONResponse:
    request.app.state.sandbox.reset_counts()
    return JSONResponse({"message": "Counts reset.", "status": 200})


def _field(body: dict[str, Any], name: str, kinds: tuple[type, ...], what: str) -> Any:
    value = body.get(name)
    if not isinstance(value, kinds) or isinstance(value, bool):
        raise ApiProblem(400, f"'{name}' must be {what}, got {value!r}.", "validation_error")
    return value


def _id(request: Request, name: str) -> int:
    return path_id(request.path_params[name], name)


async def _convert(request: Request) -> JSONResponse:
    convert_guest(request.app.state.sandbox.db, _id(request, "user_id"))
    return JSONResponse({"message": "Guest converted.", "status": 200})


async def _add_order(request: Request) -> JSONResponse:
    body = json_object(await request.body())
    user_id = _field(body, "user_id", (int,), "an integer")
    grand_total = _field(body, "grand_total", (int, float), "a number of taka")
    status = _field({"order_status": "pending", **body}, "order_status", (str,), "a string")
    order_id = add_order(request.app.state.sandbox.db, user_id, float(grand_total), status)
    return JSONResponse({"data": {"order_id": order_id}, "status": 201}, status_code=201)


async def _set_status(request: Request) -> JSONResponse:
    status = _field(json_object(await request.body()), "order_status", (str,), "a string")
    set_order_status(request.app.state.sandbox.db, _id(request, "order_id"), status)
    return JSONResponse({"message": "Order updated.", "status": 200})


def routes() -> list[Route]:
    return [
        Route("/_sandbox/requests", _requests, methods=["GET"]),
        Route("/_sandbox/requests/reset", _reset, methods=["POST"]),
        Route("/_sandbox/customers/{user_id}/convert", _convert, methods=["POST"]),
        Route("/_sandbox/orders", _add_order, methods=["POST"]),
        Route("/_sandbox/orders/{order_id}", _set_status, methods=["PATCH"]),
        *campaigns.routes(),
    ]
