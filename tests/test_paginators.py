"""Page walks on hand-made pages: what a walk logs when it re-reads as a precaution."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import pandas as pd

from selorax_analytics.paginators import Page, PageWalker

SERVED = pd.Timestamp("2026-11-27T10:00:00Z")


def test_precautionary_reread_is_info_not_a_warning(caplog):
    # Every row was created at the instant the first page was served, so the walk cannot rule
    # out creations during it and reads every page again; nothing moves in between.
    rows = [{"user_id": i, "created_at": "2026-11-27T10:00:00.000Z"} for i in range(1, 6)]
    calls: list[int] = []

    def fetch(number: int) -> Page:
        calls.append(number)
        return Page(rows[(number - 1) * 2 : number * 2], number, 2, len(rows), SERVED)

    with ThreadPoolExecutor(2) as pool, caplog.at_level(logging.INFO, logger="selorax_analytics"):
        walker = PageWalker(fetch, id_field="user_id", pool=pool, max_in_flight=2, limit=2)
        got = walker.walk()
    assert [r["user_id"] for r in got] == [1, 2, 3, 4, 5]
    assert sorted(calls) == [1, 1, 2, 2, 3, 3]  # three pages, each read twice
    assert walker.report.added == [] and walker.report.removed == []
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("as a precaution" in r.getMessage() for r in caplog.records)
