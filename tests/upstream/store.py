"""``StoreApi``: a clean reference implementation of the documented Apps API v1, in memory.

Written from ``customers-api.txt`` and the platform notes, independently of the sandbox: the
records come from the demo-store generator (a few hundred customers and their orders) and are
rendered as the documentation shows them (timestamps with milliseconds and ``Z``, money in taka
as JSON numbers, ``address_json`` as an object). Every handler method returns a
:class:`~scripted.Reply`, so a scenario wraps the API and changes one thing::

    api = StoreApi()

    def handler(request):
        reply = api(request)
        if request.query.get("page") == "2":
            return dataclasses.replace(reply, headers=[("Date", None)])
        return reply
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import re
from typing import Any

import selorax_analytics as sa
from selorax_analytics.sandbox.frames import customer_totals
from selorax_analytics.sandbox.generator import generate_store

from .scripted import Reply, Request

PREFIX = "/api/apps/v1"
#: The one Bearer token the API accepts.
TOKEN = "sx_at_Ab3xQ9zz7Lk2Pq8Wm4Nc"
STORE_ID = 22
#: People in the generated store (guest duplicates add a few customer records).
PEOPLE = 400
SEED = 20240101
MAX_LIMIT = 250
MONEY = ("sub_total", "tax", "shipping", "discount", "grand_total")
CUSTOMER_SORTS = ("created_at", "updated_at", "name")
ORDER_SORTS = ("created_at", "updated_at", "grand_total")


class Problem(Exception):
    """An error answer in the documented envelope."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code

    def reply(self) -> Reply:
        body: dict[str, Any] = {"message": self.message, "status": self.status}
        if self.code:
            body["code"] = self.code
        return Reply(self.status, body)


def _iso(value: Any) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


@functools.lru_cache(maxsize=4)
def _rendered(people: int, seed: int) -> str:
    """Customers and orders as the API renders them, as JSON text (each StoreApi parses a copy)."""
    store = generate_store(seed=seed, customers=people, store_id=STORE_ID, items=False)
    totals = customer_totals(store.orders)
    customers = []
    for row in store.customers.to_dict("records"):
        spent = totals["total_spent"].get(row["user_id"], 0)
        address = row["address_json"]
        customers.append(
            {
                "user_id": int(row["user_id"]),
                "store_id": int(row["store_id"]),
                "name": row["name"],
                "email": None if _missing(row["email"]) else row["email"],
                "phone": row["phone"],
                "address_json": None if _missing(address) else json.loads(address),
                "is_guest": int(row["is_guest"]),
                "created_at": _iso(row["created_at"]),
                "updated_at": _iso(row["updated_at"]),
                "total_orders": int(totals["total_orders"].get(row["user_id"], 0)),
                "total_spent": int(spent),
            }
        )
    orders = []
    for row in store.orders.to_dict("records"):
        order = {k: v for k, v in row.items() if not k.endswith("_paisa")}
        order.update({m: round(row[f"{m}_paisa"] / 100, 2) for m in MONEY})
        order.update(
            order_id=int(row["order_id"]),
            store_id=int(row["store_id"]),
            user_id=int(row["user_id"]),
            note=None if _missing(row["note"]) else row["note"],
            created_at=_iso(row["created_at"]),
            updated_at=_iso(row["updated_at"]),
        )
        orders.append(order)
    return json.dumps({"customers": customers, "orders": orders})


