"""The sandbox's SeloraX Apps API v1 over real HTTP: endpoints, parameters, shapes and errors.

Read-only tests use the session ``sandbox`` (the default demo store); tests that write start a
small sandbox of their own. Expected values come from the generator's frames through plain
pandas or SQLite, never from the server's own code.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import httpx
import pandas as pd
import pytest

from selorax_analytics.sandbox import DEMO_STORE_ID, DEMO_TOKEN, Sandbox
from tests._sandbox_helpers import (
    DETAIL_FIELDS,
    ITEM_FIELDS,
    ORDER_FIELDS,
    UPDATED_FIELDS,
    bearer,
    check_customer,
    check_error,
    check_order,
    client_credentials,
    paisa,
    walk,
)

UNSPENT = ("cancelled", "returned", "failed")  # the sandbox's documented assumption


@pytest.fixture(scope="module")
def api(sandbox):
    with bearer(sandbox.base_url) as client:
        yield client


@pytest.fixture(scope="module")
def expected(demo_store):
    """Store-22 customers with totals recomputed here from the generator's orders."""
    orders = demo_store.orders
    spent = orders["grand_total_paisa"].where(~orders["order_status"].isin(UNSPENT), 0)
    per_user = orders.assign(spent=spent).groupby("user_id")
    out = demo_store.customers.set_index("user_id")
    out["total_orders"] = per_user.size().reindex(out.index, fill_value=0)
    paisa_sum = per_user["spent"].sum().reindex(out.index, fill_value=0)
    out["total_spent"] = (paisa_sum + 50) // 100
    return out


@pytest.fixture(scope="module")
def small(sandbox_factory):
    """A private 500-person store for tests that write."""
    return sandbox_factory(customers=500)


@pytest.fixture
def small_api(small):
    with bearer(small.base_url) as client:
        yield client


def _registered(expected: pd.DataFrame) -> pd.DataFrame:
    return expected[expected["is_guest"] == 0]


def _matches(frame: pd.DataFrame, term: str) -> pd.Series:
    found = pd.Series(False, index=frame.index)
    for column in ("name", "email", "phone"):
        found |= frame[column].str.contains(term, case=False, regex=False).fillna(False)
    return found


# -- the spec's example requests --------------------------------------------------------------
def test_example_first_page_newest_first(api, expected):
    response = api.get("/customers?page=1&limit=50&sort=created_at:desc")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"data", "pagination", "status"}
    assert body["status"] == 200
    assert body["pagination"] == {"page": 1, "limit": 50, "total": len(_registered(expected))}
    assert len(body["data"]) == 50
    for record in body["data"]:
        check_customer(record)
        assert record["store_id"] == DEMO_STORE_ID and record["is_guest"] == 0
    stamps = [r["created_at"] for r in body["data"]]
    assert stamps == sorted(stamps, reverse=True)
    newest = _registered(expected).sort_values("created_at", ascending=False)
    assert stamps[0] == newest["created_at"].iloc[0].strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def test_example_search_and_spend(api, expected):
    body = api.get("/customers?search=rahim&total_spent_min=5000").json()
    reg = _registered(expected)
    want = reg[_matches(reg, "rahim") & (reg["total_spent"] >= 5000)]
    assert body["pagination"]["total"] == len(want) > 0
    for record in body["data"]:
        check_customer(record)
        assert record["total_spent"] >= 5000
        assert record["total_spent"] == want.loc[record["user_id"], "total_spent"]


def test_example_client_credentials_since(sandbox, expected):
    with client_credentials(sandbox.base_url) as client:
        body = client.get("/customers?since=2025-06-01T00:00:00Z&limit=50").json()
    reg = _registered(expected)
    want = reg[reg["created_at"] >= pd.Timestamp("2025-06-01", tz="UTC")]
    assert body["pagination"] == {"page": 1, "limit": 50, "total": len(want)}
    assert all(r["created_at"] >= "2025-06-01T00:00:00.000Z" for r in body["data"])
    for record in body["data"]:
        check_customer(record)


def test_example_search_sorted_by_name(api, expected):
    body = api.get("/customers?search=rahim&sort=name:asc").json()
    reg = _registered(expected)
    want = reg[_matches(reg, "rahim")].reset_index().sort_values(["name", "user_id"])
    assert body["pagination"]["total"] == len(want)
    assert [r["user_id"] for r in body["data"]] == want["user_id"].tolist()[:50]


