"""The sandbox under concurrent load: list pages byte for byte, reads beside writes.

List pages are compared with a rendering made here in plain Python (``json.dumps``) from the
generator's frames, for every page of every list endpoint, sort and money mode. Concurrency is
tested over real HTTP: many page walks at once, interleaved with creations and deletions.
"""

from __future__ import annotations

import json
import math
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pandas as pd
import pytest
from _sandbox_helpers import bearer

from selorax_analytics.sandbox import Sandbox, generate_store
from selorax_analytics.sandbox.db import Database

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


@pytest.fixture(scope="module")
def records(store):
    """Customer and order records as the API lists them, with their sort keys, built here."""
    orders = store.orders
    spent = orders["grand_total_paisa"].where(~orders["order_status"].isin(UNSPENT), 0)
    per_user = orders.assign(spent=spent).groupby("user_id")
    counts, paisa = per_user.size().to_dict(), per_user["spent"].sum().to_dict()
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
            "total_orders": counts.get(row["user_id"], 0),
            "total_spent": (paisa.get(row["user_id"], 0) + 50) // 100,
        }
        customers.append(record)
    orders_out = []
    for row in orders.to_dict("records"):
        record = {k: row[k] for k in ("order_id", "store_id", "user_id", "order_status")}
        record |= {k: row[k] for k in ("financial_status", "fulfillment_status")}
        record |= {m: row[f"{m}_paisa"] for m in MONEY}  # paisa; made taka per money mode
        record |= {"payment_method": row["payment_method"], "note": _none(row["note"])}
        record |= {"created_at": _stamp(row["created_at"]), "updated_at": _stamp(row["updated_at"])}
        orders_out.append(record)
    return customers, orders_out


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


@pytest.mark.parametrize("money_as_strings", [False, True])
def test_list_pages_are_byte_identical_to_an_independent_rendering(records, money_as_strings):
    customers, orders = records
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
    buyer = orders[0]["user_id"]
    own = [i for i, o in enumerate(orders) if o["user_id"] == buyer]
    keys = [(orders[i]["created_at"], orders[i]["order_id"]) for i in own]
    cases.append((f"/customers/{buyer}/orders", {}, [shown[i] for i in own], keys, "desc"))
    with Sandbox(customers=SMALL, money_as_strings=money_as_strings) as url, bearer(url) as api:
        for path, params, rows, keys, direction in cases:
            expected = _expected_pages(rows, keys, direction)
            assert len(expected) >= 2
            served = _served_pages(api, path, params, len(expected))
            for page, (got, want) in enumerate(zip(served, expected, strict=True), start=1):
                assert got == want, (path, params, page)


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
