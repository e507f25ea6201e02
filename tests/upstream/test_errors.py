"""Errors, pacing, broken connections and odd bodies from an upstream we did not write: each
load gives the clean frames or exactly one clear :class:`SeloraxError`, and no credential
ever shows in a message or a log."""

from __future__ import annotations

import dataclasses
import email.utils
import json
import logging
import os
import subprocess
import sys
import threading
import time

import pandas as pd
import pytest

import selorax_analytics as sa
from selorax_analytics.api import _transport as _http
from selorax_analytics.exceptions import (
    ApiError,
    AuthenticationError,
    ConnectionFailedError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    ValidationError,
)

from .scripted import Reply
from .store import TOKEN, StoreApi

HTML_502 = b"<html><head><title>502 Bad Gateway</title></head><body>" + b"x" * 2000 + b"</body>"


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch):
    monkeypatch.setattr(_http, "RETRY_BASE_DELAY", 0.01)


def page_two(request) -> bool:
    return request.path.endswith("/customers") and request.query.get("page") == "2"


def scripted(api: StoreApi, reply, *, times: int | None = 1, when=page_two):
    """Answer ``reply()`` to the first ``times`` requests matching ``when`` (all: None)."""
    lock, hits = threading.Lock(), [0]

    def handler(request):
        if when(request):
            with lock:
                hits[0] += 1
                due = times is None or hits[0] <= times
            if due:
                return reply(request) if callable(reply) else reply
        return api(request)

    return handler


def load(up, client_for, **options):
    with client_for(up, **options) as client:
        return sa.load_store(client, cache=False, progress=False)


def assert_clean(frames, clean_frames):
    for got, expected in zip(frames, clean_frames, strict=True):
        pd.testing.assert_frame_equal(got, expected)


def matching(up, when=page_two):
    return [r for r in up.requests if when(r)]


def limited(retry_after: str | None) -> Reply:
    headers = [("Retry-After", retry_after)] if retry_after is not None else []
    return Reply(
        429,
        {"message": "Too many requests.", "code": "rate_limited", "status": 429},
        headers=headers,
    )


# -- 429 and Retry-After --------------------------------------------------------------------------
RETRY_AFTER = {
    "seconds": (lambda: "1", 0.9),
    "HTTP date": (lambda: email.utils.formatdate(time.time() + 2, usegmt=True), 0.9),
    "absent": (lambda: None, 0.0),
    "zero": (lambda: "0", 0.0),
    "unreadable": (lambda: "soon-ish", 0.0),
}


@pytest.mark.parametrize("name", list(RETRY_AFTER))
def test_one_429_is_retried_after_retry_after(
    store_api, upstream, client_for, clean_frames, caplog, name
):
    value, least = RETRY_AFTER[name]
    up = upstream(scripted(store_api, lambda request: limited(value())))
    began = time.monotonic()
    with caplog.at_level(logging.INFO, logger="selorax_analytics"):
        frames = load(up, client_for, max_retry_wait=5.0)
    assert_clean(frames, clean_frames)
    assert time.monotonic() - began >= least
    assert len(matching(up)) == 2
    retries = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
    assert len(retries) == 1 and "rate limited (429), retrying in" in retries[0]
    assert not any("still rate limited" in r.getMessage() for r in caplog.records)


def test_absurd_retry_after_ends_at_once_in_a_bounded_error(store_api, upstream, client_for):
    up = upstream(scripted(store_api, limited("86400"), times=None))
    began = time.monotonic()
    with pytest.raises(RateLimitError) as info:
        load(up, client_for, max_retry_wait=3.0)
    assert time.monotonic() - began < 3
    message = str(info.value)
    assert "86400 s" in message and "max_retry_wait (3 s)" in message
    assert info.value.retry_after == 86400 and len(matching(up)) == 1


def test_persistent_429_says_how_many_attempts(store_api, upstream, client_for, caplog):
    up = upstream(scripted(store_api, limited("0"), times=None))
    with (
        caplog.at_level(logging.INFO, logger="selorax_analytics"),
        pytest.raises(RateLimitError) as info,
    ):
        load(up, client_for, max_retries=3)
    assert "still rate limited (429) after 4 attempts" in str(info.value)
    assert len(matching(up)) == 4
    retries = [r.getMessage() for r in caplog.records if "retrying in" in r.getMessage()]
    assert [m.split("(attempt ")[1] for m in retries] == ["2 of 4).", "3 of 4).", "4 of 4)."]