def _instant(name: str, text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        message = f"`{name}` must be an ISO 8601 date; got {text!r}."
        raise Problem(400, message, "validation_error") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _integer(query: dict[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"[0-9]{1,9}", raw) or int(raw) < 1:
        raise Problem(400, f"`{name}` must be a positive integer; got {raw!r}.", "validation_error")
    return int(raw)


def _sorted(rows: list[dict[str, Any]], sort: str | None, allowed: tuple[str, ...], key: str):
    column, _, direction = (sort or "created_at:desc").partition(":")
    if column not in allowed or direction not in ("", "asc", "desc"):
        raise Problem(400, f"`sort` must be one of {allowed} with :asc/:desc.", "validation_error")
    if column in ("created_at", "updated_at"):
        rank = lambda r: (_instant(column, r[column]), r[key])  # noqa: E731
    else:
        rank = lambda r: (r[column], r[key])  # noqa: E731
    return sorted(rows, key=rank, reverse=direction == "desc")


class StoreApi:
    """The documented API over in-memory records; ``api(request)`` answers one request.

    Attributes
    ----------
    customers, orders : list of dict
        Every record as the API renders it (guests included), in id order. A scenario may
        change them; the answers follow.
    """

    token = TOKEN

    def __init__(self, people: int = PEOPLE, seed: int = SEED) -> None:
        data = json.loads(_rendered(people, seed))
        self.customers: list[dict[str, Any]] = data["customers"]
        self.orders: list[dict[str, Any]] = data["orders"]

    def __call__(self, request: Request) -> Reply:
        try:
            self.authenticate(request)
            return self.route(request)
        except Problem as problem:
            return problem.reply()

    def authenticate(self, request: Request) -> None:
        header = request.header("authorization")
        if header is None:
            raise Problem(401, "Missing access token.", "missing_token")
        if header != f"Bearer {TOKEN}":
            raise Problem(401, "Invalid or expired access token.", "invalid_token")

    def route(self, request: Request) -> Reply:
        path = request.path.removeprefix(PREFIX)
        if request.method != "GET":
            raise Problem(405, "Method not allowed.", "method_not_allowed")
        if path == "/store":
            return self.store(request)
        if path == "/customers":
            return self.list_customers(request)
        if path == "/orders":
            return self.list_orders(request)
        match = re.fullmatch(r"/customers/([0-9]+)/orders", path)
        if match:
            return self.customer_orders(request, int(match.group(1)))
        raise Problem(404, "Not found.", "not_found")

    # -- endpoints ----------------------------------------------------------------------
    def store(self, request: Request) -> Reply:
        body = {"data": {"store_id": STORE_ID, "name": "Demo Store", "currency": "BDT"}}
        return Reply(200, {**body, "status": 200})

    def list_customers(self, request: Request) -> Reply:
        query = request.query
        rows = self.customers
        if query.get("include_guests", "false").lower() not in ("true", "1"):
            rows = [r for r in rows if not r["is_guest"]]
        since = _instant("since", query.get("since"))
        if since is not None:
            rows = [r for r in rows if _instant("created_at", r["created_at"]) >= since]  # type: ignore[operator]
        return self.page(query, _sorted(rows, query.get("sort"), CUSTOMER_SORTS, "user_id"))

    def list_orders(self, request: Request) -> Reply:
        query = request.query
        rows = self.orders
        since, until = _instant("since", query.get("since")), _instant("until", query.get("until"))
        if since is not None:
            rows = [r for r in rows if _instant("created_at", r["created_at"]) >= since]  # type: ignore[operator]
        if until is not None:
            rows = [r for r in rows if _instant("created_at", r["created_at"]) <= until]  # type: ignore[operator]
        if query.get("status"):
            rows = [r for r in rows if r["order_status"] == query["status"]]
        if query.get("customer_id"):
            rows = [r for r in rows if r["user_id"] == _integer(query, "customer_id", 0)]
        return self.page(query, _sorted(rows, query.get("sort"), ORDER_SORTS, "order_id"))

    def customer_orders(self, request: Request, user_id: int) -> Reply:
        if not any(c["user_id"] == user_id for c in self.customers):
            raise Problem(404, "Customer not found.")
        rows = [o for o in self.orders if o["user_id"] == user_id]
        if request.query.get("status"):
            rows = [r for r in rows if r["order_status"] == request.query["status"]]
        return self.page(request.query, _sorted(rows, "created_at:desc", ORDER_SORTS, "order_id"))

    def page(self, query: dict[str, str], rows: list[dict[str, Any]]) -> Reply:
        """One page of ``rows`` by ``page`` and ``limit`` (clamped to 250), in the envelope."""
        page = _integer(query, "page", 1)
        limit = min(_integer(query, "limit", 50), MAX_LIMIT)
        data = rows[(page - 1) * limit : page * limit]
        pagination = {"page": page, "limit": limit, "total": len(rows)}
        return Reply(200, {"data": data, "pagination": pagination, "status": 200})


def client_for(up: Any, **options: Any) -> sa.Client:
    """A client of ``up`` with the API's token and short retry bounds (override by keyword)."""
    settings: dict[str, Any] = {"token": TOKEN, "max_retry_wait": 2.0, "timeout": 5.0}
    settings.update(options)
    return sa.Client(up.base_url, **settings)


__all__ = ["PREFIX", "STORE_ID", "TOKEN", "Problem", "StoreApi", "client_for"]
