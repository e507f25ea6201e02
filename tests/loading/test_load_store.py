"""``load_store``: both lists at once, the same frames and cache as the two loaders in turn."""

from __future__ import annotations

import math
import threading

import httpx
import pandas as pd
import pytest

from selorax_analytics.api.client import Client
from selorax_analytics.exceptions import CacheError, DataError, ValidationError
from selorax_analytics.loading.loaders import load_customers, load_orders, load_store
from selorax_analytics.sandbox import (
    CUSTOMERS_ONLY_TOKEN,
    DEMO_TOKEN,
    api_frames,
    generate_store,
)

SMALL = 600
API = "GET /api/apps/v1"


@pytest.fixture(scope="module")
def small(sandbox_factory):
    return sandbox_factory(customers=SMALL)


@pytest.fixture(scope="module")
def small_frames():
    return api_frames(generate_store(customers=SMALL))


def by_id(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    return frame.sort_values(column).reset_index(drop=True)


def test_frames_requests_and_cache_as_the_two_loaders(small, small_frames, tmp_path):
    customers, orders = small_frames
    client = Client(small.base_url, token=DEMO_TOKEN)
    small.reset_counts()
    got_c, got_o = load_store(client, cache=tmp_path, progress=False)
    pd.testing.assert_frame_equal(got_c, by_id(customers, "user_id"))
    pd.testing.assert_frame_equal(got_o, by_id(orders, "order_id"))
    # every page of 250 once, one newest-rows check per list, and one store lookup
    assert small.request_counts() == {
        (f"{API}/customers", "demo-full"): math.ceil(len(customers) / 250) + 1,
        (f"{API}/orders", "demo-full"): math.ceil(len(orders) / 250) + 1,
        (f"{API}/store", "demo-full"): 1,
    }
    # the cache entries are the ones the loaders read: served from it, no request
    small.reset_counts()
    cached_c = load_customers(client, cache=tmp_path, progress=False)
    cached_o = load_orders(client, cache=tmp_path, progress=False)
    assert small.request_counts() == {}
    assert cached_c.attrs["selorax"]["source"] == cached_o.attrs["selorax"]["source"] == "cache"
    pd.testing.assert_frame_equal(cached_c, got_c)
    pd.testing.assert_frame_equal(cached_o, got_o)


def test_without_guests_and_without_cache(small, small_frames):
    customers, _ = small_frames
    client = Client(small.base_url, token=DEMO_TOKEN)
    small.reset_counts()
    got_c, got_o = load_store(client, include_guests=False, cache=False, progress=False)
    registered = customers[~customers["is_guest"]]
    assert sorted(got_c["user_id"].astype(int)) == sorted(registered["user_id"].astype(int))
    assert len(got_o) == len(small_frames[1])
    assert (f"{API}/store", "demo-full") not in small.request_counts()


def test_bad_option_refused_before_any_request(small):
    client = Client(small.base_url, token=DEMO_TOKEN)
    small.reset_counts()
    with pytest.raises(DataError, match="refresh"):
        load_store(client, refresh="sometimes", progress=False)  # type: ignore[arg-type]
    assert small.request_counts() == {}


class HoldStoreLookup(httpx.HTTPTransport):
    """Real HTTP to the sandbox; the store lookup is answered only once ``pages`` requests for
    page 1 of a full walk have gone out (or after 10 s), and records whether they had."""

    def __init__(self, pages: int) -> None:
        super().__init__()
        self.pages, self.seen = pages, 0
        self.lock, self.ready = threading.Lock(), threading.Event()
        self.page_one_first: bool | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        if request.url.path.endswith("/store"):
            self.page_one_first = self.ready.wait(10)
        elif params.get("page") == "1" and params.get("sort") == "created_at:asc":
            with self.lock:
                self.seen += 1
                if self.seen == self.pages:
                    self.ready.set()
        return super().handle_request(request)


def test_page_one_of_both_lists_goes_out_with_the_store_lookup(small, small_frames, tmp_path):
    transport = HoldStoreLookup(pages=2)
    client = Client(small.base_url, token=DEMO_TOKEN, transport=transport)
    small.reset_counts()
    got_c, got_o = load_store(client, cache=tmp_path, progress=False)
    assert transport.page_one_first is True
    pd.testing.assert_frame_equal(got_c, by_id(small_frames[0], "user_id"))
    pd.testing.assert_frame_equal(got_o, by_id(small_frames[1], "order_id"))
    # nothing read twice: the early page 1 is the walk's page 1
    assert small.request_counts()[(f"{API}/customers", "demo-full")] == (
        math.ceil(len(small_frames[0]) / 250) + 1
    )
    assert small.request_counts()[(f"{API}/store", "demo-full")] == 1


def test_one_loader_also_sends_page_one_with_the_store_lookup(small, small_frames, tmp_path):
    transport = HoldStoreLookup(pages=1)
    client = Client(small.base_url, token=DEMO_TOKEN, transport=transport)
    got = load_orders(client, cache=tmp_path, progress=False)
    assert transport.page_one_first is True
    pd.testing.assert_frame_equal(got, by_id(small_frames[1], "order_id"))


def test_known_store_sends_no_early_page_and_fresh_cache_is_served(small, tmp_path):
    first = load_customers(Client(small.base_url, token=DEMO_TOKEN), cache=tmp_path, progress=False)
    small.reset_counts()
    again = load_customers(Client(small.base_url, token=DEMO_TOKEN), cache=tmp_path, progress=False)
    assert small.request_counts() == {}
    pd.testing.assert_frame_equal(again, first)
    # another token of the same store: its store is looked up, page 1 went out alongside and is
    # dropped, because the store's cache is fresh and is served
    small.reset_counts()
    other = Client(small.base_url, token=CUSTOMERS_ONLY_TOKEN)
    served = load_customers(other, cache=tmp_path, progress=False)
    assert served.attrs["selorax"]["source"] == "cache"
    pd.testing.assert_frame_equal(served, first)
    assert small.request_counts() == {
        (f"{API}/store", "demo-read-customers"): 1,
        (f"{API}/customers", "demo-read-customers"): 1,
    }


def test_since_applies_to_both_lists(small, small_frames):
    customers, orders = small_frames
    since = pd.Timestamp("2025-06-01", tz="UTC")
    client = Client(small.base_url, token=DEMO_TOKEN)
    got_c, got_o = load_store(client, since="2025-06-01", cache=False, progress=False)
    want_c = by_id(customers[customers["created_at"] >= since], "user_id")
    want_o = by_id(orders[orders["created_at"] >= since], "order_id")
    assert 0 < len(want_c) < len(customers) and 0 < len(want_o) < len(orders)
    assert got_c["user_id"].tolist() == want_c["user_id"].tolist()
    assert got_o["order_id"].tolist() == want_o["order_id"].tolist()
    small.reset_counts()
    with pytest.raises(ValidationError, match="since"):
        load_store(client, since="last tuesday", progress=False)
    assert small.request_counts() == {}


def test_offline_load_sends_no_page_early(small, tmp_path):
    client = Client(small.base_url, token=DEMO_TOKEN)
    small.reset_counts()
    with pytest.raises(CacheError, match="refresh='never'"):
        load_orders(client, cache=tmp_path, refresh="never", progress=False)
    # every page the client's workers took on has been answered (and counted by the store)
    client.pool.shutdown(wait=True)
    # the store lookup names the (empty) cache folder; no list is read
    assert small.request_counts() == {(f"{API}/store", "demo-full"): 1}
