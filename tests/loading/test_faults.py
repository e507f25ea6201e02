"""The fault matrix: loads through rate limits, server errors, dropped connections and jitter
give frames identical to a fault-free load, with nothing duplicated or missing."""

from __future__ import annotations

import pandas as pd
import pytest

from selorax_analytics.api import _transport as _http
from selorax_analytics.api.client import Client
from selorax_analytics.exceptions import ConnectionFailedError, RateLimitError, ServerError
from selorax_analytics.loading.loaders import load_customers, load_orders
from selorax_analytics.sandbox import (
    CUSTOMERS_ONLY_TOKEN,
    DEMO_TOKEN,
    Faults,
    api_frames,
    generate_store,
)

SMALL = 800


@pytest.fixture(scope="module")
def server(sandbox_factory):
    return sandbox_factory(customers=SMALL)


@pytest.fixture(scope="module")
def truth():
    return api_frames(generate_store(customers=SMALL))


@pytest.fixture
def quick(monkeypatch):
    monkeypatch.setattr(_http, "RETRY_BASE_DELAY", 0.01)


MATRIX = {
    "429 storm with Retry-After": Faults(rate_limit=3, rate_window=1.0),
    "5% server errors": Faults(error_rate=0.05, seed=11),
    "5% dropped connections": Faults(drop_rate=0.05, seed=12),
    "latency jitter": Faults(latency=0.002, jitter=0.03, seed=13),
    "everything at once": Faults(
        latency=0.002, jitter=0.01, error_rate=0.05, drop_rate=0.05, seed=14
    ),
}


@pytest.mark.parametrize("name", list(MATRIX))
def test_fault_matrix_gives_identical_frames(server, truth, quick, name):
    server.faults = MATRIX[name]
    server.reset_counts()
    try:
        client = Client(server.base_url, token=DEMO_TOKEN)
        customers = load_customers(client, cache=False, progress=False)
        orders = load_orders(client, cache=False, progress=False)
    finally:
        server.faults = Faults()
    for frame, key in ((customers, "user_id"), (orders, "order_id")):
        assert frame[key].is_unique
    pd.testing.assert_frame_equal(customers, truth[0])
    pd.testing.assert_frame_equal(orders, truth[1])
    if name.startswith("429"):
        # the client paces itself by X-RateLimit-*: a handful of 429s at most beyond the pages
        sent = sum(server.request_counts().values())
        pages = -(-len(truth[0]) // 250) + -(-len(truth[1]) // 250) + 2
        assert pages <= sent <= pages + 3


def test_fallback_under_faults(server, truth, quick):
    server.faults = Faults(error_rate=0.05, drop_rate=0.03, seed=21)
    try:
        orders = load_orders(
            Client(server.base_url, token=CUSTOMERS_ONLY_TOKEN), cache=False, progress=False
        )
    finally:
        server.faults = Faults()
    pd.testing.assert_frame_equal(orders, truth[1])


@pytest.mark.parametrize(
    ("faults", "error"),
    [
        (Faults(error_rate=1.0), ServerError),
        (Faults(drop_rate=1.0), ConnectionFailedError),
        (Faults(rate_limit=1, rate_window=30.0), RateLimitError),
    ],
)
def test_persistent_faults_end_in_their_own_error(server, quick, faults, error):
    client = Client(server.base_url, token=DEMO_TOKEN, max_retries=2, max_retry_wait=3)
    server.faults = faults
    try:
        with pytest.raises(error) as info:
            for _ in range(3):
                client.list_customers()
    finally:
        server.faults = Faults()
    if error is RateLimitError:  # a 30 s window is over the 3 s the client may wait
        assert info.value.retry_after is not None and info.value.retry_after > 3