# -- 5xx with HTML --------------------------------------------------------------------------------
@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_one_html_5xx_is_retried(store_api, upstream, client_for, clean_frames, status):
    reply = Reply(status, HTML_502, headers=[("Content-Type", "text/html")])
    up = upstream(scripted(store_api, reply, times=2))
    assert_clean(load(up, client_for), clean_frames)
    assert len(matching(up)) == 3


def test_persistent_html_5xx_is_one_short_server_error(store_api, upstream, client_for):
    reply = Reply(502, HTML_502, headers=[("Content-Type", "text/html")])
    up = upstream(scripted(store_api, reply, times=None))
    with pytest.raises(ServerError) as info:
        load(up, client_for, max_retries=2)
    message = str(info.value)
    assert "502" in message and "Bad Gateway" in message and "3 attempts" in message
    assert "<" not in message and len(message) < 300


# -- credentials echoed back ----------------------------------------------------------------------
def echo(status: int, html: bool = False):
    def reply(request):
        said = f"Credential {request.header('authorization')} is not valid for this store"
        if html:
            return Reply(
                status,
                f"<html><body>{said}</body></html>".encode(),
                headers=[("Content-Type", "text/html")],
            )
        code = "invalid_token" if status == 401 else "insufficient_scope"
        return Reply(status, {"message": said, "code": code, "status": status})

    return reply


@pytest.mark.parametrize(
    ("status", "html", "error"),
    [
        (401, False, AuthenticationError),
        (401, True, AuthenticationError),
        (403, False, PermissionDeniedError),
        (403, True, PermissionDeniedError),
    ],
)
def test_a_credential_echoed_by_the_server_is_never_shown(
    store_api, upstream, client_for, caplog, status, html, error
):
    up = upstream(scripted(store_api, echo(status, html), times=None, when=lambda r: True))
    with caplog.at_level(logging.DEBUG), pytest.raises(error) as info:
        load(up, client_for)
    exc = info.value
    shown = [str(exc), repr(exc), *map(str, exc.args), str(exc.server_message), caplog.text]
    shown += [str(r.args) for r in caplog.records]
    assert not [text for text in shown if TOKEN in text]
    assert "<" not in str(exc)  # an HTML body is named, not dumped
    if status == 401:
        assert "Bearer token sx_at_...m4Nc" in str(exc)
    if not html:  # the server's own words are kept, the credential masked
        assert "Credential Bearer sx_at_...m4Nc is not valid" in str(exc.server_message)
    assert exc.status_code == status


def test_the_cli_never_prints_an_echoed_token(store_api, upstream, tmp_path):
    up = upstream(scripted(store_api, echo(401), times=None, when=lambda r: True))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SELORAX_")}
    env.update(SELORAX_BASE_URL=up.base_url, SELORAX_TOKEN=TOKEN, SELORAX_CACHE_DIR=str(tmp_path))
    run = subprocess.run(
        [sys.executable, "-m", "selorax_analytics.cli._main", "fetch"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 1 and up.requests
    assert TOKEN not in run.stdout + run.stderr
    assert "Traceback" not in run.stderr and "sx_at_...m4Nc" in run.stderr


BAD_TOKENS = {
    "newline at the end": TOKEN + "\n",
    "newline inside": TOKEN[:10] + "\n" + TOKEN[10:],
    "carriage return": TOKEN + "\r",
    "space inside": TOKEN[:10] + " " + TOKEN[10:],
    "tab": TOKEN[:10] + "\t" + TOKEN[10:],
    "non-ASCII": TOKEN[:10] + "é" + TOKEN[10:],
    "zero-width space": TOKEN + "\u200b",
    "NUL": TOKEN + "\x00",
}


@pytest.mark.parametrize("name", list(BAD_TOKENS))
def test_an_unusable_token_is_refused_before_sending(store_api, upstream, name):
    bad = BAD_TOKENS[name]
    up = upstream(store_api)
    with pytest.raises(AuthenticationError) as info:
        sa.Client(up.base_url, token=bad)
    exc = info.value
    assert "SELORAX_TOKEN" in str(exc)
    assert not [t for t in (str(exc), repr(exc), *map(str, exc.args)) if TOKEN[6:] in t]
    assert up.requests == []


def test_an_unusable_client_secret_from_the_environment_is_refused(monkeypatch):
    secret = "sx_secret_Zq81Lw2\nXy77"
    monkeypatch.setenv("SELORAX_CLIENT_ID", "sx_app_demo22")
    monkeypatch.setenv("SELORAX_CLIENT_SECRET", secret)
    monkeypatch.setenv("SELORAX_STORE_ID", "22")
    with pytest.raises(AuthenticationError, match="SELORAX_CLIENT_SECRET") as info:
        sa.connect()
    assert "Zq81Lw2" not in str(info.value) and "Xy77" not in str(info.value)


# -- broken connections ---------------------------------------------------------------------------
@pytest.mark.parametrize("fault", ["reset-before-headers", "reset-after-headers", "stall-mid-body"])
def test_one_broken_answer_is_retried(store_api, upstream, client_for, clean_frames, fault):
    up = upstream(scripted(store_api, lambda request: dataclasses_fault(store_api, request, fault)))
    assert_clean(load(up, client_for, timeout=0.5), clean_frames)
    assert len(matching(up)) == 2


def dataclasses_fault(api, request, fault):
    return dataclasses.replace(api(request), fault=fault)


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ("reset-before-headers", "closed or reset"),
        ("reset-after-headers", "closed or reset"),
        ("stall-mid-body", "timed out after 0.3 s"),
    ],
)
def test_a_persistently_broken_answer_is_one_connection_error(
    store_api, upstream, client_for, fault, words
):
    up = upstream(scripted(store_api, lambda r: dataclasses_fault(store_api, r, fault), times=None))
    with pytest.raises(ConnectionFailedError) as info:
        load(up, client_for, timeout=0.3, max_retries=2)
    message = str(info.value)
    assert words in message and "127.0.0.1" in message and "3 attempts" in message
    assert len(matching(up)) == 3


