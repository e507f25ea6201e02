"""Pagination an upstream may serve: capped page sizes, missing or moving totals, pages past the
end, a row on two pages, rows shifting under inserts. Each load returns the clean frames or
raises one IncompleteLoadError naming what happened; never a partial or duplicated frame."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

import selorax_analytics as sa
from selorax_analytics.exceptions import IncompleteLoadError, SeloraxError

from .scripted import Reply, Request
from .store import StoreApi

LISTS = ("/customers", "/orders")
Rewrite = Callable[[Request, dict[str, Any]], dict[str, Any]]


def _is_list(request: Request) -> bool:
    return request.path.endswith(LISTS)


def scripted(api: StoreApi, rewrite: Rewrite, ask: Callable[[Request], Request] | None = None):
    """A handler: the reference API, with list answers' bodies passed through ``rewrite``."""

    def handler(request: Request) -> Reply:
        if ask is not None and _is_list(request):
            request = ask(request)
        reply = api(request)
        if not _is_list(request) or reply.status != 200:
            return reply
        return dataclasses.replace(reply, body=rewrite(request, json.loads(reply.payload())))

    return handler


def capped(request: Request) -> Request:
    """The server serves at most 100 rows a page, whatever ``limit`` asks."""
    limit = min(int(request.query.get("limit", 50)), 100)
    return dataclasses.replace(request, query={**request.query, "limit": str(limit)})


def load(up, client_for) -> tuple[pd.DataFrame, pd.DataFrame]:
    client = client_for(up)
    try:
        return sa.load_store(client, cache=False, progress=False)
    finally:
        client.close()


def assert_clean(frames, clean_frames) -> None:
    for got, expected in zip(frames, clean_frames, strict=True):
        pd.testing.assert_frame_equal(got, expected)


def test_a_capped_page_size_that_pagination_limit_states(
    store_api, upstream, client_for, clean_frames
):
    up = upstream(scripted(store_api, lambda request, body: body, ask=capped))
    frames = load(up, client_for)
    assert_clean(frames, clean_frames)
    walk = [r for r in up.requests if r.query.get("sort") == "created_at:asc"]
    asked = [r.query.get("limit") for r in walk if r.path.endswith("/customers")]
    assert asked[0] == "250" and set(asked[1:]) == {"100"}  # walked with the served size
    assert frames[0].attrs["selorax"]["repair"]["page_size"] == 100


def test_a_capped_page_size_that_pagination_limit_hides(
    store_api, upstream, client_for, clean_frames
):
    def echo_asked(request: Request, body: dict) -> dict:
        # pagination.limit repeats what the loader asked for (250), not the 100 served
        return {**body, "pagination": {**body["pagination"], "limit": 250}}

    up = upstream(scripted(store_api, echo_asked, ask=capped))
    assert_clean(load(up, client_for), clean_frames)


def test_a_missing_total_is_walked_to_the_short_page(store_api, upstream, client_for, clean_frames):
    def no_total(request: Request, body: dict) -> dict:
        return {**body, "pagination": {k: v for k, v in body["pagination"].items() if k != "total"}}

    up = upstream(scripted(store_api, no_total))
    frames = load(up, client_for)
    assert_clean(frames, clean_frames)
    assert frames[0].attrs["selorax"]["repair"]["open_ended"] is True


def test_a_page_past_the_end_repeating_the_last_page(store_api, upstream, client_for, clean_frames):
    # without a total the walk must find the end; past it, this server repeats the last page
    def repeat_past_end(request: Request, body: dict) -> dict:
        paging = {k: v for k, v in body["pagination"].items() if k != "total"}
        if not body["data"] and paging["page"] > 1:
            last = dataclasses.replace(
                request, query={**request.query, "page": str(paging["page"] - 1)}
            )
            return repeat_past_end(last, json.loads(store_api(last).payload()))
        return {**body, "pagination": paging}

    up = upstream(scripted(store_api, repeat_past_end, ask=capped))
    assert_clean(load(up, client_for), clean_frames)
    pages = [int(r.query["page"]) for r in up.requests if r.path.endswith("/orders")]
    assert max(pages) > 6  # 582 orders in 6 pages of 100: a page past the end was read