def test_example_loyal_customers(api, expected):
    response = api.get(
        "/customers", params={"total_orders_min": 5, "sort": "created_at:desc", "limit": 50}
    )
    body = response.json()
    reg = _registered(expected)
    want = reg[reg["total_orders"] >= 5]
    assert body["pagination"] == {"page": 1, "limit": 50, "total": len(want)}
    assert all(r["total_orders"] >= 5 for r in body["data"])


def test_example_get_customer(api, expected):
    user_id = int(expected[expected["address_json"].notna()].index[0])
    body = api.get(f"/customers/{user_id}").json()
    assert set(body) == {"data", "status"} and body["status"] == 200
    record = body["data"]
    check_customer(record, DETAIL_FIELDS)
    row = expected.loc[user_id]
    assert record["user_id"] == user_id and record["phone"] == row["phone"]
    assert record["is_phone_verified"] == row["is_phone_verified"]
    assert record["is_email_verified"] == row["is_email_verified"]
    assert set(record["address_json"]) == {"address", "city", "area"}
    assert record["total_orders"] == row["total_orders"]
    assert record["total_spent"] == row["total_spent"]


def test_example_customer_delivered_orders(api, demo_store):
    orders = demo_store.orders
    delivered = orders[orders["order_status"] == "delivered"]
    user_id = int(delivered["user_id"].value_counts().index[0])
    body = api.get(f"/customers/{user_id}/orders?status=delivered&limit=10").json()
    want = delivered[delivered["user_id"] == user_id]
    assert body["pagination"] == {"page": 1, "limit": 10, "total": len(want)}
    assert len(body["data"]) == min(10, len(want))
    for record in body["data"]:
        check_order(record)
        assert record["order_status"] == "delivered" and record["user_id"] == user_id
        row = want.set_index("order_id").loc[record["order_id"]]
        assert paisa(record["grand_total"]) == row["grand_total_paisa"]
    stamps = [r["created_at"] for r in body["data"]]
    assert stamps == sorted(stamps, reverse=True)


def test_example_update_customer(small, small_api):
    user_id = small_api.get("/customers?limit=1").json()["data"][0]["user_id"]
    before = small_api.get(f"/customers/{user_id}").json()["data"]
    address = {"address": "456 New Street", "city": "Dhaka", "area": "Gulshan"}
    response = small_api.put(
        f"/customers/{user_id}", json={"name": "Rahim Ahmed Khan", "address_json": address}
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"data", "message", "status"}
    assert body["message"] == "Customer updated." and body["status"] == 200
    check_customer(body["data"], UPDATED_FIELDS)
    data = body["data"]
    assert data["name"] == "Rahim Ahmed Khan" and data["address_json"] == address
    for unchanged in ("email", "phone", "is_guest", "created_at", "is_phone_verified"):
        assert data[unchanged] == before[unchanged]
    assert data["updated_at"] > before["updated_at"]
    after = small_api.get(f"/customers/{user_id}").json()["data"]
    assert after["name"] == "Rahim Ahmed Khan" and after["address_json"] == address


def test_example_create_and_delete_customer(small_api):
    address = {"address": "789 Park Avenue", "city": "Chittagong"}
    payload = {
        "name": "Karim Hossain",
        "phone": "01812345678",
        "email": "karim@example.com",
        "address": address,
    }
    response = small_api.post("/customers", json=payload)
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"data", "status"} and body["status"] == 201
    data = body["data"]
    assert set(data) == {"user_id", "name", "phone", "email", "store_id"}
    assert (data["name"], data["phone"], data["email"]) == (
        "Karim Hossain",
        "01812345678",
        "karim@example.com",
    )
    assert data["store_id"] == DEMO_STORE_ID and type(data["user_id"]) is int
    created = small_api.get(f"/customers/{data['user_id']}").json()["data"]
    assert created["address_json"] == address and created["is_guest"] == 0
    assert (created["total_orders"], created["total_spent"]) == (0, 0)

    check_error(small_api.post("/customers", json=payload), 409)
    deleted = small_api.delete(f"/customers/{data['user_id']}")
    assert deleted.status_code == 200 and deleted.json()["status"] == 200
    gone = small_api.get(f"/customers/{data['user_id']}")
    assert gone.status_code == 404
    assert gone.json() == {"message": "Customer not found.", "status": 404}
    check_error(small_api.delete(f"/customers/{data['user_id']}"), 404)


