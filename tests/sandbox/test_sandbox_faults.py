"""Sandbox stress options (latency, rate limit, server errors, dropped connections) and counters.

One private 500-person sandbox serves the module; each test sets its faults and puts them back.
"""

from __future__ import annotations

import asyncio
import math
import time

import httpx
import pytest

from selorax_analytics.sandbox import DEMO_TOKEN, Faults, Sandbox
from tests._sandbox_helpers import PREFIX, bearer, check_error, client_credentials


@pytest.fixture(scope="module")
def server(sandbox_factory):
    return sandbox_factory(customers=500)


@pytest.fixture
def faulty(server):
    """The module's sandbox; its faults are switched off again after the test."""
    yield server
    server.faults = Faults()


def _outcome(client: httpx.Client, path: str = "/store") -> int | str:
    """The status, or ``"dropped"`` when the connection was cut mid-response."""
    try:
        return client.get(path).status_code
    except (httpx.RemoteProtocolError, httpx.ReadError):
        return "dropped"


def _outcomes(server: Sandbox, n: int) -> list[int | str]:
    with bearer(server.base_url) as client:
        return [_outcome(client) for _ in range(n)]


def _within(observed: int, n: int, rate: float) -> bool:
    """Observed count within four binomial standard deviations of ``n * rate``."""
    return abs(observed - n * rate) <= 4 * math.sqrt(n * rate * (1 - rate))


# -- latency --------------------------------------------------------------------------------
async def _concurrent(base_url: str, n: int) -> tuple[float, list[int], float]:
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    headers = {"Authorization": f"Bearer {DEMO_TOKEN}"}
    async with httpx.AsyncClient(
        base_url=base_url + PREFIX, headers=headers, limits=limits, timeout=60
    ) as client:
        single = time.perf_counter()
        await client.get("/customers?limit=1")
        single = time.perf_counter() - single
        start = time.perf_counter()
        responses = await asyncio.gather(*(client.get(f"/customers/{i + 1}") for i in range(n)))
        return time.perf_counter() - start, [r.status_code for r in responses], single


def test_latency_is_served_concurrently(faulty):
    faulty.faults = Faults(latency=0.3)
    elapsed, statuses, single = asyncio.run(_concurrent(faulty.base_url, 64))
    assert statuses == [200] * 64
    assert single >= 0.3
    # One after another would take 64 * 0.3 = 19.2 s.
    assert elapsed < 3.0, f"64 requests with 0.3 s latency took {elapsed:.2f} s"


def test_jitter_spreads_the_latency(faulty):
    faulty.faults = Faults(latency=0.05, jitter=0.15, seed=4)
    times = []
    with bearer(faulty.base_url) as client:
        client.get("/store")
        for _ in range(8):
            start = time.perf_counter()
            client.get("/store")
            times.append(time.perf_counter() - start)
    assert min(times) >= 0.05
    assert max(times) < 0.05 + 0.15 + 0.5  # generous: the machine may be busy
    assert max(times) - min(times) > 0.02


# -- rate limit -----------------------------------------------------------------------------
def test_rate_limit_answers_429_with_headers(faulty, monkeypatch):
    now = [100.0]  # the rate-limit windows' clock, moved by hand
    monkeypatch.setattr(faulty.state.injector, "clock", lambda: now[0])
    faulty.faults = Faults(rate_limit=4, rate_window=0.5)
    with bearer(faulty.base_url) as client:
        responses = [client.get("/customers?limit=1") for _ in range(7)]
        assert [r.status_code for r in responses] == [200] * 4 + [429] * 3
        for used, response in enumerate(responses[:4], start=1):
            assert response.headers["X-RateLimit-Limit"] == "4"
            assert response.headers["X-RateLimit-Remaining"] == str(4 - used)
            assert 0 <= int(response.headers["X-RateLimit-Reset"]) <= 1
        for response in responses[4:]:
            check_error(response, 429)
            assert int(response.headers["Retry-After"]) >= 1
            assert response.headers["X-RateLimit-Limit"] == "4"
            assert response.headers["X-RateLimit-Remaining"] == "0"
            assert "X-RateLimit-Reset" in response.headers
        # Another credential has its own budget.
        with client_credentials(faulty.base_url) as other:
            assert other.get("/customers?limit=1").status_code == 200
        # Within the window it stays spent; after the window the budget is back.
        now[0] += 0.25
        assert client.get("/customers?limit=1").status_code == 429
        now[0] += 0.25
        again = client.get("/customers?limit=1")
        assert again.status_code == 200 and again.headers["X-RateLimit-Remaining"] == "3"


