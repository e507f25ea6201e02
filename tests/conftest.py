"""Shared fixtures: a clean environment, a private cache, closed figures, a seeded RNG."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import settings

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
    from selorax_analytics.sandbox.generator import api_frames

    return api_frames(demo_store)


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
