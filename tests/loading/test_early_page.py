"""The page sent early beside a store lookup never outlives a failed lookup.

With a token the cache has not seen, page 1 goes out on the client's worker threads while the
store is looked up. When the lookup fails (a wrong token: 401), the load must not return while
that page is still being sent: its connection would be opened after the caller closed the client
and never closed (a leaked socket).
"""

from __future__ import annotations

import threading

import httpx
import pytest

from selorax_analytics.api.client import Client
from selorax_analytics.exceptions import AuthenticationError
from selorax_analytics.loading.loaders import load_customers

WRONG_TOKEN = "sx_at_wrongwrongwrong1234"
#: Bound on how long page 1 waits for the lookup's answer (it is always given much sooner).
GATE_TIMEOUT = 30


class GatedTransport(httpx.BaseTransport):
    """Real HTTP, counting requests in flight; page 1 waits until the lookup has its answer."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.lock = threading.Lock()
        self.active = 0
        self.pages = 0
        self.looked_up = threading.Event()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.active += 1
        try:
            if request.url.path.endswith("/customers"):
                with self.lock:
                    self.pages += 1
                # still running when the lookup fails: it goes out once the 401 is in
                assert self.looked_up.wait(GATE_TIMEOUT), "the store lookup never answered"
                return self.inner.handle_request(request)
            response = self.inner.handle_request(request)
            if request.url.path.endswith("/store"):
                response.read()
                self.looked_up.set()
            return response
        finally:
            with self.lock:
                self.active -= 1

    def close(self) -> None:
        self.inner.close()


def test_a_failed_store_lookup_waits_for_the_early_page(sandbox, tmp_path):
    transport = GatedTransport()
    client = Client(base_url=sandbox.base_url, token=WRONG_TOKEN, transport=transport)
    try:
        with pytest.raises(AuthenticationError):
            load_customers(client, cache=tmp_path, progress=False)
        assert transport.pages == 1  # the early page went out beside the lookup
        assert transport.active == 0  # and had ended when the error reached the caller
    finally:
        client.close()
