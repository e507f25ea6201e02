"""What a page walk checks: the page size served, where a list ends, what changed since a moment.

Pure helpers of :class:`selorax_analytics.api.paginators.PageWalker`:

- :func:`served_size`: the page size the server actually serves, told from page 1 (a server may
  cap ``limit`` below what was asked, with or without ``pagination.limit`` saying so);
- :func:`closed_problem`: whether pages ``1..ceil(total/size)`` hold exactly ``total`` distinct
  rows, and if not, what is wrong (rows repeated, or counts that do not fit ``total``);
- :func:`open_end`: where a list without a usable ``total`` ends (a short page, an empty page,
  or a page that repeats the one before it);
- :func:`changed_since`: every row updated at or after a moment, by walking
  ``sort=updated_at:desc`` until rows are older (however many pages that is);
- :func:`merge_changes`: the walk's rows with those newer versions and created rows folded in.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd

from selorax_analytics.exceptions import DataError, IncompleteLoadError

#: Pages of the changed-rows walk before it is declared runaway (rows keep moving under it).
MAX_CHANGE_PAGES = 400


class PageLike(Protocol):
    @property
    def records(self) -> list[dict[str, Any]]: ...

    @property
    def total(self) -> int: ...

    @property
    def total_known(self) -> bool: ...


def served_size(first: PageLike, asked: int) -> int:
    """The page size served, told from page 1 (``asked`` when page 1 cannot tell otherwise).

    Page 1 with fewer rows than asked is either the whole list or a page cut to the server's cap.
    When ``total`` says more rows exist, or is missing, its row count is the served size (a
    missing total is settled by the next page: empty, or more rows).
    """
    rows = len(first.records)
    if 0 < rows < asked and (not first.total_known or first.total > rows):
        return rows
    return asked


def record_id(record: Any, id_field: str) -> int:
    """A record's id (a JSON integer or numeric text); DataError when it has none."""
    value = record.get(id_field) if isinstance(record, dict) else None
    if isinstance(value, int | str) and not isinstance(value, bool):
        try:
            return int(value)
        except ValueError:
            pass
    if isinstance(record, dict):
        what = f"`{id_field}` of a record is {'missing' if value is None else repr(value)[:60]}"
    else:
        what = f"a record that is {repr(record)[:60]}, not a JSON object with `{id_field}`"
    raise DataError(
        f"The page holds {what}, not a whole number; every record needs its {id_field}. "
        "The records should be the SeloraX Apps API v1's, unchanged."
    )


def ids_of(records: Sequence[dict[str, Any]], id_field: str) -> list[int]:
    try:
        return [int(r[id_field]) for r in records]
    except (KeyError, TypeError, ValueError):
        return [record_id(r, id_field) for r in records]  # a DataError naming the bad id


def closed_problem(
    pages: Mapping[int, PageLike], total: int, size: int, id_field: str
) -> str | None:
    """Why pages ``1..ceil(total/size)`` are not exactly ``total`` distinct rows (``None``: they are).

    ``"repeated"``: a row is on two pages (others are then missing); ``"counts"``: the pages'
    row counts do not fit ``total`` (it is approximate or wrong), or the page after a full last
    page holds rows of its own.
    """
    last = max(1, math.ceil(total / size))
    counts = [len(pages[n].records) for n in range(1, last + 1)]
    expected = [size] * (last - 1) + [total - (last - 1) * size]
    per_page = [ids_of(pages[n].records, id_field) for n in range(1, last + 1)]
    if any(per_page[n] and per_page[n] == per_page[n - 1] for n in range(1, last)):
        return "counts"  # a page past the end repeating the last: ``total`` is too large
    ids = [i for page in per_page for i in page]
    if len(set(ids)) != len(ids):
        return "repeated"
    if counts != expected:
        return "counts"
    after = pages.get(last + 1)  # read when the last page is full: the list may go on
    if after is not None and after.records and ids_of(after.records, id_field) != per_page[-1]:
        return "counts"
    return None


def open_end(pages: Mapping[int, PageLike], size: int, id_field: str) -> tuple[int, int] | None:
    """``(last page with rows, first page not read)`` of a list walked without a total.

    The list ends at a page shorter than ``size`` (included), an empty page, or a page repeating
    the one before it (both left out). ``None`` with the first page still to read when no end is
    among the pages read in order so far.
    """
    number = 1
    previous: list[int] | None = None
    while number in pages:
        records = pages[number].records
        ids = ids_of(records, id_field)
        if not records or ids == previous:
            return number - 1, number
        if len(records) < size:
            return number, number + 1
        previous = ids
        number += 1
    return None


@dataclass
class Changes:
    """Rows updated at or after ``floor``, newest first, and the list's total meanwhile."""

    floor: pd.Timestamp
    rows: list[dict[str, Any]] = field(default_factory=list)
    total: int | None = None
    pages: int = 0