# -- writes: validation and rules -------------------------------------------------------------
def test_delete_customer_with_orders_is_refused(small_api):
    buyer = small_api.get("/customers?total_orders_min=1&limit=1").json()["data"][0]
    message = check_error(small_api.delete(f"/customers/{buyer['user_id']}"), 400)
    assert "order" in message.lower()
    assert small_api.get(f"/customers/{buyer['user_id']}").status_code == 200


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({}, "field"),
        ({"email": "not-an-email"}, "email"),
        ({"name": "x" * 256}, "name"),
        ({"phone": "0" * 21}, "phone"),
        ({"address_json": "Dhaka"}, "address_json"),
    ],
)
def test_update_validation(small_api, body, named):
    user_id = small_api.get("/customers?limit=1").json()["data"][0]["user_id"]
    before = small_api.get(f"/customers/{user_id}").json()["data"]
    message = check_error(small_api.put(f"/customers/{user_id}", json=body), 400)
    assert named in message
    assert small_api.get(f"/customers/{user_id}").json()["data"] == before


def test_update_limits_are_inclusive_and_only_given_fields_change(small_api):
    user_id = small_api.get("/customers?limit=1&sort=name:asc").json()["data"][0]["user_id"]
    before = small_api.get(f"/customers/{user_id}").json()["data"]
    response = small_api.put(f"/customers/{user_id}", json={"name": "N" * 255})
    assert response.status_code == 200
    after = response.json()["data"]
    assert after["name"] == "N" * 255
    assert {k: v for k, v in after.items() if k not in ("name", "updated_at")} == {
        k: v for k, v in before.items() if k in after and k not in ("name", "updated_at")
    }
    email = small_api.put(f"/customers/{user_id}", json={"email": "new@example.com"})
    assert email.json()["data"]["email"] == "new@example.com"
    assert email.json()["data"]["name"] == "N" * 255


def test_update_errors(small_api):
    check_error(small_api.put("/customers/999999", json={"name": "Nobody"}), 404)
    first, second = small_api.get("/customers?limit=2").json()["data"]
    response = small_api.put(f"/customers/{first['user_id']}", content=b"{not json")
    check_error(response, 400)
    check_error(small_api.put(f"/customers/{first['user_id']}", json=["name"]), 400)
    taken = small_api.put(f"/customers/{first['user_id']}", json={"phone": second["phone"]})
    check_error(taken, 409)


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"phone": "01712000001"}, "name"),
        ({"name": "Nameless Phone"}, "phone"),
        ({"name": "Short", "phone": "017120"}, "phone"),
        ({"name": "Bad Mail", "phone": "01712000002", "email": "nope"}, "email"),
        ({"name": "Bad Address", "phone": "01712000003", "address": "Dhaka"}, "address"),
    ],
)
def test_create_validation(small_api, body, named):
    total = small_api.get("/customers?include_guests=true").json()["pagination"]["total"]
    assert named in check_error(small_api.post("/customers", json=body), 400)
    after = small_api.get("/customers?include_guests=true").json()["pagination"]["total"]
    assert after == total


def test_missing_or_malformed_customer_ids(small_api):
    check_error(small_api.get("/customers/abc"), 400)
    check_error(small_api.get("/customers/999999/orders"), 404)
    assert small_api.get("/customers/999999").json() == {
        "message": "Customer not found.",
        "status": 404,
    }


# -- orders -----------------------------------------------------------------------------------
def test_orders_list_and_filters(api, demo_store):
    orders = demo_store.orders
    body = api.get("/orders").json()
    assert body["pagination"] == {"page": 1, "limit": 50, "total": len(orders)}
    for record in body["data"]:
        check_order(record)
    newest = orders.sort_values(["created_at", "order_id"], ascending=False)["order_id"]
    assert [r["order_id"] for r in body["data"]] == newest.tolist()[:50]

    since, until = "2025-03-01T00:00:00Z", "2025-03-31T23:59:59Z"
    window = orders[
        (orders["created_at"] >= pd.Timestamp(since))
        & (orders["created_at"] <= pd.Timestamp(until))
    ]
    got = api.get("/orders", params={"since": since, "until": until}).json()
    assert got["pagination"]["total"] == len(window) > 0
    returned = orders[orders["order_status"] == "returned"]
    got = api.get("/orders?status=returned").json()
    assert got["pagination"]["total"] == len(returned) > 0
    user_id = int(orders["user_id"].value_counts().index[0])
    got = api.get(f"/orders?customer_id={user_id}&limit=250").json()
    assert sorted(r["order_id"] for r in got["data"]) == sorted(
        orders.loc[orders["user_id"] == user_id, "order_id"]
    )


