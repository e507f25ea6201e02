"""Loaders against the sandbox over HTTP: exact frames, minimal requests, fallback, changes."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import threading

import httpx
import pandas as pd
import pytest

from selorax_analytics.api.client import Client
from selorax_analytics.exceptions import CacheError, DataError, ValidationError
from selorax_analytics.loading.loaders import load_customers, load_orders
from selorax_analytics.sandbox import (
    CUSTOMERS_ONLY_TOKEN,
    DEMO_TOKEN,
    api_frames,
    generate_store,
)

SMALL = 800
CUSTOMERS = "GET /api/apps/v1/customers"
ORDERS = "GET /api/apps/v1/orders"
PER_CUSTOMER = "GET /api/apps/v1/customers/{id}/orders"


@pytest.fixture(scope="module")
def small(sandbox_factory):
    return sandbox_factory(customers=SMALL)


@pytest.fixture(scope="module")
def small_frames():
    return api_frames(generate_store(customers=SMALL))


class Hooked(httpx.BaseTransport):
    """The real transport, calling ``after(request, response)`` once each answer is read."""

    def __init__(self, after):
        self.inner = httpx.HTTPTransport()
        self.after = after
        self.lock = threading.Lock()

    def handle_request(self, request):
        response = self.inner.handle_request(request)
        response.read()
        with self.lock:
            replaced = self.after(request, response)
        return replaced if replaced is not None else response

    def close(self):
        self.inner.close()


def count(server, endpoint, label="demo-full"):
    return server.request_counts().get((endpoint, label), 0)


def by_id(frame, column):
    return frame.sort_values(column).reset_index(drop=True)


def test_load_equals_the_generated_frames(sandbox, demo_frames):
    customers, orders = demo_frames
    client = Client(sandbox.base_url, token=DEMO_TOKEN)
    before = sandbox.request_counts()
    got_customers = load_customers(client, progress=False)
    got_orders = load_orders(client, progress=False)
    pd.testing.assert_frame_equal(got_customers, by_id(customers, "user_id"))
    pd.testing.assert_frame_equal(got_orders, by_id(orders, "order_id"))
    after = sandbox.request_counts()
    used = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
    # one request per page of 250 and one check of the newest rows per list, plus the store
    # lookup naming the cache folder
    assert used == {
        (CUSTOMERS, "demo-full"): math.ceil(len(customers) / 250) + 1,
        (ORDERS, "demo-full"): math.ceil(len(orders) / 250) + 1,
        ("GET /api/apps/v1/store", "demo-full"): 1,
    }
    stats = got_orders.attrs["selorax"]
    assert stats["source"] == "api" and stats["mode"] == "orders"
    assert stats["requests"] == math.ceil(len(orders) / 250) + 1


def test_cached_load_makes_no_request_and_is_identical(small, small_frames):
    client = Client(small.base_url, token=DEMO_TOKEN)
    fresh = load_orders(client, progress=False)
    before = small.request_counts()
    cached = load_orders(client, progress=False)
    assert small.request_counts() == before
    assert cached.attrs["selorax"]["source"] == "cache" and cached.attrs["selorax"]["requests"] == 0
    pd.testing.assert_frame_equal(cached, fresh)
    pd.testing.assert_frame_equal(cached, small_frames[1])
    assert list(cached.dtypes.astype(str)) == list(small_frames[1].dtypes.astype(str))


def test_filters(small, small_frames):
    customers, orders = small_frames
    client = Client(small.base_url, token=DEMO_TOKEN)
    registered = load_customers(client, include_guests=False, cache=False, progress=False)
    expected = customers[~customers["is_guest"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(registered, expected, check_categorical=False)
    recent = load_orders(
        client, since="2026-01-01", status="delivered", cache=False, progress=False
    )
    keep = (orders["created_at"] >= pd.Timestamp("2026-01-01", tz="UTC")) & (
        orders["order_status"] == "delivered"
    )
    assert recent["order_id"].tolist() == orders.loc[keep, "order_id"].tolist()


def test_fallback_per_customer_gives_identical_frames(small, small_frames):
    customers, orders = small_frames
    client = Client(small.base_url, token=CUSTOMERS_ONLY_TOKEN)
    before = count(small, PER_CUSTOMER, "demo-read-customers")
    got = load_orders(client, cache=False, progress=False)
    pd.testing.assert_frame_equal(got, orders)
    assert got.attrs["selorax"]["mode"] == "per-customer"
    # only customers who bought are asked: counted independently from the generated orders
    buyers = orders["user_id"].nunique()
    assert count(small, PER_CUSTOMER, "demo-read-customers") - before == buyers
    assert buyers < len(customers)


def test_works_inside_a_running_event_loop(small, small_frames):
    client = Client(small.base_url, token=DEMO_TOKEN)

    async def notebook_cell():
        assert asyncio.get_running_loop().is_running()
        return load_customers(client, cache=False, progress=True)

    got = asyncio.run(notebook_cell())
    pd.testing.assert_frame_equal(got, small_frames[0])


def test_progress_bar_totals(small, small_frames, capsys):
    load_customers(Client(small.base_url, token=DEMO_TOKEN), cache=False, progress=True)
    err = capsys.readouterr().err
    assert "customers" in err and f"/{len(small_frames[0])}" in err


def test_unknown_fields_are_kept(small, small_frames):
    def add_field(request, response):
        if request.url.path.endswith("/customers"):
            body = response.json()
            for row in body["data"]:
                row["loyalty_tier"] = "gold" if row["user_id"] % 2 else None
                row["tags"] = ["vip"]
            return httpx.Response(200, json=body)
        return None

    client = Client(small.base_url, token=DEMO_TOKEN, transport=Hooked(add_field))
    got = load_customers(client, progress=False)
    again = load_customers(client, progress=False)
    assert list(got.columns[-2:]) == ["loyalty_tier", "tags"]
    assert got.loc[0, "tags"] == '["vip"]'
    assert got["loyalty_tier"].isna().sum() == (got["user_id"] % 2 == 0).sum()
    pd.testing.assert_frame_equal(again, got)
    pd.testing.assert_frame_equal(got.iloc[:, :-2], small_frames[0])


def test_invalid_options_refused_before_any_request(small):
    client = Client(small.base_url, token=DEMO_TOKEN)
    before = small.request_counts()
    with pytest.raises(DataError, match=r"\['auto', 'full', 'never'\]"):
        load_customers(client, refresh="sometimes")
    with pytest.raises(ValidationError, match="`since`"):
        load_orders(client, since="yesterday-ish", cache=False)
    with pytest.raises(DataError, match="`max_age`"):
        load_orders(client, max_age=-5)
    assert small.request_counts() == before
    with pytest.raises(CacheError, match="refresh='never'"):
        load_orders(client, refresh="never", since="2020-01-01")


def test_customers_created_and_deleted_during_the_walk(small):
    admin = Client(small.base_url, token=DEMO_TOKEN)
    first_page = admin.list_customers(include_guests=True, sort="created_at:asc", limit=250)
    doomed = next(r["user_id"] for r in first_page.records if r["total_orders"] == 0)
    state = {"pages": 0, "made": None}

    def meddle(request, response):
        if request.url.path.endswith("/customers") and request.method == "GET":
            state["pages"] += 1
            if state["pages"] == 2:  # the store changes after the second page has been read
                state["made"] = admin.create_customer(name="New Buyer", phone="01900000002")[
                    "user_id"
                ]
                admin.delete_customer(doomed)
        return None

    client = Client(small.base_url, token=DEMO_TOKEN, transport=Hooked(meddle), max_concurrency=2)
    got = load_customers(client, cache=False, progress=False)
    truth = load_customers(admin, cache=False, progress=False)
    try:
        assert got["user_id"].is_unique
        pd.testing.assert_frame_equal(got, truth)
        repair = got.attrs["selorax"]["repair"]
        assert repair["repair_rounds"] >= 1  # the change was noticed and reported
        assert repair["total_first"] == repair["total_final"]  # one in, one out
        assert doomed not in set(got["user_id"]) and state["made"] in set(got["user_id"])
    finally:
        admin.delete_customer(state["made"])


def test_interrupted_load_resumes_without_refetching(small, small_frames):
    pages = math.ceil(len(small_frames[1]) / 250)
    state = {"n": 0}

    def interrupt(request, response):
        if request.url.path.endswith("/orders"):
            state["n"] += 1
            if state["n"] == 3:
                raise KeyboardInterrupt
        return None

    broken = Client(
        small.base_url, token=DEMO_TOKEN, transport=Hooked(interrupt), max_concurrency=1
    )
    with pytest.raises(KeyboardInterrupt):
        load_orders(broken, progress=False)
    folder = broken_folder = None
    from selorax_analytics.loading._store import cache_dir_for

    broken_folder = cache_dir_for(broken)
    journal = broken_folder / "orders.journal.jsonl"
    keys = [json.loads(line)["key"] for line in journal.read_text().splitlines()[1:]]
    finished = [key for key in keys if key.startswith("page:")]
    assert finished == ["page:1", "page:2"]
    assert "walk:start" in keys  # the moment the walk began, for the resume's proof
    before = count(small, ORDERS)
    got = load_orders(Client(small.base_url, token=DEMO_TOKEN), progress=False)
    # the pages not yet read, plus the one check of the newest rows
    assert count(small, ORDERS) - before == pages - len(finished) + 1
    assert got.attrs["selorax"]["requests"] == pages - len(finished) + 1
    pd.testing.assert_frame_equal(got, small_frames[1])
    assert not journal.exists() and folder is None


def test_customer_updated_during_the_walk_is_kept_in_its_newer_version(small, caplog):
    admin = Client(small.base_url, token=DEMO_TOKEN)
    first_page = admin.list_customers(include_guests=True, sort="created_at:asc", limit=250)
    target = first_page.records[3]
    state = {"pages": 0}

    def meddle(request, response):
        if request.url.path.endswith("/customers") and request.method == "GET":
            state["pages"] += 1
            if state["pages"] == 2:  # page 1 has been read: rename one of its customers
                admin.update_customer(target["user_id"], name="Renamed Meanwhile")
        return None

    client = Client(small.base_url, token=DEMO_TOKEN, transport=Hooked(meddle), max_concurrency=2)
    pages = math.ceil(first_page.total / 250)
    try:
        with caplog.at_level(logging.INFO, logger="selorax_analytics"):
            got = load_customers(client, cache=False, progress=False)
        truth = load_customers(admin, cache=False, progress=False)
        pd.testing.assert_frame_equal(got, truth)
        row = got.loc[got["user_id"] == target["user_id"]].iloc[0]
        assert row["name"] == "Renamed Meanwhile"
        assert row["updated_at"] > pd.Timestamp(target["updated_at"])
        # the newer version came with the newest-rows check: no page was read again
        assert state["pages"] == pages + 1
        repair = got.attrs["selorax"]["repair"]
        assert repair["refreshed"] == 1 and repair["repair_rounds"] == 0
        assert any(
            "updated and 0 created during the load" in r.getMessage() for r in caplog.records
        )
    finally:
        admin.update_customer(target["user_id"], name=target["name"])
