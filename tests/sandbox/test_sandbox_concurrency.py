"""The sandbox under concurrent load: list pages byte for byte, reads beside writes.

List pages are compared with a rendering made here in plain Python (``json.dumps``) from the
generator's frames, for every page of every list endpoint, sort and money mode. Concurrency is
tested over real HTTP: many page walks at once, interleaved with creations and deletions.
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pandas as pd
import pytest

from selorax_analytics.sandbox import Sandbox, generate_store
from selorax_analytics.sandbox.db import Database
from selorax_analytics.sandbox.sql import CUSTOMER_JSON_SQL, order_json_sql
from tests._sandbox_helpers import bearer

SMALL = 300  # people in the small store; the generator's default seed
UNSPENT = ("cancelled", "returned", "failed")  # the sandbox's documented assumption
MONEY = ("sub_total", "tax", "shipping", "discount", "grand_total")
LIMIT = 40  # small pages, so every list has several


def _stamp(value: pd.Timestamp) -> str:
    return value.tz_convert("UTC").isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _none(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


@pytest.fixture(scope="module")
def store():
    return generate_store(customers=SMALL)


def _with_totals(customers: list[dict], orders: list[dict]) -> list[dict]:
    """Customers with ``total_orders`` and ``total_spent`` counted here from ``orders``."""
    counts: dict[int, int] = {}
    paisa: dict[int, int] = {}
    for order in orders:
        user = order["user_id"]
        counts[user] = counts.get(user, 0) + 1
        spent = 0 if order["order_status"] in UNSPENT else order["grand_total"]
        paisa[user] = paisa.get(user, 0) + spent
    return [
        c
        | {"total_orders": counts.get(c["user_id"], 0)}
        | {"total_spent": (paisa.get(c["user_id"], 0) + 50) // 100}
        for c in customers
    ]


def _base_records(store) -> tuple[list[dict], list[dict]]:
    """Customers (without totals) and orders (money in paisa) as the API lists them."""
    customers = []
    for row in store.customers.to_dict("records"):
        address = _none(row["address_json"])
        record = {
            "user_id": row["user_id"],
            "store_id": row["store_id"],
            "name": row["name"],
            "email": _none(row["email"]),
            "phone": row["phone"],
            "address_json": None if address is None else json.loads(address),
            "is_guest": row["is_guest"],
            "created_at": _stamp(row["created_at"]),
            "updated_at": _stamp(row["updated_at"]),
        }
        customers.append(record)
    orders_out = []
    for row in store.orders.to_dict("records"):
        record = {k: row[k] for k in ("order_id", "store_id", "user_id", "order_status")}
        record |= {k: row[k] for k in ("financial_status", "fulfillment_status")}
        record |= {m: row[f"{m}_paisa"] for m in MONEY}  # paisa; made taka per money mode
        record |= {"payment_method": row["payment_method"], "note": _none(row["note"])}
        record |= {"created_at": _stamp(row["created_at"]), "updated_at": _stamp(row["updated_at"])}
        orders_out.append(record)
    return customers, orders_out


@pytest.fixture(scope="module")
def records(store):
    """Customer and order records as the API lists them, with their sort keys, built here."""
    customers, orders = _base_records(store)
    return _with_totals(customers, orders), orders


def _taka(paisa: int, as_text: bool) -> float | str:
    if as_text:
        sign = "-" if paisa < 0 else ""
        return f"{sign}{abs(paisa) // 100}.{abs(paisa) % 100:02d}"
    return paisa / 100


def _expected_pages(rows: list[dict], keys: list[tuple], direction: str) -> list[bytes]:
    """Every page at ``LIMIT`` (and the empty one after the last) as compact JSON bytes.

    ``keys[i]`` is ``(sort value, id)`` of ``rows[i]``: ties break on the id, same direction.
    """
    order = sorted(range(len(rows)), key=keys.__getitem__, reverse=direction == "desc")
    ordered = [rows[i] for i in order]
    pages = []
    for page in range(1, math.ceil(len(ordered) / LIMIT) + 2):
        body = {
            "data": ordered[(page - 1) * LIMIT : page * LIMIT],
            "pagination": {"page": page, "limit": LIMIT, "total": len(ordered)},
            "status": 200,
        }
        pages.append(json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode())
    return pages


def _served_pages(client, path: str, params: dict[str, str], count: int) -> list[bytes]:
    return [
        client.get(path, params={**params, "limit": LIMIT, "page": page}).content
        for page in range(1, count + 1)
    ]


def _cases(customers: list[dict], orders: list[dict], money_as_strings: bool) -> list[tuple]:
    """``(path, params, rows, keys, direction)`` for every list endpoint, sort and direction."""
    shown = [
        {k: _taka(v, money_as_strings) if k in MONEY else v for k, v in o.items()} for o in orders
    ]
    cases = []
    for sort in ("created_at", "updated_at", "name"):
        for direction in ("asc", "desc"):
            for guests in (True, False):
                rows = [c for c in customers if guests or not c["is_guest"]]
                keys = [(c[sort], c["user_id"]) for c in rows]
                params = {"sort": f"{sort}:{direction}", "include_guests": str(guests).lower()}
                cases.append(("/customers", params, rows, keys, direction))
    for sort in ("created_at", "updated_at", "grand_total"):
        for direction in ("asc", "desc"):
            keys = [(o[sort], o["order_id"]) for o in orders]  # money sorts on paisa
            cases.append(("/orders", {"sort": f"{sort}:{direction}"}, shown, keys, direction))
    return cases


def _customer_orders_case(orders: list[dict], buyer: int, money_as_strings: bool) -> tuple:
    own = [o for o in orders if o["user_id"] == buyer]
    shown = [
        {k: _taka(v, money_as_strings) if k in MONEY else v for k, v in o.items()} for o in own
    ]
    keys = [(o["created_at"], o["order_id"]) for o in own]
    return (f"/customers/{buyer}/orders", {}, shown, keys, "desc")


def _check_pages(api, cases: list[tuple]) -> None:
    for path, params, rows, keys, direction in cases:
        expected = _expected_pages(rows, keys, direction)
        assert len(expected) >= 2
        served = _served_pages(api, path, params, len(expected))
        for page, (got, want) in enumerate(zip(served, expected, strict=True), start=1):
            assert got == want, (path, params, page)


@pytest.mark.parametrize("money_as_strings", [False, True])
def test_list_pages_are_byte_identical_to_an_independent_rendering(records, money_as_strings):
    customers, orders = records
    cases = _cases(customers, orders, money_as_strings)
    cases.append(_customer_orders_case(orders, orders[0]["user_id"], money_as_strings))
    with Sandbox(customers=SMALL, money_as_strings=money_as_strings) as url, bearer(url) as api:
        _check_pages(api, cases)


@pytest.mark.parametrize("money_as_strings", [False, True])
def test_list_pages_stay_byte_identical_after_writes(store, money_as_strings):
    """Create, change and delete customers, add orders and change their status, convert a
    guest, all over HTTP; then every page equals a rendering of the changed records made here.

    Timestamps the sandbox stamps are read from the single-record endpoints.
    """
    customers, orders = _base_records(store)
    by_user = {c["user_id"]: c for c in customers}
    buyer = orders[0]["user_id"]
    guest = next(c["user_id"] for c in customers if c["is_guest"])
    with Sandbox(customers=SMALL, money_as_strings=money_as_strings) as url, bearer(url) as api:
        admin = httpx.Client(base_url=url + "/_sandbox", timeout=30)

        def stamps(path: str) -> dict[str, str]:
            data = api.get(path).json()["data"]
            return {"created_at": data["created_at"], "updated_at": data["updated_at"]}

        address = {"city": "Sylhet", "area": 'Zindabazar, "Lane" 2', "note": "দোকান"}
        made = []
        for n, name in enumerate(["Rahim Uddin", "Zara \u00c1lvarez", "Nusrat Jahan"]):
            phone = f"0181{n:07d}"
            body = {"name": name, "phone": phone, "email": f"new{n}@example.com"}
            if n == 0:
                body["address"] = address
            created = api.post("/customers", json=body)
            assert created.status_code == 201, created.text
            user_id = created.json()["data"]["user_id"]
            made.append(user_id)
            record = {"user_id": user_id, "store_id": store.store_id, "name": name}
            record |= {"email": body["email"], "phone": phone}
            record |= {"address_json": address if n == 0 else None, "is_guest": 0}
            by_user[user_id] = record | stamps(f"/customers/{user_id}")
        changed = api.put(f"/customers/{buyer}", json={"name": "Aaron Changed", "email": None})
        assert changed.status_code == 200, changed.text
        by_user[buyer] |= {"name": "Aaron Changed", "email": None} | stamps(f"/customers/{buyer}")
        assert api.delete(f"/customers/{made[2]}").status_code == 200
        del by_user[made[2]]
        assert admin.post(f"/customers/{guest}/convert").status_code == 200
        by_user[guest] |= {"is_guest": 0} | stamps(f"/customers/{guest}")
        for user_id, taka, status in ((made[0], 1460.5, "pending"), (buyer, 99.99, "delivered")):
            added = admin.post(
                "/orders", json={"user_id": user_id, "grand_total": taka, "order_status": status}
            )
            assert added.status_code == 201, added.text
            order_id = added.json()["data"]["order_id"]
            paisa = round(taka * 100)
            record = {"order_id": order_id, "store_id": store.store_id, "user_id": user_id}
            record |= {"order_status": status, "financial_status": "unpaid"}
            record |= {"fulfillment_status": "unfulfilled", "sub_total": paisa, "tax": 0}
            record |= {"shipping": 0, "discount": 0, "grand_total": paisa}
            record |= {"payment_method": "cod", "note": None}
            orders.append(record | stamps(f"/orders/{order_id}"))
        spent = next(o for o in orders if o["order_status"] not in UNSPENT)
        patched = admin.patch(f"/orders/{spent['order_id']}", json={"order_status": "cancelled"})
        assert patched.status_code == 200, patched.text
        spent |= {"order_status": "cancelled"} | stamps(f"/orders/{spent['order_id']}")
        admin.close()

        customers = _with_totals(list(by_user.values()), orders)
        cases = _cases(customers, orders, money_as_strings)
        for user_id in (buyer, made[0], spent["user_id"]):
            cases.append(_customer_orders_case(orders, user_id, money_as_strings))
        _check_pages(api, cases)


def test_concurrent_reads_beside_writes_stay_consistent(store):
    """Page walks at 12 at a time while customers are created, changed and deleted."""
    with Sandbox(customers=SMALL) as url, bearer(url) as api:
        stop = threading.Event()
        problems: list[str] = []

        def read(worker: int) -> int:
            pages = 0
            while not stop.is_set() or pages < 10:
                page = 1 + (pages + worker) % 10
                body = api.get(
                    "/customers", params={"include_guests": "true", "limit": LIMIT, "page": page}
                ).json()
                total, data = body["pagination"]["total"], body["data"]
                if len(data) != max(0, min(LIMIT, total - (page - 1) * LIMIT)):
                    problems.append(f"page {page}: {len(data)} rows with total {total}")
                pages += 1
            return pages

        def write(n: int) -> None:
            phone = f"0199{n:07d}"
            created = api.post("/customers", json={"name": f"Load {n}", "phone": phone})
            assert created.status_code == 201, created.text
            user_id = created.json()["data"]["user_id"]
            found = api.get(f"/customers/{user_id}")
            listed = api.get("/customers", params={"search": phone, "include_guests": "true"})
            if found.status_code != 200 or listed.json()["pagination"]["total"] != 1:
                problems.append(f"customer {user_id} not visible right after its 201")
            changed = api.put(f"/customers/{user_id}", json={"name": f"Changed {n}"})
            if api.get(f"/customers/{user_id}").json()["data"]["name"] != f"Changed {n}":
                problems.append(f"customer {user_id}: the change is not visible ({changed.text})")
            assert api.delete(f"/customers/{user_id}").status_code == 200
            # by phone, not id: the other writer may already have been given the freed id
            after = api.get("/customers", params={"search": phone, "include_guests": "true"})
            if after.json()["pagination"]["total"] != 0:
                problems.append(f"customer {user_id} still listed after its deletion")

        with ThreadPoolExecutor(14) as pool:
            readers = [pool.submit(read, w) for w in range(12)]
            writers = [
                pool.submit(lambda start=s: [write(n) for n in range(start, 60, 2)], s)
                for s in range(2)
            ]
            for future in writers:
                future.result()
            stop.set()
            read_pages = sum(f.result() for f in readers)
        assert not problems, problems[:5]
        assert read_pages >= 120
        # everything created was deleted again: the store is as the generator made it
        final = api.get("/customers", params={"include_guests": "true", "limit": 1}).json()
        assert final["pagination"]["total"] == len(store.customers)


def test_a_read_inside_a_transaction_sees_its_writes_and_others_see_them_at_commit(tmp_path):
    db = Database(tmp_path / "t.sqlite3")
    try:
        with db.transaction() as conn:
            conn.execute("INSERT INTO stores VALUES (1, 'One', 'BDT')")
            assert db.scalar("SELECT COUNT(*) FROM stores") == 1  # this thread, inside
            with ThreadPoolExecutor(1) as other:
                assert other.submit(db.scalar, "SELECT COUNT(*) FROM stores").result(10) == 0
        with ThreadPoolExecutor(4) as others:
            seen = list(others.map(lambda _: db.scalar("SELECT COUNT(*) FROM stores"), range(8)))
        assert seen == [1] * 8
        assert db.query("SELECT * FROM stores") == [
            {"store_id": 1, "name": "One", "currency": "BDT"}
        ]
    finally:
        db.close()
    with pytest.raises(Exception, match="closed"):
        db.scalar("SELECT 1")


def test_a_database_made_before_the_rendered_columns_and_totals_gets_them_on_opening(tmp_path):
    path = tmp_path / "old.sqlite3"
    db = Database(path)
    store40 = generate_store(customers=40)
    db.add_store(store40, "Demo Store")
    db.close()
    raw = sqlite3.connect(path)
    made_later = "name LIKE '%\\_render\\_%' ESCAPE '\\' OR name LIKE '%\\_totals\\_%' ESCAPE '\\'"
    triggers = raw.execute(f"SELECT name FROM sqlite_master WHERE {made_later}").fetchall()
    assert len(triggers) == 10
    for (name,) in triggers:
        raw.execute(f"DROP TRIGGER {name}")
    raw.execute("DROP TABLE list_totals")
    raw.execute("ALTER TABLE customers DROP COLUMN api_json")
    raw.execute("ALTER TABLE orders DROP COLUMN api_json")
    raw.execute("ALTER TABLE orders DROP COLUMN api_json_text")
    raw.commit()
    raw.close()
    db = Database(path)
    try:
        live = db.query(f"SELECT api_json, {CUSTOMER_JSON_SQL} AS live FROM customers")
        assert len(live) == 40 and all(r["api_json"] == r["live"] for r in live)
        for as_text, column in ((False, "api_json"), (True, "api_json_text")):
            rows = db.query(
                f"SELECT {column} AS kept, {order_json_sql(as_text)} AS live FROM orders"
            )
            assert rows and all(r["kept"] == r["live"] is not None for r in rows)
        totals = db.query("SELECT store_id, customers, guests, orders FROM list_totals")
        guests = int(store40.customers["is_guest"].sum())
        assert totals == [
            {
                "store_id": store40.store_id,
                "customers": 40,
                "guests": guests,
                "orders": len(store40.orders),
            }
        ]
        with db.transaction() as conn:  # the triggers are back: a change is rendered
            conn.execute("UPDATE customers SET name = 'Renamed' WHERE user_id = 1")
            conn.execute("UPDATE customers SET is_guest = 1 - is_guest WHERE user_id = 1")
        flipped = 1 if store40.customers.set_index("user_id").loc[1, "is_guest"] else -1
        assert db.scalar("SELECT guests FROM list_totals") == guests - flipped
        assert (
            json.loads(db.scalar("SELECT api_json FROM customers WHERE user_id = 1"))["name"]
            == "Renamed"
        )
    finally:
        db.close()