@pytest.mark.parametrize("key", ["created_at", "updated_at", "grand_total"])
@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_orders_sort(api, demo_store, key, direction):
    column = "grand_total_paisa" if key == "grand_total" else key
    ascending = direction == "asc"
    want = demo_store.orders.sort_values([column, "order_id"], ascending=ascending)
    got = api.get(f"/orders?sort={key}:{direction}&limit=250&page=2").json()["data"]
    assert [r["order_id"] for r in got] == want["order_id"].tolist()[250:500]


def test_order_with_line_items(api, demo_store):
    multi = demo_store.items["order_id"].value_counts()
    order_id = int(multi[multi == 6].index[0])
    body = api.get(f"/orders/{order_id}").json()
    assert set(body) == {"data", "status"}
    order = body["data"]
    check_order(order, ORDER_FIELDS | {"items"})
    assert len(order["items"]) == 6
    for item in order["items"]:
        assert set(item) == ITEM_FIELDS and item["order_id"] == order_id
    lines = sum(paisa(i["price"]) * i["quantity"] for i in order["items"])
    assert lines == paisa(order["sub_total"])
    p = {k: paisa(order[k]) for k in ("sub_total", "tax", "shipping", "discount", "grand_total")}
    assert p["grand_total"] == p["sub_total"] + p["tax"] + p["shipping"] - p["discount"]
    assert api.get("/orders/99999999").json() == {"message": "Order not found.", "status": 404}


def test_store_endpoint(api):
    body = api.get("/store").json()
    assert body == {
        "data": {"store_id": DEMO_STORE_ID, "name": "Demo Store", "currency": "BDT"},
        "status": 200,
    }


def test_money_as_strings():
    with Sandbox(customers=50, money_as_strings=True) as url, bearer(url) as client:
        order = client.get("/orders?limit=1").json()["data"][0]
        detail = client.get(f"/orders/{order['order_id']}").json()["data"]
    for key in ("sub_total", "tax", "shipping", "discount", "grand_total"):
        assert isinstance(order[key], str) and len(order[key].split(".")[1]) == 2
    assert all(isinstance(i["price"], str) for i in detail["items"])


# -- validation -------------------------------------------------------------------------------
BAD_QUERIES = [
    ("limit=0", "limit"),
    ("limit=abc", "limit"),
    ("page=0", "page"),
    ("page=-1", "page"),
    ("sort=name:up", "sort"),
    ("sort=email:asc", "sort"),
    ("since=yesterday", "since"),
    ("page=" + "9" * 25, "page"),
    ("limit=%EF%BC%95", "limit"),  # a full-width digit five
]


@pytest.mark.parametrize(
    ("path", "query", "named"),
    [
        (path, query, named)
        for path in ("/customers", "/orders", "/customers/1/orders")
        for query, named in BAD_QUERIES
        if not (path == "/customers/1/orders" and named == "since")  # it takes no `since`
    ],
)
def test_bad_query_values_answer_400_naming_the_parameter(api, path, query, named):
    message = check_error(api.get(f"{path}?{query}"), 400)
    assert f"'{named}'" in message


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("include_guests=maybe", "include_guests"),
        ("total_orders_min=many", "total_orders_min"),
        ("total_spent_min=-5", "total_spent_min"),
    ],
)
def test_bad_customer_filters(api, query, named):
    assert f"'{named}'" in check_error(api.get(f"/customers?{query}"), 400)


@pytest.mark.parametrize(
    ("query", "named"), [("until=soon", "until"), ("customer_id=x", "customer_id")]
)
def test_bad_order_filters(api, query, named):
    assert f"'{named}'" in check_error(api.get(f"/orders?{query}"), 400)


