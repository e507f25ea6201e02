"""Sandbox authentication, scopes and store isolation over real HTTP."""

from __future__ import annotations

import httpx
import pytest

from selorax_analytics.sandbox import (
    CUSTOMERS_ONLY_TOKEN,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_STORE_ID,
    DEMO_TOKEN,
    SECOND_STORE_ID,
    SECOND_STORE_TOKEN,
    Credential,
)
from tests._sandbox_helpers import PREFIX, bearer, check_error, client_credentials

ORDERS_ONLY = "sx_at_orders_only"


@pytest.fixture(scope="module")
def small(sandbox_factory):
    """A private 40-person store with an extra ``read:orders`` token, for tests that write."""
    extra = {ORDERS_ONLY: Credential("orders-only", DEMO_STORE_ID, frozenset({"read:orders"}))}
    return sandbox_factory(customers=40, tokens=extra)


def _raw(sandbox, headers: dict[str, str]) -> httpx.Client:
    return httpx.Client(base_url=sandbox.base_url + PREFIX, headers=headers, timeout=30)


def test_bearer_and_client_credentials_see_the_same_store(sandbox):
    with bearer(sandbox.base_url) as a, client_credentials(sandbox.base_url) as b:
        first = a.get("/customers?sort=name:asc&limit=20").json()
        second = b.get("/customers?sort=name:asc&limit=20").json()
    assert first == second
    assert {r["store_id"] for r in first["data"]} == {DEMO_STORE_ID}


def test_missing_credentials(sandbox):
    with _raw(sandbox, {}) as client:
        check_error(client.get("/customers"), 401, "missing_token")
    with _raw(sandbox, {"X-Store-Id": str(DEMO_STORE_ID)}) as client:
        check_error(client.get("/customers"), 401, "missing_token")


@pytest.mark.parametrize(
    "authorization", ["Bearer sx_at_nope", "Bearer", "Basic dXNlcjpwYXNz", "sx_at_demo"]
)
def test_invalid_token(sandbox, authorization):
    with _raw(sandbox, {"Authorization": authorization}) as client:
        check_error(client.get("/customers"), 401, "invalid_token")
        check_error(client.get("/customers/1"), 401, "invalid_token")


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Client-Id": DEMO_CLIENT_ID, "X-Client-Secret": "sx_secret_wrong"},
        {"X-Client-Id": "sx_app_unknown", "X-Client-Secret": DEMO_CLIENT_SECRET},
        {"X-Client-Id": DEMO_CLIENT_ID},
        {"X-Client-Secret": DEMO_CLIENT_SECRET},
    ],
)
def test_invalid_client(sandbox, headers):
    with _raw(sandbox, {**headers, "X-Store-Id": str(DEMO_STORE_ID)}) as client:
        check_error(client.get("/customers"), 401, "invalid_client")


def test_missing_store_id(sandbox):
    headers = {"X-Client-Id": DEMO_CLIENT_ID, "X-Client-Secret": DEMO_CLIENT_SECRET}
    with _raw(sandbox, headers) as client:
        message = check_error(client.get("/customers"), 400, "missing_store_id")
    assert "X-Store-Id" in message


def test_client_credentials_for_a_store_the_app_is_not_on(sandbox):
    with client_credentials(sandbox.base_url, SECOND_STORE_ID) as client:
        check_error(client.get("/customers"), 401, "not_installed")


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("GET", "/orders", "read:orders"),
        ("GET", "/orders/1", "read:orders"),
        ("PUT", "/customers/1", "write:customers"),
        ("POST", "/customers", "write:customers"),
        ("DELETE", "/customers/1", "write:customers"),
    ],
)
def test_insufficient_scope_names_the_scope(small, method, path, scope):
    with bearer(small.base_url, CUSTOMERS_ONLY_TOKEN) as client:
        before = client.get("/customers?include_guests=true").json()
        response = client.request(method, path, json={"name": "X", "phone": "01711111111"})
        message = check_error(response, 403, "insufficient_scope")
        assert scope in message
        assert client.get("/customers?include_guests=true").json() == before


def test_read_customers_scope_reads_customers_and_their_orders(sandbox):
    with bearer(sandbox.base_url, CUSTOMERS_ONLY_TOKEN) as client:
        assert client.get("/customers").status_code == 200
        assert client.get("/customers/1").status_code == 200
        assert client.get("/customers/1/orders").status_code == 200


def test_an_added_token_carries_its_store_and_scopes(small):
    with bearer(small.base_url, ORDERS_ONLY) as client:
        assert client.get("/orders").status_code == 200
        assert "read:customers" in check_error(client.get("/customers"), 403, "insufficient_scope")


# -- store isolation ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def stores(sandbox):
    """One customer and one order of each store, found through the store's own token."""
    found = {}
    for token in (DEMO_TOKEN, SECOND_STORE_TOKEN):
        with bearer(sandbox.base_url, token) as client:
            customer = client.get("/customers?total_orders_min=1&limit=1").json()["data"][0]
            order = client.get("/orders?limit=1").json()["data"][0]
        found[customer["store_id"]] = (customer["user_id"], order["order_id"])
    assert set(found) == {DEMO_STORE_ID, SECOND_STORE_ID}
    return found


@pytest.mark.parametrize(
    ("token", "other"), [(DEMO_TOKEN, SECOND_STORE_ID), (SECOND_STORE_TOKEN, DEMO_STORE_ID)]
)
def test_another_stores_records_are_not_found(sandbox, stores, token, other):
    user_id, order_id = stores[other]
    with bearer(sandbox.base_url, token) as client:
        assert client.get(f"/customers/{user_id}").json() == {
            "message": "Customer not found.",
            "status": 404,
        }
        check_error(client.get(f"/customers/{user_id}/orders"), 404)
        check_error(client.get(f"/orders/{order_id}"), 404)
        assert client.get(f"/orders?customer_id={user_id}").json()["pagination"]["total"] == 0
        every = client.get("/customers?include_guests=true&limit=250").json()["data"]
        assert other not in {r["store_id"] for r in every}
        orders = client.get("/orders?limit=250").json()["data"]
        assert other not in {r["store_id"] for r in orders}


def test_second_store_is_the_smaller_one(sandbox):
    with bearer(sandbox.base_url, SECOND_STORE_TOKEN) as client:
        body = client.get("/customers?include_guests=true").json()
        store = client.get("/store").json()["data"]
    assert store["store_id"] == SECOND_STORE_ID
    assert 300 <= body["pagination"]["total"] < 400
    assert {r["store_id"] for r in body["data"]} == {SECOND_STORE_ID}


def test_writes_cannot_reach_another_store(small):
    with (
        bearer(small.base_url) as mine,
        bearer(small.base_url, SECOND_STORE_TOKEN) as other,
    ):
        theirs = other.get("/customers?include_guests=true&limit=1").json()["data"][0]
        before = other.get(f"/customers/{theirs['user_id']}").json()
        check_error(mine.put(f"/customers/{theirs['user_id']}", json={"name": "Taken"}), 404)
        check_error(mine.delete(f"/customers/{theirs['user_id']}"), 404)
        assert other.get(f"/customers/{theirs['user_id']}").json() == before
        # Phones are unique per store, not across stores.
        created = mine.post("/customers", json={"name": "Same Phone", "phone": theirs["phone"]})
        assert created.status_code == 201
        assert created.json()["data"]["store_id"] == DEMO_STORE_ID
