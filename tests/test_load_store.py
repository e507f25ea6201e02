"""``load_store``: both lists at once, the same frames and cache as the two loaders in turn."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from selorax_analytics.client import Client
from selorax_analytics.exceptions import DataError
from selorax_analytics.loaders import load_customers, load_orders, load_store
from selorax_analytics.sandbox import DEMO_TOKEN, Sandbox, api_frames, generate_store

SMALL = 600
API = "GET /api/apps/v1"


@pytest.fixture(scope="module")
def small():
    server = Sandbox(customers=SMALL)
    server.start()
    yield server
    server.stop()


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
