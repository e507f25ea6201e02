"""The clean load through the reference API: the baseline every scenario is compared with."""

from __future__ import annotations

import dataclasses
import gzip

import httpx
import pandas as pd

import selorax_analytics as sa
from selorax_analytics.sandbox.frames import api_frames
from selorax_analytics.sandbox.generator import generate_store

from .scripted import Reply, Upstream
from .store import PEOPLE, PREFIX, SEED, STORE_ID, TOKEN, StoreApi


def test_clean_load_returns_every_record_of_the_api(clean_frames, store_api):
    customers, orders = clean_frames
    assert len(store_api.customers) > 250 and len(store_api.orders) > 500  # several pages each
    assert customers["user_id"].tolist() == sorted(c["user_id"] for c in store_api.customers)
    assert orders["order_id"].tolist() == sorted(o["order_id"] for o in store_api.orders)
    guests = sum(c["is_guest"] for c in store_api.customers)
    assert int(customers["is_guest"].sum()) == guests > 0


def test_clean_load_matches_the_generator_frames(clean_frames):
    """An independent route to the same store: the generator typed straight to frames."""
    expected_customers, expected_orders = api_frames(
        generate_store(seed=SEED, customers=PEOPLE, store_id=STORE_ID, items=False)
    )
    customers, orders = clean_frames
    pd.testing.assert_frame_equal(customers, expected_customers, check_like=True)
    pd.testing.assert_frame_equal(orders, expected_orders, check_like=True)


def test_store_api_pages_sorts_filters_and_authenticates(upstream):
    api = StoreApi()
    up = upstream(api)
    with httpx.Client(base_url=up.base_url + PREFIX) as http:
        auth = {"Authorization": f"Bearer {TOKEN}"}
        page = http.get("/customers", params={"limit": 500, "sort": "name:asc"}, headers=auth)
        body = page.json()
        registered = [c for c in api.customers if not c["is_guest"]]
        assert body["pagination"] == {"page": 1, "limit": 250, "total": len(registered)}
        names = [c["name"] for c in body["data"]]
        assert names == sorted(names)
        past = http.get("/orders", params={"page": 99, "limit": 250}, headers=auth).json()
        assert past["data"] == [] and past["pagination"]["total"] == len(api.orders)
        refused = http.get("/orders", headers={"Authorization": "Bearer nope"})
        assert refused.status_code == 401 and refused.json()["code"] == "invalid_token"
    assert up.requests[0].query == {"limit": "500", "sort": "name:asc"}
    assert up.requests[0].header("Authorization") == f"Bearer {TOKEN}"


def test_scripted_upstream_sends_headers_as_listed(upstream):
    def handler(request):
        reply = Reply(body={"ok": 1}, compress="gzip", chunked=True)
        return dataclasses.replace(reply, headers=[("Date", None), ("X-A", "1"), ("X-A", "2")])

    up: Upstream = upstream(handler)
    with httpx.Client() as http, http.stream("GET", up.base_url + "/x") as answer:
        raw = b"".join(answer.iter_raw())
    assert answer.headers.get_list("x-a") == ["1", "2"]
    assert "date" not in answer.headers
    assert answer.headers["transfer-encoding"] == "chunked"
    assert answer.headers["content-encoding"] == "gzip"
    assert gzip.decompress(raw) == b'{"ok": 1}'


def test_client_for_uses_the_api_token(upstream, client_for):
    up = upstream(StoreApi())
    with client_for(up) as client:
        assert isinstance(client, sa.Client)
        assert client.get_store()["store_id"] == STORE_ID
