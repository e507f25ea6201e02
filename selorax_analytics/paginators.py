"""How pages are walked: page 1 for ``total``, the rest concurrently, then checked and repaired.

The API pages by number (``page``, ``limit`` up to 250, ``total`` in every answer). Offset paging
over a list that changes while it is read can skip or repeat rows, so every walk is checked:
every page must report the same ``total`` and the rows must be exactly ``total`` distinct ids.
When the totals disagree the store changed during the walk; the pages read before the last
change are read again (the pages that may have moved) until all agree. Creations and deletions
in equal numbers leave ``total`` unchanged, so a finished walk is also checked against the most
recently updated rows (one request, ``sort=updated_at:desc``): if it holds a row the walk did not
read at all (created meanwhile), every page is read again. A row that was read, but was updated
since, is replaced by its newer version from that check (an update moves no row between pages,
so nothing is read again for it). What moved is reported. A walk that cannot be made consistent
raises :class:`IncompleteLoadError`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Protocol, TypeVar

import pandas as pd

from selorax_analytics.exceptions import IncompleteLoadError

logger = logging.getLogger("selorax_analytics")

MAX_PAGE_SIZE = 250
#: Rounds of re-reading moved pages before a walk is declared incomplete.
MAX_REPAIR_ROUNDS = 4

T = TypeVar("T")


@dataclass(frozen=True)
class Page:
    """One page of a list endpoint: its rows and the ``total`` the server reported."""

    records: list[dict[str, Any]]
    page: int
    limit: int
    total: int
    served_at: pd.Timestamp | None = None

    @classmethod
    def from_body(cls, body: dict[str, Any], page: int, limit: int) -> Page:
        data = body.get("data") or []
        paging = body.get("pagination") or {}
        total = paging.get("total", len(data))
        served = None
        if body.get("_served_at"):
            with contextlib.suppress(ValueError, TypeError):
                served = pd.Timestamp(parsedate_to_datetime(str(body["_served_at"])))
        return cls(list(data), int(paging.get("page", page)), limit, int(total), served)


class Journal(Protocol):
    """Where finished pages are kept, so an interrupted walk resumes without re-reading them."""

    def done(self) -> dict[str, tuple[int, list[dict[str, Any]]]]: ...

    def record(self, key: str, total: int, records: list[dict[str, Any]]) -> None: ...


@dataclass
class WalkReport:
    """What a walk did: requests, pages, rows and the repair of a store that changed."""

    requests: int = 0
    pages: int = 0
    resumed_pages: int = 0
    rounds: int = 0
    total_first: int | None = None
    total_final: int | None = None
    added: list[int] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    #: Rows replaced by the newer version the newest-rows check returned.
    refreshed: int = 0

    @property
    def changed(self) -> bool:
        return self.rounds > 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "pages": self.pages,
            "resumed_pages": self.resumed_pages,
            "repair_rounds": self.rounds,
            "total_first": self.total_first,
            "total_final": self.total_final,
            "added": list(self.added),
            "removed": list(self.removed),
            "refreshed": self.refreshed,
        }


def run_concurrently(
    pool: Executor,
    tasks: Iterable[tuple[str, Callable[[], Any]]],
    on_done: Callable[[str, Any], None],
    max_in_flight: int,
) -> None:
    """Run ``(key, fn)`` tasks at most ``max_in_flight`` at a time; ``on_done`` in this thread.

    The first failure (or a KeyboardInterrupt) cancels what has not started and is re-raised;
    finished tasks have been handed to ``on_done`` by then.
    """
    pending: dict[Future[Any], str] = {}
    source: Iterator[tuple[str, Callable[[], Any]]] = iter(tasks)
    try:
        while True:
            for key, fn in source:
                pending[pool.submit(fn)] = key
                if len(pending) >= max_in_flight:
                    break
            if not pending:
                return
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                key = pending.pop(future)
                on_done(key, future.result())
    finally:
        for future in pending:
            future.cancel()


class PageWalker:
    """Walk every page of one list query and return its rows, checked and repaired.

    Parameters
    ----------
    fetch
        ``fetch(page_number) -> Page`` for the query (``limit`` fixed).
    id_field
        The row identity (``user_id``, ``order_id``).
    pool, max_in_flight
        Where pages run, and how many at once.
    journal
        Finished pages, kept as they arrive (``None``: not kept).
    check
        ``check() -> Page``: the first page of the same query sorted by ``updated_at:desc``,
        read once the walk looks complete. A row in it that the walk did not read as it is now
        means the store changed under the walk (even when creations and deletions left
        ``total`` unchanged), and every page is read again.
    progress
        Called with ``(rows_done, rows_total)`` as pages arrive.
    first
        Page 1, already requested (it went out alongside the store lookup); ``None``: fetch it.
    """

    def __init__(
        self,
        fetch: Callable[[int], Page],
        *,
        id_field: str,
        pool: Executor,
        max_in_flight: int,
        limit: int = MAX_PAGE_SIZE,
        journal: Journal | None = None,
        progress: Callable[[int, int], None] | None = None,
        check: Callable[[], Page] | None = None,
        first: Future[Page] | None = None,
    ) -> None:
        self.fetch, self.id_field, self.limit = fetch, id_field, limit
        self.check, self.first = check, first
        self.pool, self.max_in_flight = pool, max_in_flight
        self.journal = journal
        self.progress = progress
        self.report = WalkReport()
        self._pages: dict[int, Page] = {}
        self._latest_total: int | None = None

    def _keep(self, key: str, page: Page) -> None:
        number = int(key)
        self._pages[number] = page
        self._latest_total = page.total
        self.report.pages += 1
        if self.journal is not None:
            self.journal.record(f"page:{number}", page.total, page.records)
        if self.progress is not None:
            rows = sum(len(p.records) for p in self._pages.values())
            self.progress(rows, page.total)

    def _resume(self) -> None:
        if self.journal is None:
            return
        for key, (total, records) in self.journal.done().items():
            if key.startswith("page:"):
                number = int(key.split(":", 1)[1])
                self._pages[number] = Page(records, number, self.limit, total)
                self._latest_total = total
                self.report.resumed_pages += 1

    def _fetch_pages(self, numbers: Sequence[int]) -> None:
        tasks = ((str(n), lambda n=n: self.fetch(n)) for n in numbers)
        self.report.requests += len(numbers)
        run_concurrently(self.pool, tasks, self._keep, self.max_in_flight)

    def _stale(self, total: int) -> list[int]:
        wanted = range(1, max(1, math.ceil(total / self.limit)) + 1)
        return [n for n in wanted if n not in self._pages or self._pages[n].total != total]

    def walk(self, prepare: Callable[[list[dict[str, Any]]], T] | None = None) -> T | list:
        """All rows in page order, or ``prepare(rows)``; :class:`IncompleteLoadError` if the
        pages cannot agree.

        ``prepare`` (e.g. typing the rows into a frame) runs while the newest-rows check is in
        flight, so its time overlaps that request's latency; its result is used only when the
        check confirms the rows it was given.
        """
        self._resume()
        if 1 not in self._pages:
            if self.first is not None:
                self.report.requests += 1
                self._keep("1", self.first.result())
            else:
                self._fetch_pages([1])
        first_ids = None
        reread_all = False
        prepared: tuple[T] | None = None
        assert self._latest_total is not None
        self.report.total_first = self._latest_total
        for round_number in range(MAX_REPAIR_ROUNDS + 1):
            total = self._latest_total
            assert total is not None
            missing = self._stale(total)
            if missing:
                if round_number > 0 or any(p.total != total for p in self._pages.values()):
                    self.report.rounds += 1
                    first_ids = first_ids if first_ids is not None else self._ids(self._pages)
                self._fetch_pages(missing)
                continue
            verified, prepared = self._check_while(prepare, total)
            if verified and (reread_all or not self._created_meanwhile()):
                break
            # rows came and went in equal numbers, or moved: read every page again
            prepared = None
            self.report.rounds += 1
            reread_all = True
            self.report.refreshed = 0  # every row is read again
            first_ids = first_ids if first_ids is not None else self._ids(self._pages)
            self._pages.clear()
            self._fetch_pages(range(1, max(1, math.ceil(total / self.limit)) + 1))
        rows = self._finish(first_ids)
        if prepare is None:
            return rows
        return prepared[0] if prepared is not None else prepare(rows)

    def _check_while(
        self, prepare: Callable[[list[dict[str, Any]]], T] | None, total: int
    ) -> tuple[bool, tuple[T] | None]:
        """Run the newest-rows check, preparing the rows meanwhile when they look complete."""
        if self.check is None:
            return True, None
        pending = self.pool.submit(self.check)
        prepared = None
        try:
            rows = self._complete_rows(total) if prepare is not None else None
            if prepare is not None and rows is not None:
                prepared = (prepare(rows),)
        finally:
            # the check is awaited even when prepare failed; its own failure is raised first
            newest = pending.result()
        self.report.requests += 1
        verified, refreshed = self._verified(newest, total)
        return verified, None if refreshed else prepared

    def _complete_rows(self, total: int) -> list[dict[str, Any]] | None:
        """The rows of pages 1..ceil(total/limit) if they are ``total`` distinct ids, else None."""
        pages = math.ceil(total / self.limit)
        rows = [r for n in sorted(self._pages) if n <= pages for r in self._pages[n].records]
        if len(rows) != total or len({int(r[self.id_field]) for r in rows}) != total:
            return None
        return rows

    def _created_meanwhile(self) -> bool:
        """Whether rows were created after the walk began (they may mask deletions in ``total``)."""
        first = self._pages.get(1)
        if first is None or first.served_at is None:
            return False
        began = pd.Timestamp(first.served_at).tz_convert("UTC") - pd.Timedelta(seconds=1)
        last = [r.get("created_at") for p in self._pages.values() for r in p.records[-1:]]
        return any(pd.Timestamp(str(s)) >= began for s in last if s)

    def _verified(self, newest: Page, total: int) -> tuple[bool, bool]:
        """``(verified, refreshed)`` against the most recently updated rows (``newest``).

        Verified: every one of them was read and ``total`` is unchanged. Rows read in an older
        version than ``newest`` holds are replaced by that version (``refreshed``).
        """
        self._latest_total = newest.total
        latest = {int(r[self.id_field]): r for r in newest.records}
        found: set[int] = set()  # a set: a row read twice counts once
        refreshed = False
        for number, p in list(self._pages.items()):
            records = p.records
            for index, r in enumerate(records):
                key = int(r[self.id_field])
                newer = latest.get(key)
                if newer is None:
                    continue
                found.add(key)
                if str(newer.get("updated_at")) != str(r.get("updated_at")):
                    if records is p.records:  # copy on first change; pages are shared
                        records = list(p.records)
                    records[index] = newer
            if records is not p.records:
                self._pages[number] = dataclasses.replace(p, records=records)
                self.report.refreshed += sum(
                    a is not b for a, b in zip(records, p.records, strict=True)
                )
                refreshed = True
        return len(found) == len(latest) and newest.total == total, refreshed

    def _ids(self, pages: dict[int, Page]) -> set[int]:
        return {int(r[self.id_field]) for p in pages.values() for r in p.records}

    def _finish(self, first_ids: set[int] | None) -> list[dict[str, Any]]:
        total = self._latest_total
        assert total is not None
        pages = math.ceil(total / self.limit)
        rows = [r for n in sorted(self._pages) if n <= pages for r in self._pages[n].records]
        ids = [int(r[self.id_field]) for r in rows]
        unique = set(ids)
        self.report.total_final = total
        if self.report.refreshed:
            logger.info(
                "%d row(s) were updated during the load; kept in their newer version.",
                self.report.refreshed,
            )
        if self._stale(total) or len(unique) != len(ids) or len(ids) != total:
            raise IncompleteLoadError(
                f"The walk read {len(unique)} distinct rows ({len(ids) - len(unique)} repeated) "
                f"where the API reported {total}, after {self.report.rounds} repair round(s): the "
                "store kept changing. Load again when it is quieter.",
                expected=total,
                received=len(unique),
            )
        if first_ids is not None:
            self.report.added = sorted(unique - first_ids)
            self.report.removed = sorted(first_ids - unique)
            moved = self.report.added or self.report.removed
            logger.log(
                logging.WARNING if moved else logging.INFO,
                "The store changed during the load (total %d -> %d); re-read the moved pages: "
                "%d row(s) added, %d removed."
                if moved
                else "Pages were read again as a precaution (rows may have been created during "
                "the walk); nothing had moved (total %d -> %d, %d added, %d removed).",
                self.report.total_first,
                total,
                len(self.report.added),
                len(self.report.removed),
            )
        return rows