def test_a_total_that_changes_between_pages_once(store_api, upstream, client_for, clean_frames):
    # the second page's first answer reports a total 3 higher (the count and the page were read
    # at different moments); read again, it agrees
    told = set()
    lock = threading.Lock()

    def jitter(request: Request, body: dict) -> dict:
        key = (request.path, request.query.get("page"), request.query.get("sort"))
        with lock:
            first_time = key not in told
            told.add(key)
        if request.query.get("page") == "2" and first_time:
            paging = body["pagination"]
            return {**body, "pagination": {**paging, "total": paging["total"] + 3}}
        return body

    up = upstream(scripted(store_api, jitter))
    frames = load(up, client_for)
    assert_clean(frames, clean_frames)
    assert frames[0].attrs["selorax"]["repair"]["repair_rounds"] >= 1


def test_a_total_that_keeps_changing_is_an_incomplete_load(store_api, upstream, client_for):
    counter = iter(range(10**6))
    lock = threading.Lock()

    def drifting(request: Request, body: dict) -> dict:
        with lock:
            step = next(counter)
        return {**body, "pagination": {**body["pagination"], "total": 403 + step}}

    up = upstream(scripted(store_api, drifting))
    client = client_for(up)
    with pytest.raises(IncompleteLoadError, match="total kept changing") as info:
        sa.load_customers(client, cache=False, progress=False)
    assert "Load again" in str(info.value)


def test_the_same_row_on_two_pages_is_an_incomplete_load(store_api, upstream, client_for):
    # an unstable order: page 2 starts with the last row of page 1, and the row it displaced
    # is served nowhere
    def overlap(request: Request, body: dict) -> dict:
        page = int(request.query.get("page", 1))
        if page == 2 and request.query.get("sort") == "created_at:asc":
            previous = dataclasses.replace(request, query={**request.query, "page": "1"})
            last = json.loads(store_api(previous).payload())["data"][-1]
            return {**body, "data": [last, *body["data"][1:]]}
        return body

    up = upstream(scripted(store_api, overlap))
    with pytest.raises(IncompleteLoadError, match="same row on two pages") as info:
        sa.load_customers(client_for(up), cache=False, progress=False)
    assert isinstance(info.value, SeloraxError) and info.value.received == 402


def test_rows_shifting_pages_under_inserts_during_the_walk(store_api, upstream, client_for):
    # this server ignores the sort asked for the walk and serves newest first, so the 3
    # customers created after page 2 was first asked for push every row down the pages
    inserted = threading.Event()
    lock = threading.Lock()
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    def newest_first(request: Request) -> Request:
        if request.query.get("sort") != "created_at:asc":
            return request
        with lock:
            if request.query.get("page") == "2" and not inserted.is_set():
                for n in range(3):
                    template = dict(store_api.customers[n])
                    user_id = 10_000 + n
                    template.update(user_id=user_id, created_at=now, updated_at=now)
                    template.update(name=f"New {n}", total_orders=0, total_spent=0)
                    store_api.customers.append(template)
                inserted.set()
        return dataclasses.replace(request, query={**request.query, "sort": "created_at:desc"})

    up = upstream(scripted(store_api, lambda request, body: body, ask=newest_first))
    client = client_for(up)
    got = sa.load_customers(client, cache=False, progress=False)
    assert inserted.is_set()
    # the store after the inserts, read with nothing moving: an independent clean load
    quiet = upstream(store_api)
    expected = sa.load_customers(client_for(quiet), cache=False, progress=False)
    pd.testing.assert_frame_equal(got, expected)
    assert {10_000, 10_001, 10_002} <= set(got["user_id"].astype(int))
    assert got["user_id"].is_unique and len(got) == 406
