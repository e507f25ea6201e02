"""Page walks on hand-made pages: precautionary re-reads, preparing rows during the check,
and page 1 requested ahead of the walk."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest

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


def _pages_of(rows: list[dict], limit: int, served=SERVED):
    def fetch(number: int) -> Page:
        return Page(rows[(number - 1) * limit : number * limit], number, limit, len(rows), served)

    return fetch


def test_prepare_runs_while_the_check_is_out_and_its_result_is_returned():
    rows = [
        {"user_id": i, "updated_at": "u", "created_at": "2026-01-01T00:00:00Z"} for i in (1, 2, 3)
    ]
    check_started, prepared_during_check = threading.Event(), []

    def check() -> Page:
        check_started.set()
        # the rows are prepared while this request is out: wait until that has happened
        assert prepared.wait(5)
        return Page(sorted(rows, key=lambda r: -r["user_id"])[:2], 1, 2, len(rows), SERVED)

    prepared = threading.Event()

    def prepare(got: list[dict]) -> list[int]:
        prepared_during_check.append(check_started.wait(5))
        prepared.set()
        return [r["user_id"] for r in got]

    with ThreadPoolExecutor(2) as pool:
        walker = PageWalker(
            _pages_of(rows, 2), id_field="user_id", pool=pool, max_in_flight=2, limit=2, check=check
        )
        assert walker.walk(prepare) == [1, 2, 3]
    assert prepared_during_check == [True]
    assert walker.report.requests == 3  # two pages and the check


def test_prepared_rows_are_dropped_when_the_check_finds_a_change():
    # between the walk and its check, row 2 is deleted and row 4 created: total stays 3
    before = [
        {"user_id": i, "updated_at": "a", "created_at": "2026-01-01T00:00:00Z"} for i in (1, 2, 3)
    ]
    after = [
        before[0],
        before[2],
        {"user_id": 4, "updated_at": "b", "created_at": "2026-01-01T00:00:00Z"},
    ]
    state = {"rows": before}
    seen: list[list[int]] = []

    def fetch(number: int) -> Page:
        return _pages_of(state["rows"], 2)(number)

    def check() -> Page:
        state["rows"] = after
        return Page([after[2]], 1, 1, len(after), SERVED)

    def prepare(got: list[dict]) -> list[int]:
        seen.append([r["user_id"] for r in got])
        return seen[-1]

    with ThreadPoolExecutor(2) as pool:
        walker = PageWalker(
            fetch, id_field="user_id", pool=pool, max_in_flight=2, limit=2, check=check
        )
        assert walker.walk(prepare) == [1, 3, 4]
    assert seen == [[1, 2, 3], [1, 3, 4]]
    assert walker.report.added == [4] and walker.report.removed == [2]


def test_a_failing_prepare_is_raised_after_the_check_has_come_back():
    rows = [{"user_id": i, "updated_at": "u", "created_at": "2026-01-01T00:00:00Z"} for i in (1, 2)]
    returned = threading.Event()

    def check() -> Page:
        time.sleep(0.05)
        returned.set()
        return Page(rows, 1, 2, 2, SERVED)

    def prepare(got: list[dict]) -> None:
        raise KeyError("Records lack the field(s) ['name']")

    with ThreadPoolExecutor(2) as pool:
        walker = PageWalker(
            _pages_of(rows, 2), id_field="user_id", pool=pool, max_in_flight=2, limit=2, check=check
        )
        with pytest.raises(KeyError, match="name"):
            walker.walk(prepare)
        assert returned.is_set()


def test_page_one_requested_earlier_is_used_and_not_fetched_again():
    rows = [{"user_id": i, "created_at": "2026-01-01T00:00:00Z"} for i in range(1, 6)]
    fetch = _pages_of(rows, 2)
    calls: list[int] = []

    def counting(number: int) -> Page:
        calls.append(number)
        return fetch(number)

    with ThreadPoolExecutor(2) as pool:
        early = pool.submit(fetch, 1)
        walker = PageWalker(
            counting, id_field="user_id", pool=pool, max_in_flight=2, limit=2, first=early
        )
        assert [r["user_id"] for r in walker.walk()] == [1, 2, 3, 4, 5]
    assert sorted(calls) == [2, 3]
    assert walker.report.requests == 3
