"""The API client: endpoints, credentials, errors, retries, pacing and secrets."""

from __future__ import annotations

import logging
import string
import time

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from selorax_analytics.api import _headers, _pacing
from selorax_analytics.api import _transport as _http
from selorax_analytics.api._credentials import Credentials
from selorax_analytics.api.client import Client
from selorax_analytics.connection import connect
from selorax_analytics.exceptions import (
    AuthenticationError,
    ConflictError,
    ConnectionFailedError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    SeloraxError,
    ServerError,
    ValidationError,
)
from selorax_analytics.sandbox import (
    CUSTOMERS_ONLY_TOKEN,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_TOKEN,
    Credential,
)

SECRET_TOKEN = "sx_at_QQzz9Distinctive4471Secret"


@pytest.fixture(scope="module")
def writable(sandbox_factory):
    """A small store of this module's own (tests here create and delete customers)."""
    return sandbox_factory(customers=300, tokens={SECRET_TOKEN: Credential("secret", 22)})


@pytest.fixture
def fast_retries(monkeypatch):
    monkeypatch.setattr(_http, "RETRY_BASE_DELAY", 0.001)


def scripted(responses, calls):
    """A transport answering from ``responses`` in turn (callables raise), recording requests."""

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        answer = responses[min(len(calls), len(responses)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx.MockTransport(handler)


def page_body(rows=(), total=0):
    return {"data": list(rows), "pagination": {"page": 1, "limit": 50, "total": total}}


# -- endpoints against the sandbox ---------------------------------------------------------------
def test_list_get_and_store(sandbox, demo_frames):
    customers, orders = demo_frames
    client = Client(sandbox.base_url, token=DEMO_TOKEN)
    page = client.list_customers(limit=7, include_guests=True)
    assert (len(page.records), page.total) == (7, len(customers))
    registered = client.list_customers(limit=1)
    assert registered.total == int((~customers["is_guest"]).sum())
    first = int(customers["user_id"].iloc[0])
    assert client.get_customer(first)["user_id"] == first
    assert client.get_store() == {"store_id": 22, "name": "Demo Store", "currency": "BDT"}
    order = client.get_order(int(orders["order_id"].iloc[0]))
    assert order["items"] and "sku" in order["items"][0]
    mine = orders.loc[orders["user_id"] == first]
    assert client.customer_orders(first).total == len(mine)
    assert client.list_orders(customer_id=first, limit=1).total == len(mine)


def test_create_update_delete_round_trip(writable):
    client = Client(writable.base_url, token=DEMO_TOKEN)
    made = client.create_customer(name="Karim Hossain", phone="01812340001", email="k@example.com")
    user_id = made["user_id"]
    updated = client.update_customer(user_id, name="Karim H.", address_json={"city": "Khulna"})
    assert updated["name"] == "Karim H." and updated["address_json"] == {"city": "Khulna"}
    with pytest.raises(ConflictError, match="Phone number already exists"):
        client.create_customer(name="Other", phone="01812340001")
    client.delete_customer(user_id)
    with pytest.raises(NotFoundError, match="Customer not found") as info:
        client.get_customer(user_id)
    assert info.value.status_code == 404 and info.value.code is None


def test_delete_customer_with_orders_carries_server_message(writable):
    client = Client(writable.base_url, token=DEMO_TOKEN)
    buyer = client.list_customers(total_orders_min=1, limit=1).records[0]["user_id"]
    with pytest.raises(ValidationError, match="has orders") as info:
        client.delete_customer(buyer)
    assert info.value.status_code == 400


def test_client_credentials(sandbox):
    client = Client(
        sandbox.base_url, client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET, store_id=22
    )
    assert client.get_store()["store_id"] == 22


# -- credential and scope errors -----------------------------------------------------------------
def test_wrong_token_says_which_and_how(sandbox):
    client = Client(sandbox.base_url, token="sx_at_wrongtoken0000beef")
    with pytest.raises(AuthenticationError) as info:
        client.list_customers()
    text = str(info.value)
    assert "SELORAX_TOKEN" in text and "sx_at_...beef" in text
    assert "sx_at_wrongtoken0000beef" not in text
    assert info.value.status_code == 401 and info.value.code == "invalid_token"


def test_wrong_client_secret_and_store(sandbox):
    bad_secret = Client(
        sandbox.base_url, client_id=DEMO_CLIENT_ID, client_secret="sx_secret_nopeX", store_id=22
    )
    with pytest.raises(AuthenticationError, match="SELORAX_CLIENT_SECRET") as info:
        bad_secret.get_store()
    assert "sx_secret_nopeX" not in str(info.value)
    other_store = Client(
        sandbox.base_url, client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET, store_id=99
    )
    with pytest.raises(AuthenticationError, match="SELORAX_STORE_ID") as info:
        other_store.get_store()
    assert info.value.code == "not_installed"


def test_missing_credentials_refused_before_sending(monkeypatch):
    with pytest.raises(AuthenticationError, match="SELORAX_TOKEN"):
        Client("http://127.0.0.1:9")
    monkeypatch.setenv("SELORAX_CLIENT_ID", DEMO_CLIENT_ID)
    with pytest.raises(AuthenticationError, match="SELORAX_CLIENT_SECRET"):
        Client("http://127.0.0.1:9")
    monkeypatch.setenv("SELORAX_CLIENT_SECRET", DEMO_CLIENT_SECRET)
    with pytest.raises(AuthenticationError, match="SELORAX_STORE_ID"):
        Client("http://127.0.0.1:9")


def test_missing_scope_is_named(sandbox):
    client = Client(sandbox.base_url, token=CUSTOMERS_ONLY_TOKEN)
    with pytest.raises(PermissionDeniedError) as info:
        client.list_orders()
    assert info.value.required_scope == "read:orders"
    assert "read:orders" in str(info.value) and info.value.status_code == 403


# -- parameters refused before any request -------------------------------------------------------
@pytest.mark.parametrize(
    ("call", "named"),
    [
        (lambda c: c.list_customers(limit=500), "`limit`"),
        (lambda c: c.list_customers(page=0), "`page`"),
        (lambda c: c.list_customers(sort="email:asc"), "`sort`"),
        (lambda c: c.list_customers(since="last tuesday"), "`since`"),
        (lambda c: c.list_orders(until=12), "`until`"),
        (lambda c: c.list_orders(customer_id=-3), "`customer_id`"),
        (lambda c: c.get_customer("12"), "`user_id`"),
        (lambda c: c.get_order(0), "`order_id`"),
        (lambda c: c.create_customer(name="A", phone="0171"), "`phone`"),
        (lambda c: c.create_customer(name="A", phone="01712345678", email="no-at"), "`email`"),
        (lambda c: c.update_customer(5), "at least one"),
        (lambda c: c.update_customer(5, address_json="Dhaka"), "`address_json`"),
        (lambda c: c.list_customers(total_spent_min=-1), "`total_spent_min`"),
    ],
)
def test_invalid_parameters_are_refused_before_sending(call, named):
    calls: list[httpx.Request] = []
    client = Client(
        "http://api.test",
        token=DEMO_TOKEN,
        transport=scripted([httpx.Response(200, json={})], calls),
    )
    with pytest.raises(ValidationError) as info:
        call(client)
    assert named in str(info.value)
    assert calls == []


# -- retries ------------------------------------------------------------------------------------
def test_retries_5xx_with_html_body_then_succeeds(fast_retries, caplog):
    calls: list[httpx.Request] = []
    html = httpx.Response(502, text="<html><body>Bad Gateway</body></html>")
    ok = httpx.Response(200, json=page_body([{"user_id": 1}], 1))
    client = Client(
        "http://api.test", token=DEMO_TOKEN, transport=scripted([html, html, ok], calls)
    )
    with caplog.at_level(logging.INFO, logger="selorax_analytics"):
        page = client.list_customers()
    assert page.total == 1 and len(calls) == 3
    retries = [r.getMessage() for r in caplog.records]
    assert len(retries) == 2, retries
    assert all(m.startswith("GET /customers: server error (502), retrying in ") for m in retries)


def test_server_error_after_bounded_attempts(fast_retries):
    calls: list[httpx.Request] = []
    html = httpx.Response(503, text="<html>down</html>")
    client = Client(
        "http://api.test", token=DEMO_TOKEN, max_retries=3, transport=scripted([html], calls)
    )
    with pytest.raises(ServerError, match="503") as info:
        client.list_customers()
    assert len(calls) == 4 and info.value.status_code == 503


def test_no_retry_on_other_4xx(fast_retries):
    calls: list[httpx.Request] = []
    answer = httpx.Response(400, json={"message": "Invalid value for 'page'.", "status": 400})
    client = Client("http://api.test", token=DEMO_TOKEN, transport=scripted([answer], calls))
    with pytest.raises(ValidationError, match="Invalid value for 'page'"):
        client.list_customers()
    assert len(calls) == 1


def test_rate_limit_honours_retry_after_then_gives_up(fast_retries):
    calls: list[httpx.Request] = []
    limited = httpx.Response(
        429, headers={"Retry-After": "0.2"}, json={"message": "Slow down", "status": 429}
    )
    ok = httpx.Response(200, json=page_body([], 0))
    client = Client("http://api.test", token=DEMO_TOKEN, transport=scripted([limited, ok], calls))
    began = time.monotonic()
    client.list_customers()
    assert time.monotonic() - began >= 0.2 and len(calls) == 2
    calls.clear()
    stubborn = Client(
        "http://api.test", token=DEMO_TOKEN, max_retries=2, transport=scripted([limited], calls)
    )
    with pytest.raises(RateLimitError) as info:
        stubborn.list_customers()
    assert info.value.retry_after == 0.2 and len(calls) == 3


def test_total_wait_is_bounded(fast_retries):
    calls: list[httpx.Request] = []
    limited = httpx.Response(
        429, headers={"Retry-After": "30"}, json={"message": "Wait", "status": 429}
    )
    client = Client(
        "http://api.test", token=DEMO_TOKEN, max_retry_wait=5, transport=scripted([limited], calls)
    )
    began = time.monotonic()
    with pytest.raises(RateLimitError) as info:
        client.list_customers()
    assert time.monotonic() - began < 2 and len(calls) == 1 and info.value.retry_after == 30


def test_dropped_connections_and_truncated_bodies_are_retried(fast_retries):
    calls: list[httpx.Request] = []
    cut = httpx.RemoteProtocolError("peer closed connection without sending complete message body")
    half = httpx.Response(200, content=b'{"data": [{"user_id": 1}], "pagin')
    ok = httpx.Response(200, json=page_body([{"user_id": 1}], 1))
    client = Client("http://api.test", token=DEMO_TOKEN, transport=scripted([cut, half, ok], calls))
    assert client.list_customers().total == 1 and len(calls) == 3
    calls.clear()
    down = Client(
        "http://api.test",
        token=DEMO_TOKEN,
        max_retries=1,
        transport=scripted([httpx.ConnectError("refused")], calls),
    )
    with pytest.raises(ConnectionFailedError, match=r"api\.test"):
        down.get_store()
    assert len(calls) == 2


def test_create_is_not_retried_after_a_dropped_answer(fast_retries):
    calls: list[httpx.Request] = []
    cut = httpx.ReadError("connection reset")
    client = Client("http://api.test", token=DEMO_TOKEN, transport=scripted([cut], calls))
    with pytest.raises(ConnectionFailedError):
        client.create_customer(name="Rahim", phone="01712345678")
    assert len(calls) == 1


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_retry_after_pauses_every_worker():
    clock = FakeClock()
    pacer = _pacing.Pacer(clock)
    pacer.pause(0.3)
    needed, _ = pacer.acquire(limit=0)  # limit 0: say what is needed instead of waiting
    assert needed == pytest.approx(-0.3)
    clock.now += 0.3
    assert pacer.acquire(limit=0)[0] == 0.0


def test_budget_counts_requests_in_flight_and_probes_each_new_window():
    clock = FakeClock()
    pacer = _pacing.Pacer(clock)
    sent = [pacer.acquire(limit=0) for _ in range(5)]  # no X-RateLimit seen: no pacing
    assert all(waited == 0.0 for waited, _ in sent)
    # 3 left when the first answer was made, but 4 more are still on their way
    pacer.release(sent[0][1], _headers.RateLimit(remaining=3, reset=1.0, limit=10))
    assert pacer.acquire(limit=0)[0] == pytest.approx(-1.0)
    for _, generation in sent[1:]:
        pacer.release(generation, _headers.RateLimit(remaining=0, reset=1.0, limit=10))
    clock.now += 1.0
    waited, probe = pacer.acquire(limit=0)  # the window is over: one request probes the next
    assert waited == 0.0 and probe != sent[0][1]
    assert pacer.acquire(limit=0)[0] < 0  # the others wait for the probe's answer
    pacer.release(probe, _headers.RateLimit(remaining=9, reset=1.0, limit=10))
    assert [pacer.acquire(limit=0)[0] for _ in range(9)] == [0.0] * 9
    assert pacer.acquire(limit=0)[0] == pytest.approx(-1.0)


def test_a_stale_answer_does_not_refill_the_budget():
    clock = FakeClock()
    pacer = _pacing.Pacer(clock)
    _, old = pacer.acquire(limit=0)
    _, first = pacer.acquire(limit=0)
    pacer.release(first, _headers.RateLimit(remaining=0, reset=0.5))
    clock.now += 0.5
    _, probe = pacer.acquire(limit=0)
    pacer.release(old, _headers.RateLimit(remaining=50, reset=30.0))  # sent in the old window
    assert pacer.acquire(limit=0)[0] < 0  # still waiting for the probe
    pacer.release(probe, _headers.RateLimit(remaining=2, reset=1.0))
    waits = [pacer.acquire(limit=0)[0] for _ in range(3)]
    assert waits[:2] == [0.0, 0.0] and waits[2] < 0


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"X-RateLimit-Remaining": "4", "X-RateLimit-Reset": "30"}, (4, 30.0)),
        (
            {
                "Date": "Tue, 30 Jun 2026 10:00:00 GMT",
                "X-RateLimit-Remaining": "4",
                "X-RateLimit-Reset": "1782813630",  # 2026-06-30T10:00:30Z as an epoch
            },
            (4, 30.0),
        ),
        (
            {
                "Date": "Tue, 30 Jun 2026 10:00:00 GMT",
                "X-RateLimit-Remaining": "4",
                "X-RateLimit-Reset": "1782813612000",  # in milliseconds
            },
            (4, 12.0),
        ),
        ({"X-RateLimit-Remaining": "4"}, None),
        ({"X-RateLimit-Remaining": "4.5", "X-RateLimit-Reset": "3"}, None),
    ],
)
def test_rate_limit_headers_read_seconds_or_epoch(headers, expected):
    h = httpx.Headers(headers)
    seen = _headers.rate_limit(h, _headers.served_at(h))
    assert (seen.remaining, seen.reset) == expected if expected else seen is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7", 7.0),
        ("0", 0.0),
        ("2.5", 2.5),
        ("Tue, 30 Jun 2026 10:00:45 GMT", 45.0),
        ("Tue, 30 Jun 2026 09:00:00 GMT", 0.0),  # in the past: no wait
        ("-3", None),
        ("nan", None),
        ("tomorrow", None),
        ("Tue, 30 Jun 2026 10:00:45", None),  # no zone
    ],
)
def test_retry_after_in_seconds_or_as_a_date(value, expected):
    h = httpx.Headers({"Date": "Tue, 30 Jun 2026 10:00:00 GMT", "Retry-After": value})
    assert _headers.retry_after(h, _headers.served_at(h)) == expected