def test_every_429_carries_retry_after(faulty):
    faulty.faults = Faults(rate_limit=2, rate_window=5.0, error_rate=0.2, seed=9)
    with bearer(faulty.base_url) as client:
        responses = [client.get("/store") for _ in range(40)]
    limited = [r for r in responses if r.status_code == 429]
    assert len(limited) >= 30
    assert all(r.headers["Retry-After"].isdigit() for r in limited)
    assert all(1 <= int(r.headers["Retry-After"]) <= 5 for r in limited)


# -- server errors and drops ----------------------------------------------------------------
def test_error_rate_is_observed(faulty):
    n, rate = 300, 0.2
    faulty.faults = Faults(error_rate=rate, seed=21)
    with bearer(faulty.base_url) as client:
        responses = [client.get("/store") for _ in range(n)]
    errors = [r for r in responses if r.status_code != 200]
    assert _within(len(errors), n, rate), len(errors)
    assert {r.status_code for r in errors} == {500, 502, 503}
    for response in errors:
        if response.status_code == 500:
            check_error(response, 500)
        else:
            assert response.headers["content-type"].startswith("text/html")
            with pytest.raises(ValueError):
                response.json()


def test_drop_rate_is_observed(faulty):
    n, rate = 200, 0.25
    faulty.faults = Faults(drop_rate=rate, seed=5)
    outcomes = _outcomes(faulty, n)
    assert set(outcomes) == {200, "dropped"}
    assert _within(outcomes.count("dropped"), n, rate), outcomes.count("dropped")


def test_faults_are_deterministic_given_the_seed(faulty):
    runs = []
    for seed in (11, 11, 12):
        faulty.faults = Faults(error_rate=0.3, drop_rate=0.2, seed=seed)
        runs.append(_outcomes(faulty, 60))
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
    assert {200, "dropped"} <= set(runs[0]) and len(set(runs[0])) >= 3


def test_no_faults_by_default(faulty):
    assert faulty.faults == Faults()
    assert _outcomes(faulty, 30) == [200] * 30


@pytest.mark.parametrize(
    "options",
    [
        {"latency": -1},
        {"jitter": -0.5},
        {"error_rate": 1.5},
        {"drop_rate": -0.1},
        {"rate_limit": 0},
        {"rate_window": 0},
        {"latency": float("inf")},
        {"latency": float("nan")},
        {"jitter": float("nan")},
        {"error_rate": float("nan")},
        {"drop_rate": float("nan")},
        {"rate_window": float("nan")},
        {"rate_window": float("inf")},
    ],
)
def test_bad_fault_options_are_refused(options):
    name = next(iter(options))
    with pytest.raises(ValueError, match=name):
        Faults(**options)


# -- request counter ------------------------------------------------------------------------
def test_request_counts_from_python_and_http(faulty):
    faulty.reset_counts()
    with bearer(faulty.base_url) as a, client_credentials(faulty.base_url) as b:
        for _ in range(3):
            a.get("/customers")
        b.get("/customers")
        b.get("/customers")
        a.get("/customers/7")
        a.get("/customers/8/orders")
        a.get("/orders/3")
    with httpx.Client(base_url=faulty.base_url, timeout=30) as raw:
        raw.get(PREFIX + "/customers")
        want = {
            ("GET /api/apps/v1/customers", "demo-full"): 3,
            ("GET /api/apps/v1/customers", "demo-client"): 2,
            ("GET /api/apps/v1/customers/{id}", "demo-full"): 1,
            ("GET /api/apps/v1/customers/{id}/orders", "demo-full"): 1,
            ("GET /api/apps/v1/orders/{id}", "demo-full"): 1,
            ("GET /api/apps/v1/customers", "unauthenticated"): 1,
        }
        assert faulty.request_counts() == want
        body = raw.get("/_sandbox/requests").json()
        assert body["status"] == 200
        assert {(r["endpoint"], r["credential"]): r["count"] for r in body["data"]} == want
        assert raw.post("/_sandbox/requests/reset").status_code == 200
        assert raw.get("/_sandbox/requests").json()["data"] == []
    assert faulty.request_counts() == {}


def test_limited_and_failed_requests_are_counted(faulty):
    faulty.reset_counts()
    faulty.faults = Faults(rate_limit=1, rate_window=5.0)
    with bearer(faulty.base_url) as client:
        statuses = [client.get("/store").status_code for _ in range(3)]
    assert statuses == [200, 429, 429]
    assert faulty.request_counts() == {("GET /api/apps/v1/store", "demo-full"): 3}
