"""Page walks on an in-process list: served page sizes, totals that are missing or wrong, pages
past the end, rows on two pages, the changed-rows check, page 1 requested ahead, resumes."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest

from selorax_analytics.api.paginators import START_KEY, Page, PageWalker
from selorax_analytics.exceptions import IncompleteLoadError
from tests._fake_list import SERVED, FakeList, row

NEW = "2026-11-27T10:00:05.000Z"  # after the walk began (SERVED)


def walk(fake: FakeList, limit: int = 10, **options):
    with ThreadPoolExecutor(4) as pool:
        walker = PageWalker(
            fake.fetch,
            id_field="user_id",
            pool=pool,
            max_in_flight=4,
            limit=limit,
            changes=fake.changes,
            **options,
        )
        walker.rows = walker.walk()
        return [r["user_id"] for r in walker.rows], walker


def test_a_quiet_walk_reads_each_page_once_and_checks_changes_with_one_request():
    fake = FakeList([row(i) for i in range(1, 24)])
    got, walker = walk(fake)
    assert got == list(range(1, 24))
    assert fake.requests("walk") == 3 and fake.requests("changes") == 1  # ceil(23/10) + 1
    assert walker.report.requests == 4 and not walker.report.changed


@pytest.mark.parametrize("says_so", [True, False])
def test_a_capped_page_size_is_told_from_page_1_and_walked_with(says_so):
    # the server serves 5 rows where 10 were asked (whether pagination.limit says so is not read)
    fake = FakeList([row(i) for i in range(1, 24)], cap=5)
    got, walker = walk(fake)
    assert got == list(range(1, 24))
    assert walker.report.size == 5
    # pages 2..5 were asked with the served size, so the server's offsets match ours
    assert sorted(c[1:] for c in fake.calls if c[0] == "walk")[1:] == [(n, 5) for n in (2, 3, 4, 5)]


def test_a_missing_total_is_walked_to_the_short_page():
    fake = FakeList([row(i) for i in range(1, 24)], total="missing")
    got, walker = walk(fake)
    assert got == list(range(1, 24))
    assert walker.report.open_ended


def test_a_page_past_the_end_repeating_the_last_page_is_left_out():
    fake = FakeList([row(i) for i in range(1, 21)], total="missing", past_end="repeat")
    got, _ = walk(fake)
    assert got == list(range(1, 21))  # 2 full pages; page 3 repeats page 2


@pytest.mark.parametrize("off", [+9, -3, -13])
def test_a_total_the_rows_do_not_fit_is_an_incomplete_load(off):
    # 23 rows; the total says 32, 20 (two full pages: the third page shows more) or 10
    fake = FakeList([row(i) for i in range(1, 24)], total=off)
    with pytest.raises(IncompleteLoadError, match="never fitted the total") as info:
        walk(fake)
    assert info.value.expected == 23 + off


def test_a_row_served_on_two_pages_is_an_incomplete_load_not_a_duplicate():
    # page 2 serves row 3 (of page 1) in place of row 11: row 11 is never served
    fake = FakeList([row(i) for i in range(1, 24)], duplicate=(2, 2))
    with pytest.raises(IncompleteLoadError, match="same row on two pages") as info:
        walk(fake)
    assert info.value.expected == 23 and info.value.received == 22


def test_rows_updated_and_created_during_the_walk_are_read_from_the_changes():
    rows = [row(i) for i in range(1, 24)]
    fake = FakeList(rows)
    original = fake.fetch

    def fetch(number: int, size: int) -> Page:
        page = original(number, size)
        if number == 3:  # page 3 read: row 2 (page 1) renamed, row 24 created
            rows[1] = row(2, NEW, name="Renamed")
            rows.append(row(24, NEW))
        return page

    fake.fetch = fetch  # type: ignore[method-assign]
    with ThreadPoolExecutor(1) as pool:
        walker = PageWalker(
            fake.fetch, id_field="user_id", pool=pool, max_in_flight=1, limit=10,
            changes=fake.changes,
        )  # fmt: skip
        got = walker.walk()
    assert sorted(r["user_id"] for r in got) == list(range(1, 25))
    assert next(r for r in got if r["user_id"] == 2)["name"] == "Renamed"
    assert walker.report.refreshed == 1 and walker.report.created == [24]
    assert walker.report.rounds == 0  # nothing read again: the pages stand


def test_prepare_runs_while_the_check_is_out_and_its_result_is_returned():
    fake = FakeList([row(i) for i in (1, 2, 3)])
    check_started, prepared = threading.Event(), threading.Event()
    seen_during_check: list[bool] = []

    def changes(number: int, size: int) -> Page:
        check_started.set()
        assert prepared.wait(5)  # the rows are prepared while this request is out
        return fake.changes(number, size)

    def prepare(got: list[dict]) -> list[int]:
        seen_during_check.append(check_started.wait(5))
        prepared.set()
        return [r["user_id"] for r in got]

    with ThreadPoolExecutor(2) as pool:
        walker = PageWalker(
            fake.fetch, id_field="user_id", pool=pool, max_in_flight=2, limit=2, changes=changes
        )
        assert walker.walk(prepare) == [1, 2, 3]
    assert seen_during_check == [True]
    assert walker.report.requests == 3  # two pages and the check


def test_a_deletion_hidden_by_a_creation_reads_every_page_again():
    # between the walk and its check, row 2 is deleted and row 4 created: total stays 3
    state = {"rows": [row(1), row(2), row(3)]}
    fake = FakeList(state["rows"])
    seen: list[list[int]] = []

    def changes(number: int, size: int) -> Page:
        if number == 1 and len(seen) == 1:
            fake.rows = [row(1), row(3), row(4, NEW)]
        return fake.changes(number, size)

    def prepare(got: list[dict]) -> list[int]:
        seen.append(sorted(r["user_id"] for r in got))
        return seen[-1]

    with ThreadPoolExecutor(2) as pool:
        walker = PageWalker(
            fake.fetch, id_field="user_id", pool=pool, max_in_flight=2, limit=2, changes=changes
        )
        assert walker.walk(prepare) == [1, 3, 4]
    assert seen == [[1, 2, 3], [1, 3, 4]]
    assert walker.report.rounds == 1


def walk_changing(rows: list[dict], change, after_page: int, limit: int = 10):
    """A walk of ``rows`` (one page at a time) where ``change(rows)`` runs once page
    ``after_page`` has been served; the walker, and the rows as the store then holds them."""
    fake = FakeList(rows)
    original, done = fake.fetch, []

    def fetch(number: int, size: int) -> Page:
        page = original(number, size)
        if number == after_page and not done:
            done.append(change(fake.rows))
        return page

    with ThreadPoolExecutor(1) as pool:
        walker = PageWalker(
            fetch, id_field="user_id", pool=pool, max_in_flight=1, limit=limit,
            changes=fake.changes,
        )  # fmt: skip
        got = walker.walk()
    return walker, got, fake.rows


def test_a_deletion_hidden_by_a_creation_during_the_walk_is_read_again():
    # page 2 served: row 5 (page 1, read) is deleted and row 34 created; total stays 33 and
    # row 21 moves from page 3 back to page 2, already read: a walk that trusted the count
    # would hold the deleted row 5 and miss row 21 (the changed rows, 34 then 33 down to 25,
    # do not show it)
    def sign_up_and_delete(rows: list[dict]) -> None:
        rows.remove(next(r for r in rows if r["user_id"] == 5))
        rows.append(row(34, NEW, created_at=NEW))

    walker, got, store = walk_changing([row(i) for i in range(1, 34)], sign_up_and_delete, 2)
    assert sorted(r["user_id"] for r in got) == sorted(r["user_id"] for r in store)
    assert 5 not in {r["user_id"] for r in got} and 21 in {r["user_id"] for r in got}
    assert walker.report.rounds == 1  # read once more, then counted against the first round


def test_a_sign_up_during_the_walk_costs_two_rounds_and_no_error():
    walker, got, store = walk_changing(
        [row(i) for i in range(1, 24)], lambda rows: rows.append(row(24, NEW, created_at=NEW)), 2
    )
    assert [r["user_id"] for r in got] == [r["user_id"] for r in store] == list(range(1, 25))
    # round 1: pages 1-2 said 23, page 3 said 24 (re-read); round 2: a row was created, so a
    # deletion may hide behind it: read again and counted against round 1 (none deleted)
    assert walker.report.rounds == 2


def test_rows_created_before_the_walk_cost_nothing_more():
    early = "2026-11-27T09:59:00.000Z"  # a minute before page 1 was served
    rows = [row(i) for i in range(1, 23)] + [row(23, early, created_at=early)]
    walker, got, _ = walk_changing(rows, lambda rows: None, 2)
    assert len(got) == 23 and walker.report.rounds == 0


def test_rows_created_just_before_the_walk_are_read_again_as_a_precaution(caplog):
    # created 2 s before page 1's Date: within the margin its whole seconds need, so the walk
    # cannot tell it from a creation during it and reads once more, quietly
    just = "2026-11-27T09:59:58.000Z"
    rows = [row(i) for i in range(1, 23)] + [row(23, just, created_at=just)]
    with caplog.at_level("INFO", logger="selorax_analytics"):
        walker, got, _ = walk_changing(rows, lambda rows: None, 2)
    assert [r["user_id"] for r in got] == list(range(1, 24)) and walker.report.rounds == 1
    assert not [r for r in caplog.records if r.levelname == "WARNING"]
    assert any("as a precaution" in r.getMessage() for r in caplog.records)


def test_a_failing_prepare_is_raised_after_the_check_has_come_back():
    fake = FakeList([row(1), row(2)])
    raised, returned = threading.Event(), threading.Event()

    def changes(number: int, size: int) -> Page:
        assert raised.wait(5)  # still out when prepare fails
        returned.set()
        return fake.changes(number, size)

    def prepare(got: list[dict]) -> None:
        raised.set()
        raise KeyError("Records lack the field(s) ['name']")

    with ThreadPoolExecutor(2) as pool:
        walker = PageWalker(
            fake.fetch, id_field="user_id", pool=pool, max_in_flight=2, limit=2, changes=changes
        )
        with pytest.raises(KeyError, match="name"):
            walker.walk(prepare)
        assert returned.is_set()


def test_page_one_requested_earlier_is_used_and_not_fetched_again():
    fake = FakeList([row(i) for i in range(1, 6)])
    with ThreadPoolExecutor(2) as pool:
        early = pool.submit(fake.fetch, 1, 2)
        walker = PageWalker(
            fake.fetch, id_field="user_id", pool=pool, max_in_flight=2, limit=2, first=early
        )
        assert [r["user_id"] for r in walker.walk()] == [1, 2, 3, 4, 5]
    assert sorted(c[1] for c in fake.calls) == [1, 2, 3]  # page 1 once, early
    assert walker.report.requests == 3


class MemoryJournal:
    def __init__(self) -> None:
        self.pages: dict[str, tuple[int, list[dict]]] = {}

    def done(self):
        return dict(self.pages)

    def record(self, key, total, records):
        self.pages[key] = (total, records)


def test_a_resume_replaces_kept_rows_updated_since_its_journal_began():
    rows = [row(i) for i in range(1, 24)]
    journal = MemoryJournal()
    first = FakeList(list(rows))

    def interrupted(number: int, size: int) -> Page:
        if number == 3:
            raise KeyboardInterrupt
        return first.fetch(number, size)

    with ThreadPoolExecutor(1) as pool, pytest.raises(KeyboardInterrupt):
        PageWalker(interrupted, id_field="user_id", pool=pool, max_in_flight=1, limit=10,
                   journal=journal, changes=first.changes).walk()  # fmt: skip
    assert {"page:1", "page:2", START_KEY} <= set(journal.pages)
    # meanwhile, rows 5 and 15 (on the kept pages) are renamed; a later clock serves the resume
    rows[4] = row(5, NEW, name="New five")
    rows[14] = row(15, NEW, name="New fifteen")
    later = FakeList(rows, served_at=SERVED + pd.Timedelta(hours=1))
    got, walker = walk(later, journal=journal)
    assert got == list(range(1, 24))
    assert later.requests("walk") == 1  # only page 3 was read again
    names = {r["user_id"]: r["name"] for r in walker.rows}
    assert names[5] == "New five" and names[15] == "New fifteen" and names[4] == "Customer 4"
    assert walker.report.resumed_pages == 2 and walker.report.refreshed == 2
    assert walker.report.changed  # reported in attrs["selorax"]["repair"] by the loader