# -- connect and secrets ----------------------------------------------------------------------------
def test_connect_uses_the_environment(sandbox, monkeypatch):
    monkeypatch.setenv("SELORAX_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("SELORAX_TOKEN", DEMO_TOKEN)
    client = connect()
    assert client.base_url == sandbox.base_url and client.get_store()["store_id"] == 22


def test_connect_without_settings_starts_one_embedded_sandbox(capsys):
    first = connect()
    second = connect()
    err = capsys.readouterr().err
    assert first.base_url == second.base_url and first.base_url.startswith("http://127.0.0.1:")
    assert err.count("\n") <= 1  # one line, or none when an earlier test already started it
    assert first.get_store()["store_id"] == 22


def test_connect_with_only_a_base_url_asks_for_credentials(monkeypatch):
    monkeypatch.setenv("SELORAX_BASE_URL", "https://api-dev.selorax.io")
    with pytest.raises(AuthenticationError, match="SELORAX_TOKEN"):
        connect()


def test_secret_never_in_repr_errors_or_debug_logs(writable, caplog):
    client = Client(writable.base_url, token=SECRET_TOKEN)
    assert SECRET_TOKEN not in repr(client) and "sx_at_...cret" in repr(client)
    assert SECRET_TOKEN not in repr(client.credentials)
    with caplog.at_level(logging.DEBUG):
        client.list_customers(limit=3)
        with pytest.raises(SeloraxError) as info:
            Client(writable.base_url, token=SECRET_TOKEN + "x").get_store()
    assert SECRET_TOKEN not in str(info.value) and SECRET_TOKEN not in repr(info.value)
    assert caplog.records and SECRET_TOKEN not in caplog.text
    assert all(SECRET_TOKEN not in str(r.args) for r in caplog.records)


def test_mask():
    assert _http.mask("sx_at_demo22fullaccess7f3a9c") == "sx_at_...3a9c"
    assert _http.mask("sx_secret_demo22b51e08") == "sx_secret_...1e08"
    assert _http.mask("sx_app_demo22abcd") == "sx_app_...abcd"
    assert _http.mask("Ab3xQ9_zz7Lk2Pq8Wm4Nc") == "...m4Nc"  # an unknown prefix is not shown
    assert _http.mask("sx_other_Lk2Pq8Wm4Nc") == "...m4Nc"
    assert _http.mask("short") == "***" and _http.mask(None) == "<none>"


@settings(max_examples=200, deadline=None)
@given(
    body=st.text(alphabet=string.ascii_letters + string.digits + "_-", min_size=8, max_size=40),
    prefix=st.sampled_from(["sx_at_", "sx_secret_", ""]),
    before=st.text(max_size=30),
    after=st.text(max_size=30),
)
def test_redact_never_leaves_a_held_secret(body, prefix, before, after):
    token = prefix + body
    for held in (Credentials(token=token), Credentials(client_id="i", client_secret=token)):
        text = held.redact(f"{before}{token}{after} / Bearer {token}")
        assert token not in text
