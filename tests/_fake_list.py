"""An in-process list endpoint for page-walk tests: rows served the way a server may page them.

``FakeList.fetch(page, size)`` and ``FakeList.changes(page, size)`` answer as
``GET /customers?sort=created_at:asc`` and ``?sort=updated_at:desc`` would, with the quirks a
test asks for: a cap on the page size, a missing or wrong ``total``, a page past the end that
repeats the last one, a row served on two pages.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import pandas as pd

from selorax_analytics.api.paginators import Page

SERVED = pd.Timestamp("2026-11-27T10:00:00Z")
OLD = "2026-01-01T00:00:00.000Z"


def row(
    user_id: int, updated_at: str = OLD, name: str | None = None, created_at: str = OLD
) -> dict:
    return {
        "user_id": user_id,
        "name": name or f"Customer {user_id}",
        "created_at": created_at,
        "updated_at": updated_at,
    }


@dataclass
class FakeList:
    rows: list[dict]
    cap: int | None = None
    #: ``None``: right; ``"missing"``; or a number added to the right total.
    total: int | str | None = None
    #: ``"empty"`` or ``"repeat"``: what a page past the end holds.
    past_end: str = "empty"
    #: ``(page, row_index)``: that page serves the row at ``row_index`` in place of its first row.
    duplicate: tuple[int, int] | None = None
    served_at: pd.Timestamp | None = SERVED
    calls: list[tuple[str, int, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _page(self, ordered: list[dict], number: int, size: int, kind: str) -> Page:
        with self.lock:
            self.calls.append((kind, number, size))
        size = min(size, self.cap or size)
        start = (number - 1) * size
        records = [dict(r) for r in ordered[start : start + size]]
        if not records and number > 1 and self.past_end == "repeat" and ordered:
            last = (len(ordered) - 1) // size
            records = [dict(r) for r in ordered[last * size : last * size + size]]
        if kind == "walk" and self.duplicate and self.duplicate[0] == number and records:
            records[0] = dict(ordered[self.duplicate[1]])
        known = self.total != "missing"
        total = len(ordered) + (self.total if isinstance(self.total, int) else 0)
        return Page(records, number, size, total if known else len(records), self.served_at, known)

    def fetch(self, number: int, size: int) -> Page:
        return self._page(list(self.rows), number, size, "walk")

    def changes(self, number: int, size: int) -> Page:
        newest = sorted(self.rows, key=lambda r: (r["updated_at"], r["user_id"]), reverse=True)
        return self._page(newest, number, size, "changes")

    def requests(self, kind: str) -> int:
        return sum(1 for call in self.calls if call[0] == kind)
