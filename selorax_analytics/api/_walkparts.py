"""The parts of a page walk around its flow: running pages, and telling what the walk did.

:class:`~selorax_analytics.api.paginators.PageWalker` reads top to bottom as the walk itself;
what it leans on is here:

- :func:`run_concurrently`: tasks run at most so many at a time, each result handed back in the
  calling thread (the walker keeps pages as they arrive; sub-lists use it too);
- :class:`WalkReport`: what a walk did (requests, pages, rows, repair rounds), which the load
  turns into its stats;
- :func:`log_repair` and :func:`incomplete_error`: how a walk tells of a store that changed
  under it, in the log when it was repaired, as an :class:`IncompleteLoadError` when it could
  not be.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from selorax_analytics.exceptions import IncompleteLoadError

logger = logging.getLogger("selorax_analytics")


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


@dataclass
class WalkReport:
    """What a walk did: requests, pages, rows and the repair of a store that changed."""

    requests: int = 0
    pages: int = 0
    resumed_pages: int = 0
    rounds: int = 0
    total_first: int | None = None
    total_final: int | None = None
    #: Sub-lists found gone during a per-customer walk (their customers were deleted).
    removed: list[int] = field(default_factory=list)
    #: Rows replaced by their newer version from the changed-rows check.
    refreshed: int = 0
    #: Rows created during the walk, added from the changed-rows check.
    created: list[int] = field(default_factory=list)
    #: The page size served (below the size asked when the server caps it).
    size: int | None = None
    #: Walked to its end page: ``total`` was missing or did not fit the rows.
    open_ended: bool = False
    #: Requests of the changed-rows check (``sort=updated_at:desc``).
    change_pages: int = 0

    @property
    def changed(self) -> bool:
        """Whether the rows differ from a plain walk: re-read, refreshed, created or resumed."""
        return bool(self.rounds or self.refreshed or self.created or self.resumed_pages)

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "pages": self.pages,
            "resumed_pages": self.resumed_pages,
            "repair_rounds": self.rounds,
            "total_first": self.total_first,
            "total_final": self.total_final,
            "removed": list(self.removed),
            "refreshed": self.refreshed,
            "created": list(self.created),
            "page_size": self.size,
            "open_ended": self.open_ended,
            "change_pages": self.change_pages,
        }


def log_repair(report: WalkReport, began: pd.Timestamp | None, causes: list[str]) -> None:
    """Log what a walk that succeeded repaired: rows changed meanwhile, pages read again.

    ``began`` is the moment the changed-rows check read back to; ``causes`` why each repair
    round was read again (``"hidden"`` alone: only as a precaution).
    """
    if report.refreshed or report.created:
        logger.info(
            "%d row(s) were updated and %d created during the load; read in their newest "
            "version from the rows updated since %s.",
            report.refreshed,
            len(report.created),
            began.isoformat() if began is not None else "the walk began",
        )
    if report.rounds and set(causes) == {"hidden"}:
        logger.info(
            "Pages were read again as a precaution: rows were created during the load, "
            "which could have hidden a deletion; none had (%d round(s)).",
            report.rounds,
        )
    elif report.rounds:
        logger.warning(
            "The store changed during the load (total %s -> %s); %d repair round(s).",
            report.total_first,
            report.total_final,
            report.rounds,
        )


#: Why a walk failed, by the problem its last round found, as the error tells it.
_CAUSES = {
    "moved": "the list's total kept changing between pages (rows created or deleted "
    "while it was read)",
    "repeated": "the server kept serving the same row on two pages (its paging is "
    "not stable, so other rows were left out)",
    "deleted": "rows were deleted while the list was read (the rows read, with the "
    "rows changed meanwhile, did not add up to the list's total)",
    "counts": "the pages' rows never fitted the total the API reported (an approximate "
    "total, or a page past the end repeating the last one)",
    "hidden": "rows were created and others deleted while the list was read, in "
    "every round (a deletion hidden by a creation leaves the total as it was)",
    "unsettled": "the pages never agreed",
}


def incomplete_error(problem: str, rounds: int, read: int, total: int) -> IncompleteLoadError:
    """The error of a walk that could not be made consistent.

    ``problem`` is what its last round found (a key of ``_CAUSES``), ``rounds`` the repair
    rounds run, ``read`` the distinct rows read and ``total`` the API's last ``total``.
    """
    return IncompleteLoadError(
        f"The walk could not be made complete after {rounds} repair round(s): "
        f"{_CAUSES[problem]}; {read} distinct rows read, the API's total is {total}. Nothing "
        "partial was returned. Load again when the store is quieter; if this repeats, the "
        "API's paging is inconsistent: report it with this message.",
        expected=total,
        received=read,
    )
