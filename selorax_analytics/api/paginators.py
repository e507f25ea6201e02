"""How pages are walked: page 1 first, the rest concurrently, then checked and repaired.

The API pages by number (``page`` and ``limit``, ``total`` in every answer). What a server does
beyond the documentation is not trusted:

- the page size served is told from page 1 (a server may cap ``limit`` lower, saying so or not),
  and the other pages are asked for with that size;
- with a ``total``, pages ``1..ceil(total/size)`` must all report the same ``total`` and hold
  exactly ``total`` distinct rows (and the page after a full last page none of its own). Pages
  read before ``total`` moved are read again until all agree. A ``total`` the rows never fit
  (approximate) ends in :class:`IncompleteLoadError`: which rows are missing cannot be told;
- without a ``total`` the list is walked to its end: a short page, an empty page or a page
  repeating the one before it, in windows of concurrent pages;
- a row on two pages is never kept twice: the pages are read again, and if it persists the
  walk raises :class:`IncompleteLoadError`;
- once the pages agree, every row updated since the walk began (less a margin) is read, walking
  ``sort=updated_at:desc`` until rows are older (one request on a quiet store). Rows read in an
  older version are replaced, rows created meanwhile are added, and the count must then equal
  the list's ``total``; if it does not (rows were deleted meanwhile), every page is read again.
  A resumed walk takes the moment its journal began, so pages kept from an interrupted load are
  proven current, or replaced, the same way.

A walk that cannot be made consistent raises :class:`IncompleteLoadError` naming what happened.

What the walk leans on is beside it: one page's answer read in :mod:`~selorax_analytics.api._page`
(:class:`Page`, also imported from here), the checks of pages and rows in
:mod:`~selorax_analytics.api._pagecheck`, and running pages concurrently, the
:class:`WalkReport` and the messages of a repair or a failure in
:mod:`~selorax_analytics.api._walkparts`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from typing import Any, Protocol, TypeVar

import pandas as pd

from selorax_analytics.api._page import Page
from selorax_analytics.api._pagecheck import (
    Anchor,
    Changes,
    changed_since,
    closed_problem,
    hidden_deletions,
    ids_of,
    merge_changes,
    newest_created,
    open_end,
    served_size,
)

# WalkReport and run_concurrently are also imported from here, by the loaders' sub-list walks
from selorax_analytics.api._walkparts import (
    WalkReport,
    incomplete_error,
    log_repair,
    run_concurrently,
)
from selorax_analytics.exceptions import IncompleteLoadError

MAX_PAGE_SIZE = 250
#: Rounds of re-reading moved pages before a walk is declared incomplete.
MAX_REPAIR_ROUNDS = 4
#: Rows updated this long before the walk began (by the server's ``Date``) are read again by the
#: changed-rows check: ``Date`` has whole seconds, and may come from another clock than
#: ``updated_at``.
CHANGE_MARGIN = pd.Timedelta(minutes=2)
#: The same margin when the server sends no ``Date`` and this machine's clock is used instead.
CLOCK_MARGIN = pd.Timedelta(minutes=15)
#: Rows created this long before page 1 was served (by its ``Date``, whole seconds) count as
#: created during the walk: they may hide a deletion (see :func:`_pagecheck.hidden_deletions`).
CREATION_MARGIN = pd.Timedelta(seconds=5)
#: The journal entry holding when a walk began and its page size.
START_KEY = "walk:start"

T = TypeVar("T")


class Journal(Protocol):
    """Where finished pages are kept, so an interrupted walk resumes without re-reading them."""

    def done(self) -> dict[str, tuple[int, list[dict[str, Any]]]]: ...

    def record(self, key: str, total: int, records: list[dict[str, Any]]) -> None: ...


class PageWalker:
    """Walk every page of one list query and return its rows, checked and repaired.

    Parameters
    ----------
    fetch
        ``fetch(page_number, size) -> Page`` for the query.
    id_field
        The row identity (``user_id``, ``order_id``).
    pool, max_in_flight
        Where pages run, and how many at once.
    limit
        The page size asked for first (the served size may turn out smaller).
    journal
        Finished pages, kept as they arrive (``None``: not kept).
    changes
        ``changes(page_number, size) -> Page``: the same query sorted ``updated_at:desc``, read
        once the pages agree, down to the moment the walk began (see the module docstring).
        ``None``: no such check.
    progress
        Called with ``(rows_done, rows_total)`` as pages arrive.
    first
        Page 1, already requested (it went out alongside the store lookup); ``None``: fetch it.
    clock
        This machine's time (seconds), used when the server sends no ``Date``.
    """

    def __init__(
        self,
        fetch: Callable[[int, int], Page],
        *,
        id_field: str,
        pool: Executor,
        max_in_flight: int,
        limit: int = MAX_PAGE_SIZE,
        journal: Journal | None = None,
        progress: Callable[[int, int], None] | None = None,
        changes: Callable[[int, int], Page] | None = None,
        first: Future[Page] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.fetch, self.id_field, self.limit, self.size = fetch, id_field, limit, limit
        self.changes, self.first, self.clock = changes, first, clock
        self.pool, self.max_in_flight = pool, max_in_flight
        self.journal = journal
        self.progress = progress
        self.report = WalkReport()
        self._pages: dict[int, Page] = {}
        self._latest: Page | None = None
        self._began: pd.Timestamp | None = None
        #: Why the last reconciliation with the rows changed meanwhile failed.
        self._problem = "deleted"
        #: Rows created at or after this may have been created during the walk.
        self._created_floor: pd.Timestamp | None = None
        #: What the last round saw, when rows created during it made it untrustworthy.
        self._anchor: Anchor | None = None

    # -- reading pages ------------------------------------------------------------------------
    def _keep(self, key: str, page: Page) -> None:
        number = int(key)
        self._pages[number] = page
        self._latest = page
        self.report.pages += 1
        if self.journal is not None:
            self.journal.record(f"page:{number}", page.total, page.records)
        if self.progress is not None:
            rows = sum(len(p.records) for p in self._pages.values())
            self.progress(rows, max(rows, page.total))

    def _fetch_pages(self, numbers: Sequence[int]) -> None:
        size = self.size
        tasks = ((str(n), lambda n=n: self.fetch(n, size)) for n in numbers)
        self.report.requests += len(numbers)
        run_concurrently(self.pool, tasks, self._keep, self.max_in_flight)

    def _resume(self) -> None:
        """Pages kept by an interrupted walk, with the moment it began (else none are used)."""
        if self.journal is None:
            return
        done = self.journal.done()
        start = done.get(START_KEY)
        try:
            began = pd.Timestamp(start[1][0]["began"]) if start else None
            size = int(start[1][0]["size"]) if start else 0
        except (ValueError, TypeError, KeyError, IndexError):
            began = None
        if began is None or size < 1:
            return  # pages that cannot be proven current are not resumed
        self._began, self.size = began, size
        for key, (total, records) in done.items():
            if key.startswith("page:"):
                number = int(key.split(":", 1)[1])
                self._pages[number] = Page(records, number, size, total)
                self._latest = self._pages[number]
                self.report.resumed_pages += 1

    def _start(self) -> Page:
        """Page 1 (kept, early or fetched), the served size and the moment the walk began."""
        if 1 not in self._pages:
            if self.first is not None:
                self.report.requests += 1
                self._keep("1", self.first.result())
            else:
                self.size = self.limit
                self._fetch_pages([1])
        first = self._pages[1]
        if self._began is None:
            self.size = served_size(first, self.limit)
            if first.served_at is not None:
                served = pd.Timestamp(first.served_at).tz_convert("UTC")
                self._began = served - CHANGE_MARGIN
                self._created_floor = served - CREATION_MARGIN
            else:
                now = pd.Timestamp(self.clock(), unit="s", tz="UTC")
                self._began = now - CLOCK_MARGIN
            if self.journal is not None:
                entry = {"began": self._began.isoformat(), "size": self.size}
                self.journal.record(START_KEY, 0, [entry])
        self.report.size = self.size
        self.report.total_first = first.total if first.total_known else None
        return first

    # -- the walk -------------------------------------------------------------------------------
    def walk(self, prepare: Callable[[list[dict[str, Any]]], T] | None = None) -> T | list:
        """All rows, or ``prepare(rows)``; :class:`IncompleteLoadError` if they cannot agree.

        ``prepare`` (e.g. typing the rows into a frame) runs while the changed-rows check is in
        flight, so its time overlaps that request's latency; its result is used only when the
        check changes nothing in the rows it was given.
        """
        self._resume()
        self._start()
        problem = "unsettled"
        causes: list[str] = []  # why each round was read again
        for round_number in range(MAX_REPAIR_ROUNDS + 1):
            if round_number:
                self.report.rounds += 1
            rows, problem = self._rows()
            if rows is None:
                causes.append(problem)
                continue
            outcome = self._reconcile(rows, prepare)
            if outcome is not None:
                log_repair(self.report, self._began, causes)
                return outcome[0]
            problem = self._problem
            causes.append(problem)
            self._reread(max(self._pages))
        raise self._incomplete(problem)

    def _rows(self) -> tuple[list[dict[str, Any]] | None, str]:
        """The rows when the pages agree, else ``None`` and why (stale pages were re-read)."""
        assert self._latest is not None
        if self._latest.total_known:
            unread = self._closed_range(self._latest.total)
            self._fetch_pages([n for n in unread if n not in self._pages])
        latest = self._latest
        if all(p.total_known for p in self._pages.values()) and latest.total_known:
            total = latest.total
            last = max(1, math.ceil(total / self.size))
            stale = [n for n in range(1, last + 1) if self._pages.get(n, latest).total != total]
            if stale:
                self._fetch_pages(stale)
                return None, "moved"
            problem = closed_problem(self._pages, total, self.size, self.id_field)
            if problem is None:
                self.report.total_final = total
                return [r for n in range(1, last + 1) for r in self._pages[n].records], "ok"
            # a row on two pages, or rows that do not fit the total: read them all again
            self._reread(max(self._closed_range(total)))
            return None, problem
        return self._open_rows()

    def _open_rows(self) -> tuple[list[dict[str, Any]] | None, str]:
        """The rows of a list walked to its end page (no usable ``total``)."""
        self.report.open_ended = True
        while (end := open_end(self._pages, self.size, self.id_field)) is None:
            following = min(n for n in range(1, len(self._pages) + 2) if n not in self._pages)
            window = max(2, self.max_in_flight)
            self._fetch_pages(range(following, following + window))
        last, _ = end
        rows = [r for n in range(1, last + 1) for r in self._pages[n].records]
        if len(set(ids_of(rows, self.id_field))) != len(rows):
            self._reread(last)
            return None, "repeated"
        self.report.total_final = len(rows)
        return rows, "ok"

    def _closed_range(self, total: int) -> range:
        """Pages ``1..ceil(total/size)``, and one more when the last is full (``total`` may be
        short of the rows, and a full page cannot tell)."""
        last = max(1, math.ceil(total / self.size))
        return range(1, last + (2 if total and total % self.size == 0 else 1))

    def _reread(self, last: int) -> None:
        """Read pages ``1..last`` again, forgetting every page read so far."""
        self._pages = {}
        self._fetch_pages(range(1, last + 1))

    def _reconcile(
        self, rows: list[dict[str, Any]], prepare: Callable[[list[dict[str, Any]]], T] | None
    ) -> tuple[Any] | None:
        """``(rows or prepare(rows),)`` with what changed since the walk began folded in;
        ``None`` when the count then differs from the list's ``total`` (rows were deleted)."""
        if self.changes is None:
            return (prepare(rows) if prepare is not None else rows,)
        assert self._began is not None
        began, size = self._began, self.limit
        pending = self.pool.submit(changed_since, self.changes, began, size)
        prepared = None
        try:
            if prepare is not None:
                prepared = (prepare(rows),)
        finally:
            # the check is awaited even when prepare failed; its own failure is raised first
            changes: Changes = pending.result()
        self.report.requests += changes.pages
        self.report.change_pages += changes.pages
        merged = merge_changes(rows, changes, self.id_field)
        # an open-ended walk had no usable total: there is none to count against
        total = None if self.report.open_ended else changes.total
        if total is not None:
            newest = self._newest(rows, merged.rows)
            reread = True
            if len(merged.rows) != total:
                # fewer rows than the total: rows were deleted meanwhile; more: it is off
                self._problem = "deleted" if len(merged.rows) < total else "counts"
            elif self._creations_may_hide_deletions(merged.rows, total, newest):
                self._problem = "hidden"
            else:
                reread = False
            if reread:  # read again, and counted against what this round saw
                ids = frozenset(ids_of(merged.rows, self.id_field))
                stamp = newest if isinstance(newest, pd.Timestamp) else None
                self._anchor = Anchor(total, ids, stamp)
                return None
        self.report.refreshed = len(merged.refreshed)
        self.report.created = merged.created
        self.report.total_final = len(merged.rows)
        if not merged.refreshed and not merged.created:
            return prepared if prepared is not None else (rows,)
        return (prepare(merged.rows) if prepare is not None else merged.rows,)

    def _newest(
        self, rows: list[dict[str, Any]], merged: list[dict[str, Any]]
    ) -> pd.Timestamp | bool:
        """The newest ``created_at`` among the rows (``False``: one is unreadable; ``True``:
        there are none)."""
        created = merged[len(rows) :]  # rows the walk did not read, created meanwhile
        tails = [p.records[-1] for p in self._pages.values() if p.records]
        newest = newest_created([*tails, *created])  # pages hold the oldest rows first
        return True if newest is None else newest

    def _creations_may_hide_deletions(
        self, merged: list[dict[str, Any]], total: int, newest: pd.Timestamp | bool
    ) -> bool:
        """Whether rows created during this round may hide rows deleted during it.

        A creation and a deletion leave ``total`` as it was, and the deletion shifts later rows
        back a page, so the walk may hold the deleted row and miss another. After a round that
        was read again, rows are counted against it (:func:`hidden_deletions`): trusted when
        none were deleted, so a store taking steady sign-ups loads in a round or two more. The
        first round cannot count deletions: if rows were created during it, it is read again.
        """
        if self._anchor is not None:
            return hidden_deletions(self._anchor, merged, total, self.id_field) != 0
        if newest is True:
            return False  # no rows
        floor = self._created_floor if self._created_floor is not None else self._began
        assert floor is not None  # set when the walk began
        return newest is False or bool(newest >= floor)

    def _incomplete(self, problem: str) -> IncompleteLoadError:
        rows = {i for p in self._pages.values() for i in ids_of(p.records, self.id_field)}
        total = self._latest.total if self._latest is not None else len(rows)
        return incomplete_error(problem, self.report.rounds, len(rows), total)
