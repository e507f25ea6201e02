"""Fixtures of the scripted-upstream suite: the reference API, servers, the clean load.

- ``store_api``: a fresh :class:`StoreApi` (its records may be changed by the test).
- ``upstream``: a factory, ``upstream(handler) -> Upstream`` started and stopped with the test;
  at teardown it fails the test if a handler raised.
- ``clean_frames``: ``(customers, orders)`` loaded by ``sa.load_store`` through the unmodified
  StoreApi (``cache=False``, ``progress=False``): what every scenario is compared with.
- ``client_for``: ``client_for(up, **options)``, a client of ``up`` with the API's token and
  ``max_retry_wait`` of 2 s (importable too: ``from upstream.store import client_for``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pandas as pd
import pytest

import selorax_analytics as sa

from .scripted import Handler, Upstream
from .store import StoreApi
from .store import client_for as _client_for


@pytest.fixture
def store_api() -> StoreApi:
    return StoreApi()


@pytest.fixture
def upstream() -> Iterator[Callable[[Handler], Upstream]]:
    started: list[Upstream] = []

    def start(handler: Handler) -> Upstream:
        server = Upstream(handler)
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
    errors = [e for server in started for e in server.errors]
    assert not errors, f"the scripted handler raised: {errors!r}"


@pytest.fixture(scope="session")
def clean_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    with Upstream(StoreApi()) as up:
        client = _client_for(up)
        try:
            customers, orders = sa.load_store(client, cache=False, progress=False)
        finally:
            client.close()
    assert not up.errors
    return customers, orders


@pytest.fixture
def client_for() -> Callable[..., sa.Client]:
    return _client_for
