"""Shared fixtures: a clean environment, a private cache, closed figures, a seeded RNG, sandboxes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from hypothesis import settings

if TYPE_CHECKING:
    from selorax_analytics.sandbox import Sandbox

os.environ.setdefault("MPLBACKEND", "Agg")

# CI replays the same examples every run (a failure there is a regression, not a new draw);
# elsewhere each run draws new ones, and a failure prints the example to replay.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch, tmp_path):
    """No ``SELORAX_*`` setting leaks into a test; the cache lives in the test's folder."""
    for name in list(os.environ):
        if name.startswith("SELORAX_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SELORAX_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture(autouse=True)
def close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture
def rng():
    return np.random.default_rng(20240101)


@pytest.fixture(scope="session")
def demo_store():
    """The default demo store, straight from the generator."""
    from selorax_analytics.sandbox.generator import generate_store

    return generate_store()


@pytest.fixture(scope="session")
def demo_frames(demo_store):
    """``(customers, orders)`` of the demo store as the loader types them."""
    from selorax_analytics.sandbox.frames import api_frames

    return api_frames(demo_store)


class SandboxFactory:
    """Starts sandboxes over real HTTP on 127.0.0.1 and stops every one it started at the end.

    ``factory(customers=600)`` is a fresh store of its own; the other keywords are
    :class:`~selorax_analytics.sandbox.Sandbox`'s (``faults=``, ``tokens=``, ``money_as_strings=``,
    ``data=``, ``seed=``). ``customers`` is required: the 5,000-person demo store is the
    session's ``sandbox``.
    """

    def __init__(self) -> None:
        self._running: list[Sandbox] = []

    def __call__(self, *, customers: int, **options: Any) -> Sandbox:
        from selorax_analytics.sandbox import Sandbox

        server = Sandbox(customers=customers, **options)
        self._running.append(server)
        server.start()
        return server

    def stop_all(self) -> None:
        while self._running:
            self._running.pop().stop()


@pytest.fixture(scope="module")
def sandbox_factory() -> Iterator[SandboxFactory]:
    """Sandboxes of the module's own (tests that write to a store, or change its faults).

    Each call starts a fresh store with the given options; all of them stop when the module's
    tests are done. For a store per test, call it from a function-scoped fixture through
    ``fresh_sandbox_factory``.
    """
    factory = SandboxFactory()
    yield factory
    factory.stop_all()


@pytest.fixture
def fresh_sandbox_factory() -> Iterator[SandboxFactory]:
    """Like ``sandbox_factory``, but every store it starts stops when the test is done."""
    factory = SandboxFactory()
    yield factory
    factory.stop_all()


@pytest.fixture(scope="session")
def sandbox():
    """The demo store served over HTTP on 127.0.0.1 for the whole run (no faults).

    Tests that change faults or data start a :class:`Sandbox` of their own instead.
    ``sandbox.base_url`` is the URL; tokens are in :mod:`selorax_analytics.sandbox`.
    """
    from selorax_analytics.sandbox import Sandbox

    server = Sandbox()
    server.start()
    yield server
    server.stop()
