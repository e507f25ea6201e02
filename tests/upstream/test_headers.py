"""Headers an upstream or an intermediary may send: each load gives the clean frames or one
clear :class:`SeloraxError`."""

from __future__ import annotations

import dataclasses
import email.utils
import logging
import time

import pandas as pd
import pytest

import selorax_analytics as sa
from selorax_analytics.exceptions import ApiError

from .scripted import Reply
from .store import StoreApi


def _date(offset: float = 0.0) -> str:
    return email.utils.formatdate(time.time() + offset, usegmt=True)


def changed(api: StoreApi, *, only_lists: bool = False, **change):
    """A handler answering as ``api`` does, with ``change`` applied to every reply (to list
    pages only with ``only_lists``). ``headers`` may be a callable returning the list."""

    def handler(request):
        reply = api(request)
        if only_lists and not request.path.endswith(("/customers", "/orders")):
            return reply
        fields = {k: (v() if callable(v) else v) for k, v in change.items()}
        return dataclasses.replace(reply, **fields)

    return handler


def load(up, client_for, **options):
    with client_for(up, **options) as client:
        return sa.load_store(client, cache=False, progress=False)


def assert_clean(frames, clean_frames):
    for got, expected in zip(frames, clean_frames, strict=True):
        pd.testing.assert_frame_equal(got, expected)


DATE_HEADERS = {
    "missing": lambda: [("Date", None)],
    "duplicated, equal": lambda: [("Date", _date()), ("Date", _date())],
    "duplicated, disagreeing": lambda: [("Date", _date()), ("Date", _date(-7200))],
    "malformed": lambda: [("Date", "yesterday at noon")],
    "out of range": lambda: [("Date", "Tue, 99 Foo 2026 25:61:00 GMT")],
    "empty": lambda: [("Date", "")],
    "without a zone": lambda: [("Date", time.strftime("%a, %d %b %Y %H:%M:%S", time.gmtime()))],
    "zone -0000": lambda: [("Date", time.strftime("%a, %d %b %Y %H:%M:%S -0000", time.gmtime()))],
    "local offset": lambda: [("Date", email.utils.formatdate(localtime=True))],
    "a year wrong": lambda: [("Date", _date(-365 * 86400))],
}


@pytest.mark.parametrize("name", list(DATE_HEADERS))
def test_date_header_variants_load_clean_frames(
    store_api, upstream, client_for, clean_frames, name, caplog
):
    up = upstream(changed(store_api, headers=DATE_HEADERS[name]))
    with caplog.at_level(logging.DEBUG, logger="selorax_analytics"):
        frames = load(up, client_for)
    assert_clean(frames, clean_frames)


def test_two_disagreeing_date_headers_are_treated_as_absent(store_api, upstream, client_for):
    """Defect 1: an intermediary's Date beside the upstream's crashed the walk's check."""
    up = upstream(changed(store_api, headers=DATE_HEADERS["duplicated, disagreeing"]))
    with client_for(up) as client:
        page = client.list_customers(limit=5)
        customers = sa.load_customers(client, cache=False, progress=False)
    assert page.served_at is None
    assert len(customers) == len(store_api.customers)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Tue, 30 Jun 2026 10:00:00 GMT", pd.Timestamp("2026-06-30 10:00:00", tz="UTC")),
        ("Tue, 30 Jun 2026 16:00:00 +0600", pd.Timestamp("2026-06-30 10:00:00", tz="UTC")),
        ("Tue, 30 Jun 2026 10:00:00", None),
        ("Tue, 30 Jun 2026 10:00:00 -0000", None),
        ("soon", None),
    ],
)
def test_served_at_is_utc_aware_or_absent(store_api, upstream, client_for, header, expected):
    up = upstream(changed(store_api, headers=[("Date", header)]))
    with client_for(up) as client:
        served = client.list_customers(limit=1).served_at
    assert served == expected
    assert served is None or str(served.tz) == "UTC"


CONTENT_TYPES = {
    "missing": [("Content-Type", None)],
    "text/html": [("Content-Type", "text/html; charset=utf-8")],
    "text/plain": [("Content-Type", "text/plain")],
    "octet-stream": [("Content-Type", "application/octet-stream")],
}


@pytest.mark.parametrize("name", list(CONTENT_TYPES))
def test_json_body_is_read_whatever_the_content_type(
    store_api, upstream, client_for, clean_frames, name
):
    up = upstream(changed(store_api, headers=CONTENT_TYPES[name]))
    assert_clean(load(up, client_for), clean_frames)


def test_html_body_on_a_200_is_one_clear_error(store_api, upstream, client_for):
    page = b"<!DOCTYPE html><html><head><title>Sign in - Corporate Proxy</title></head></html>"
    html = Reply(200, page, headers=[("Content-Type", "text/html")])
    up = upstream(lambda request: html)
    with pytest.raises(ApiError) as info, client_for(up) as client:
        sa.load_store(client, cache=False, progress=False)
    message = str(info.value)
    assert "text/html" in message and "SELORAX_BASE_URL" in message
    assert "<!DOCTYPE" not in message  # named, not dumped
    assert len(up.requests) <= 2  # one per list, not retried: the answer was complete


@pytest.mark.parametrize(
    "variant",
    [
        {"compress": "gzip"},
        {"compress": "deflate"},
        {"chunked": True},
        {"chunked": True, "compress": "gzip"},
        {"close": True},
        {"close": True, "chunked": True, "compress": "deflate"},
    ],
    ids=lambda v: "+".join(f"{k}={v[k]}" for k in v),
)
def test_transfer_variants_load_clean_frames(
    store_api, upstream, client_for, clean_frames, variant
):
    up = upstream(changed(store_api, **variant))
    assert_clean(load(up, client_for), clean_frames)
    if variant.get("close"):
        ports = {r.header("host") for r in up.requests}
        assert ports == {up.base_url.removeprefix("http://")}


def test_keep_alive_closed_after_every_response_opens_new_connections(
    store_api, upstream, client_for, clean_frames
):
    """Every answer says ``Connection: close`` and the socket closes; nothing is lost."""
    up = upstream(changed(store_api, close=True))
    frames = load(up, client_for, max_concurrency=4)
    assert_clean(frames, clean_frames)
    assert len(up.requests) >= 6


@pytest.mark.parametrize(
    "headers",
    [
        [("X-RateLimit-Remaining", "lots"), ("X-RateLimit-Reset", "soon")],
        [("X-RateLimit-Remaining", "-3"), ("X-RateLimit-Reset", "-1")],
        [("X-RateLimit-Remaining", "5"), ("X-RateLimit-Reset", "nan")],
        [("X-RateLimit-Remaining", "5"), ("X-RateLimit-Remaining", "0")],
        [("X-RateLimit-Limit", "inf"), ("X-RateLimit-Remaining", "1e400")],
    ],
    ids=["words", "negative", "nan", "duplicated", "infinite"],
)
def test_unreadable_pacing_headers_are_ignored(
    store_api, upstream, client_for, clean_frames, headers, caplog
):
    up = upstream(changed(store_api, headers=headers))
    began = time.monotonic()
    with caplog.at_level(logging.DEBUG, logger="selorax_analytics"):
        frames = load(up, client_for)
    assert_clean(frames, clean_frames)
    assert time.monotonic() - began < 5
    debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert any(m.startswith("Ignored the X-RateLimit-") for m in debug)
