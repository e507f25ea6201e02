"""Walking many small sub-lists at once: every customer's orders (``/customers/{id}/orders``).

Used when the credential cannot read ``GET /orders``. Each sub-list is read page by page and
re-read if its ``total`` moved meanwhile; sub-lists run concurrently, and finished ones are kept
in the resume journal.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Any

from selorax_analytics.api._pagecheck import served_size
from selorax_analytics.api.paginators import (
    MAX_PAGE_SIZE,
    MAX_REPAIR_ROUNDS,
    Journal,
    Page,
    WalkReport,
    run_concurrently,
)
from selorax_analytics.exceptions import IncompleteLoadError


def _all_pages(fetch: Callable[[int, int, int], Page], key: int, limit: int) -> tuple[int, list]:
    """Every row of one sub-list (e.g. one customer's orders), re-read if it moved meanwhile.

    Pages after the first are asked for in the size the first was served in (a server may cap
    ``limit``); the rows must be ``total`` distinct ids.
    """
    for _ in range(MAX_REPAIR_ROUNDS + 1):
        first = fetch(key, 1, limit)
        size = served_size(first, limit)
        rows = list(first.records)
        totals = {first.total}
        for number in range(2, math.ceil(first.total / size) + 1):
            page = fetch(key, number, size)
            rows += page.records
            totals.add(page.total)
        distinct = len({repr(r.get("order_id", r.get("id", n))) for n, r in enumerate(rows)})
        if len(totals) == 1 and len(rows) == first.total == distinct and first.total_known:
            return first.total, rows
    raise IncompleteLoadError(
        f"The rows of {key} kept changing while they were read, or did not add up to the "
        "total the API reported (or it reported none); load again later.",
        expected=first.total,
        received=len(rows),
    )


def walk_each(
    keys: Sequence[int],
    fetch: Callable[[int, int, int], Page],
    *,
    pool: Executor,
    max_in_flight: int,
    limit: int = MAX_PAGE_SIZE,
    journal: Journal | None = None,
    progress: Callable[[int, int], None] | None = None,
    gone: type[Exception] | None = None,
) -> tuple[dict[int, list[dict[str, Any]]], WalkReport]:
    """Every row of a sub-list per key (``/customers/{id}/orders``), concurrently.

    Returns ``({key: rows}, report)``. Keys whose sub-list answers with ``gone`` (e.g.
    :class:`NotFoundError`: the customer was deleted meanwhile) are left out and reported as
    ``removed``. Finished keys are kept in ``journal`` and not read again on resume.
    """
    report = WalkReport()
    found: dict[int, list[dict[str, Any]]] = {}
    if journal is not None:
        for name, (_, records) in journal.done().items():
            if name.startswith("key:") and int(name[4:]) in set(keys):
                found[int(name[4:])] = records
                report.resumed_pages += 1
    todo = [k for k in keys if k not in found]

    def one(key: int) -> tuple[int, list[dict[str, Any]]] | None:
        try:
            return _all_pages(fetch, key, limit)
        except Exception as exc:
            if gone is not None and isinstance(exc, gone):
                return None
            raise

    def done(name: str, result: tuple[int, list[dict[str, Any]]] | None) -> None:
        key = int(name)
        report.pages += 1
        if result is None:
            report.removed.append(key)
        else:
            found[key] = result[1]
            if journal is not None:
                journal.record(f"key:{key}", result[0], result[1])
        if progress is not None:
            progress(len(found) + len(report.removed), len(keys))

    report.requests = len(todo)
    tasks = ((str(k), lambda k=k: one(k)) for k in todo)
    run_concurrently(pool, tasks, done, max_in_flight)
    return found, report