@pytest.mark.parametrize("path", ["/customers", "/orders", "/customers/1/orders"])
@pytest.mark.parametrize("limit", ["500", "9" * 25])
def test_limit_above_250_is_clamped(api, path, limit):
    body = api.get(f"{path}?limit={limit}&include_guests=true").json()
    assert body["pagination"]["limit"] == 250
    assert len(body["data"]) == min(250, body["pagination"]["total"])


def test_the_last_possible_page_is_empty_not_an_overflow(api):
    page = (2**63 - 1) // 250
    body = api.get(f"/customers?page={page}&limit=250").json()
    assert body["data"] == [] and body["pagination"]["page"] == page


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("total_orders_min=" + "9" * 25, "total_orders_min"),
        ("total_spent_min=1e3", "total_spent_min"),
    ],
)
def test_out_of_range_filters(api, query, named):
    assert f"'{named}'" in check_error(api.get(f"/customers?{query}"), 400)


@pytest.mark.parametrize("raw", ["9" * 25, "%EF%BC%95", "-3", "1.0"])
@pytest.mark.parametrize("template", ["/customers/{}", "/customers/{}/orders", "/orders/{}"])
def test_malformed_path_ids_are_400(api, raw, template):
    message = check_error(api.get(template.format(raw)), 400)
    assert "_id'" in message


def test_unknown_endpoint_and_method(api):
    check_error(api.get("/products"), 404)
    check_error(api.patch("/customers/1", json={"name": "x"}), 405)


# -- sorting, search, filters, totals, walking ------------------------------------------------
@pytest.mark.parametrize("key", ["created_at", "updated_at", "name"])
@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_customer_sort_walks_in_order_with_user_id_tiebreak(api, expected, key, direction):
    got = [r["user_id"] for r in walk(api, "/customers", sort=f"{key}:{direction}")]
    want = (
        _registered(expected)
        .reset_index()
        .sort_values([key, "user_id"], ascending=direction == "asc")["user_id"]
    )
    assert got == want.tolist()


def test_walking_all_pages_yields_every_customer_once(api, expected):
    records = walk(api, "/customers", include_guests="true")
    ids = [r["user_id"] for r in records]
    assert len(ids) == len(set(ids)) == len(expected)
    assert set(ids) == set(expected.index)
    guests = api.get("/customers?include_guests=false").json()["pagination"]["total"]
    assert guests == len(_registered(expected))
    beyond = api.get(f"/customers?page={len(ids) // 50 + 2}").json()
    assert beyond["data"] == [] and beyond["pagination"]["total"] == guests