# -- odd bodies on a 200 --------------------------------------------------------------------------
def test_a_utf8_bom_before_the_json_is_read(store_api, upstream, client_for, clean_frames):
    def bom(request):
        reply = store_api(request)
        return Reply(reply.status, b"\xef\xbb\xbf" + json.dumps(reply.body).encode())

    up = upstream(scripted(store_api, bom, times=None, when=lambda r: True))
    assert_clean(load(up, client_for), clean_frames)


def test_an_error_envelope_on_a_200_is_the_error_it_carries(store_api, upstream, client_for):
    envelope = {"message": "Invalid or expired token.", "code": "invalid_token", "status": 401}
    up = upstream(scripted(store_api, Reply(200, envelope), times=None))
    with pytest.raises(AuthenticationError) as info:
        load(up, client_for)
    assert "Invalid or expired token" in str(info.value) and "SELORAX_TOKEN" in str(info.value)
    assert info.value.status_code == 401 and len(matching(up)) == 1


@pytest.mark.parametrize(
    ("body", "named", "retried"),
    [
        (b"Service temporarily moved", "not JSON", False),
        (b"", "empty body", True),
        (b'{"data": [{"user_id": 1}], "pagina', "cut short", True),
        (b"null", "`data` must be a list", False),
        (b'{"ok": true}', "`data` must be a list", False),
    ],
    ids=["text", "empty", "truncated", "null", "no data"],
)
def test_a_200_that_is_not_a_page_is_one_clear_error(
    store_api, upstream, client_for, body, named, retried
):
    up = upstream(scripted(store_api, Reply(200, body), times=None))
    with pytest.raises(sa.SeloraxError) as info:
        load(up, client_for, max_retries=2)
    assert isinstance(info.value, ApiError | ConnectionFailedError)
    assert named in str(info.value)
    assert len(matching(up)) == (3 if retried else 1)


# -- the base URL ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "http://[::1",
        "http://",
        "ftp://api.selorax.io",
        "api.selorax.io",
        "http://h:99999",
        "http://a b.io",
        "http://h:port",
    ],
)
def test_a_malformed_base_url_is_a_validation_error(monkeypatch, url):
    monkeypatch.setenv("SELORAX_BASE_URL", url)
    with pytest.raises(ValidationError) as info:
        sa.Client(token=TOKEN)
    assert repr(url) in str(info.value) and "https://api.selorax.io" in str(info.value)


def test_the_cli_reports_a_malformed_base_url_in_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SELORAX_")}
    env.update(SELORAX_BASE_URL="http://[::1", SELORAX_TOKEN=TOKEN, SELORAX_CACHE_DIR=str(tmp_path))
    run = subprocess.run(
        [sys.executable, "-m", "selorax_analytics.cli._main", "fetch"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode in (1, 2) and "Traceback" not in run.stderr
    assert "http://[::1" in run.stderr and TOKEN not in run.stderr