def _older(row: dict[str, Any], floor: pd.Timestamp) -> bool:
    stamp = row.get("updated_at")
    try:
        when = pd.Timestamp(str(stamp))
    except (ValueError, TypeError):
        return False  # unreadable: not provably older; keep walking
    if when.tzinfo is None:
        when = when.tz_localize("UTC")
    return bool(when < floor)


def changed_since(
    fetch: Callable[[int, int], PageLike], floor: pd.Timestamp, asked: int
) -> Changes:
    """Every row updated at or after ``floor``, by ``fetch(page, size)`` of the list sorted
    ``updated_at:desc``, page after page until a row is older than ``floor`` or the list ends.

    Rows updated while this walk runs move to the front and push others down a page, so a row
    may come twice (the newer copy wins later in :func:`merge_changes`); none is skipped.
    """
    changes = Changes(floor)
    size = asked
    for number in range(1, MAX_CHANGE_PAGES + 1):
        page = fetch(number, size)
        changes.pages += 1
        if number == 1:
            size = served_size(page, asked)
            changes.total = page.total if page.total_known else None
        repeated = number > 1 and page.records == changes.rows[-len(page.records) :]
        if not page.records or repeated:
            return changes  # the end, or a page past the end repeating the last one
        changes.rows += page.records
        if len(page.records) < size or _older(page.records[-1], floor):
            return changes
    raise IncompleteLoadError(
        f"Rows updated since {floor.isoformat()} filled {MAX_CHANGE_PAGES} pages of "
        "sort=updated_at:desc without an end: the store changes faster than it can be read. "
        "Load again when it is quieter.",
        expected=0,
        received=len(changes.rows),
    )


def _newer(candidate: dict[str, Any], current: dict[str, Any]) -> bool:
    a, b = candidate.get("updated_at"), current.get("updated_at")
    if str(a) == str(b):
        return False
    try:
        return bool(pd.Timestamp(str(a)) >= pd.Timestamp(str(b)))
    except (ValueError, TypeError):
        return True  # the changed-rows walk was read later: its copy is the newer


@dataclass
class Merged:
    rows: list[dict[str, Any]]
    refreshed: list[int]
    created: list[int]


def merge_changes(rows: list[dict[str, Any]], changes: Changes, id_field: str) -> Merged:
    """The walk's ``rows`` with the newer versions in ``changes`` and rows created meanwhile."""
    position = {key: n for n, key in enumerate(ids_of(rows, id_field))}
    merged = list(rows)
    refreshed: list[int] = []
    created: list[int] = []
    for row in reversed(changes.rows):  # oldest first: a row met twice ends in its newest copy
        key = record_id(row, id_field)
        at = position.get(key)
        if at is None:
            position[key] = len(merged)
            merged.append(row)
            created.append(key)
        elif _newer(row, merged[at]):
            merged[at] = row
            if key not in created:
                refreshed.append(key)
    return Merged(merged, sorted(set(refreshed)), created)


@dataclass(frozen=True)
class Anchor:
    """What a finished round of a walk saw: the list's ``total`` then, the ids of its rows and
    the newest ``created_at`` among them. The next round's rows are counted against it."""

    total: int
    ids: frozenset[int]
    newest: pd.Timestamp | None


def created_at(row: dict[str, Any]) -> pd.Timestamp | None:
    """A row's ``created_at`` in UTC, or ``None`` when it has none readable."""
    try:
        stamp = pd.Timestamp(str(row.get("created_at")))
    except (ValueError, TypeError):
        return None
    if stamp is pd.NaT:
        return None
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def newest_created(rows: Sequence[dict[str, Any]]) -> pd.Timestamp | bool | None:
    """The newest ``created_at`` of ``rows``; ``None`` for no rows, ``False`` if one is unreadable."""
    stamps = [created_at(r) for r in rows]
    if any(s is None for s in stamps):
        return False
    return max(stamps) if stamps else None  # type: ignore[type-var]


def hidden_deletions(
    anchor: Anchor, rows: Sequence[dict[str, Any]], total: int, id_field: str
) -> int:
    """Rows deleted since ``anchor`` was taken, by count: its ``total``, plus the rows created
    since (not among its ids, and no older than its newest row), less ``total`` now.

    Rows created and deleted in equal numbers leave ``total`` unchanged, and a deletion shifts
    later rows back a page, so a walk read across it may hold a deleted row and miss another;
    this count tells whether that can have happened (anything but 0: it can). A row created
    with a ``created_at`` older than ``anchor``'s newest (a back-dated import) counts as a
    deletion: the walk is read again rather than trusted.
    """
    fresh = [r for r in rows if record_id(r, id_field) not in anchor.ids]
    stamps = [created_at(r) for r in fresh]
    if any(s is None for s in stamps):
        return -1
    created = sum(anchor.newest is None or s >= anchor.newest for s in stamps)  # type: ignore[operator]
    return anchor.total + created - total