def test_totals_match_a_sql_computation_from_the_orders(api):
    customers = walk(api, "/customers", include_guests="true")
    orders = walk(api, "/orders")
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE o (user_id INTEGER, status TEXT, paisa INTEGER)")
    db.executemany(
        "INSERT INTO o VALUES (?, ?, ?)",
        [(o["user_id"], o["order_status"], paisa(o["grand_total"])) for o in orders],
    )
    marks = ", ".join("?" * len(UNSPENT))
    rows = db.execute(
        f"SELECT user_id, COUNT(*), SUM(CASE WHEN status IN ({marks}) THEN 0 ELSE paisa END) "
        "FROM o GROUP BY user_id",
        UNSPENT,
    ).fetchall()
    want = {user_id: (n, (spent + 50) // 100) for user_id, n, spent in rows}
    got = {c["user_id"]: (c["total_orders"], c["total_spent"]) for c in customers}
    assert {k: v for k, v in got.items() if v != (0, 0)} == want
    assert sum(n for n, _ in got.values()) == len(orders)


@pytest.mark.parametrize("term", ["RAHIM", "gmail.com", "+880", "-", "0171", "khatun"])
def test_search_matches_name_email_or_phone(api, expected, term):
    got = {r["user_id"] for r in walk(api, "/customers", search=term, include_guests="true")}
    want = set(expected.index[_matches(expected, term)])
    assert got == want and got


def test_search_treats_wildcards_literally(api):
    assert api.get("/customers?search=%25").json()["pagination"]["total"] == 0
    assert api.get("/customers?search=_").json()["pagination"]["total"] == 0


@pytest.mark.parametrize("term", ["\x00", "Rahim\x00", "\n", "\x7f"])
def test_search_with_a_control_character_is_refused(api, term):
    # SQLite's LIKE stops at a NUL byte: unrefused, "%00" matched every customer
    response = api.get("/customers", params={"search": term, "include_guests": "true"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error" and "'search'" in body["message"]
    assert "control characters" in body["message"]


@pytest.mark.parametrize(
    "query",
    [
        {"include_guests": "true", "total_orders_min": "3"},
        {"total_spent_min": "10000"},
        {"include_guests": "true", "since": "2026-01-01"},
        {"include_guests": "true", "since": "2026-01-01T06:00:00+06:00", "total_orders_min": "1"},
    ],
)
def test_filters(api, expected, query):
    frame = expected if query.get("include_guests") == "true" else _registered(expected)
    keep = pd.Series(True, index=frame.index)
    if "total_orders_min" in query:
        keep &= frame["total_orders"] >= int(query["total_orders_min"])
    if "total_spent_min" in query:
        keep &= frame["total_spent"] >= int(query["total_spent_min"])
    if "since" in query:
        since = pd.Timestamp(query["since"])
        since = since.tz_localize("UTC") if since.tzinfo is None else since.tz_convert("UTC")
        keep &= frame["created_at"] >= since
    got = {r["user_id"] for r in walk(api, "/customers", **query)}
    assert got == set(frame.index[keep]) and got


# -- sandbox-only changes ---------------------------------------------------------------------
def test_store_changes_move_the_totals(small, small_api):
    guest = small_api.get("/customers?include_guests=true&total_orders_min=1&sort=name:asc")
    guest_id = next(r["user_id"] for r in guest.json()["data"] if r["is_guest"] == 1)
    before = small_api.get(f"/customers/{guest_id}").json()["data"]
    order_id = small.add_order(guest_id, 1460.5, "delivered")
    after = small_api.get(f"/customers/{guest_id}").json()["data"]
    assert after["total_orders"] == before["total_orders"] + 1
    assert after["total_spent"] * 100 == pytest.approx(before["total_spent"] * 100 + 146050, abs=50)
    small.set_order_status(order_id, "cancelled")
    cancelled = small_api.get(f"/customers/{guest_id}").json()["data"]
    assert cancelled["total_orders"] == after["total_orders"]
    assert cancelled["total_spent"] == before["total_spent"]
    assert small_api.get(f"/orders/{order_id}").json()["data"]["order_status"] == "cancelled"
    small.convert_guest(guest_id)
    converted = small_api.get(f"/customers/{guest_id}").json()["data"]
    assert converted["is_guest"] == 0 and converted["updated_at"] > before["updated_at"]
    registered = {r["user_id"] for r in walk(small_api, "/customers")}
    assert guest_id in registered


def test_store_changes_over_http(small):
    with httpx.Client(base_url=small.base_url, timeout=30) as raw, bearer(small.base_url) as api:
        user_id = api.get("/customers?limit=1").json()["data"][0]["user_id"]
        made = raw.post("/_sandbox/orders", json={"user_id": user_id, "grand_total": 99.99})
        assert made.status_code == 201
        order_id = made.json()["data"]["order_id"]
        assert api.get(f"/orders/{order_id}").json()["data"]["order_status"] == "pending"
        patched = raw.patch(f"/_sandbox/orders/{order_id}", json={"order_status": "shipped"})
        assert patched.status_code == 200
        assert api.get(f"/orders/{order_id}").json()["data"]["order_status"] == "shipped"
        assert raw.post(f"/_sandbox/customers/{user_id}/convert").status_code == 404


def test_data_folder_serves_the_same_store_as_the_generator(api):
    data = Path(__file__).parents[2] / "data"
    with Sandbox(data=data) as url, bearer(url) as replay:
        for path in ("/customers", "/orders"):
            assert walk(replay, path, include_guests="true") == walk(
                api, path, include_guests="true"
            )
        for order_id in (1, 2, 3500, 7020):
            assert replay.get(f"/orders/{order_id}").json() == api.get(f"/orders/{order_id}").json()
        user_ids = [1, 2500, 5065]
        for user_id in user_ids:
            assert (
                replay.get(f"/customers/{user_id}").json()
                == api.get(f"/customers/{user_id}").json()
            )


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/_sandbox/orders", {}, 400),
        ("POST", "/_sandbox/orders", {"user_id": "1", "grand_total": 10}, 400),
        ("POST", "/_sandbox/orders", {"user_id": 1, "grand_total": "10"}, 400),
        ("POST", "/_sandbox/orders", {"user_id": 1, "grand_total": 10, "order_status": 3}, 400),
        ("POST", "/_sandbox/orders", {"user_id": 999999, "grand_total": 10}, 404),
        ("POST", "/_sandbox/orders", {"user_id": 10**30, "grand_total": 10}, 400),
        ("POST", "/_sandbox/orders", {"user_id": 1, "grand_total": -1}, 400),
        ("POST", "/_sandbox/orders", {"user_id": 1, "grand_total": 1e308}, 400),
        ("POST", "/_sandbox/orders", {"user_id": 1, "grand_total": 10, "order_status": ""}, 400),
        ("PATCH", "/_sandbox/orders/1", {}, 400),
        ("PATCH", "/_sandbox/orders/999999", {"order_status": "shipped"}, 404),
        ("POST", "/_sandbox/customers/" + "9" * 25 + "/convert", None, 400),
        ("POST", "/_sandbox/customers/abc/convert", None, 400),
        ("POST", "/_sandbox/customers/999999/convert", None, 404),
        ("PATCH", "/_sandbox/orders/-1", {"order_status": "shipped"}, 400),
    ],
)
def test_sandbox_only_endpoints_refuse_bad_input(small, method, path, body, status):
    with httpx.Client(base_url=small.base_url, timeout=30) as raw:
        check_error(raw.request(method, path, json=body), status)


def test_concurrent_creates_get_distinct_ids_and_one_phone_wins(small):
    async def create(bodies):
        async with httpx.AsyncClient(
            base_url=small.base_url + "/api/apps/v1",
            headers={"Authorization": f"Bearer {DEMO_TOKEN}"},
            limits=httpx.Limits(max_connections=len(bodies)),
            timeout=60,
        ) as client:
            return await asyncio.gather(*(client.post("/customers", json=b) for b in bodies))

    fresh = [{"name": f"Person {i}", "phone": f"0191100{i:04d}"} for i in range(64)]
    responses = asyncio.run(create(fresh))
    assert [r.status_code for r in responses] == [201] * 64
    assert len({r.json()["data"]["user_id"] for r in responses}) == 64
    same = [{"name": f"Twin {i}", "phone": "01922000000"} for i in range(10)]
    statuses = sorted(r.status_code for r in asyncio.run(create(same)))
    assert statuses == [201] + [409] * 9


def test_updated_at_moves_forward_even_when_the_clock_is_behind_the_data(tmp_path):
    future = "2099-01-01T00:00:00.000Z"
    customers = pd.DataFrame(
        {
            "user_id": [1, 2],
            "store_id": [22, 22],
            "name": ["Future Person", "Future Guest"],
            "phone": ["01711000001", "01711000002"],
            "is_guest": [0, 1],
            "created_at": [future, future],
            "updated_at": [future, future],
        }
    )
    orders = pd.DataFrame(
        {
            "order_id": [5],
            "user_id": [2],
            "order_status": ["pending"],
            "financial_status": ["unpaid"],
            "fulfillment_status": ["unfulfilled"],
            "sub_total": [100.0],
            "tax": [0.0],
            "shipping": [60.0],
            "discount": [0.0],
            "grand_total": [160.0],
            "payment_method": ["cod"],
            "created_at": [future],
            "updated_at": [future],
        }
    )
    customers.to_parquet(tmp_path / "customers.parquet", index=False)
    orders.to_parquet(tmp_path / "orders.parquet", index=False)
    with Sandbox(data=tmp_path) as url, bearer(url) as client:
        stamps = [
            client.put("/customers/1", json={"name": f"Name {i}"}).json()["data"]["updated_at"]
            for i in range(3)
        ]
        assert stamps == [f"2099-01-01T00:00:00.00{i}Z" for i in (1, 2, 3)]
        with httpx.Client(base_url=url, timeout=30) as raw:
            raw.post("/_sandbox/customers/2/convert").raise_for_status()
            raw.patch("/_sandbox/orders/5", json={"order_status": "shipped"}).raise_for_status()
        assert client.get("/customers/2").json()["data"]["updated_at"] > future
        assert client.get("/orders/5").json()["data"]["updated_at"] > future
