"""Pacing against an advertised rate limit (the sandbox's ``X-RateLimit-*``): a steady load
stays under it, and the log says what actually happened."""

from __future__ import annotations

import logging

import pandas as pd

import selorax_analytics as sa
from selorax_analytics.sandbox import DEMO_TOKEN, Faults, Sandbox

#: At most this many 429s in a whole load under a 10-a-second limit ("a handful").
HANDFUL = 3


def _load(sandbox: Sandbox) -> tuple[tuple[pd.DataFrame, pd.DataFrame], int]:
    """The frames of one full load and the requests the sandbox counted for it."""
    sandbox.reset_counts()
    with sa.Client(sandbox.base_url, token=DEMO_TOKEN, max_retry_wait=30) as client:
        frames = sa.load_store(client, cache=False, progress=False)
    return frames, sum(sandbox.request_counts().values())


def test_a_steady_load_stays_under_an_advertised_limit(caplog):
    sandbox = Sandbox(customers=3000)
    sandbox.start()
    try:
        clean, needed = _load(sandbox)  # no limit: the requests a load needs
        sandbox.faults = Faults(rate_limit=10)
        with caplog.at_level(logging.INFO, logger="selorax_analytics"):
            paced, sent = _load(sandbox)
    finally:
        sandbox.stop()
    for got, expected in zip(paced, clean, strict=True):
        pd.testing.assert_frame_equal(got, expected)
    assert needed > 30  # three windows and more: pacing had work to do (it was 11 429s before)
    assert 0 <= sent - needed <= HANDFUL  # every extra request answered 429
    messages = [r.getMessage() for r in caplog.records]
    assert not [m for m in messages if "still rate limited" in m]
    retries = [m for m in messages if "retrying in" in m]
    assert len(retries) == sent - needed
    assert all("rate limited (429), retrying in" in m for m in retries)
