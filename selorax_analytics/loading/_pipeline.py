"""One call of a loader: its client, cache entry, walks and the statistics it reports."""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import pandas as pd

from selorax_analytics.api.client import Client
from selorax_analytics.api.paginators import MAX_PAGE_SIZE, PageWalker, WalkReport
from selorax_analytics.connection import connect
from selorax_analytics.exceptions import CacheError, DataError
from selorax_analytics.loading._frames import Progress
from selorax_analytics.loading.cache import CorruptCache, Entry, Journal, cache_dir_for, store_known

logger = logging.getLogger("selorax_analytics")

Refresh = Literal["auto", "full", "never"]
#: The order a full walk reads a list in (oldest first: rows created meanwhile land at the end).
#: Page 1 sent early (see :func:`start`) is page 1 of this order.
WALK_ORDER = "created_at:asc"
CacheOption = bool | str | os.PathLike[str]
#: How far ahead of this machine's clock a cache's ``refreshed_at`` may be and still be served.
_CLOCK_SKEW = 300.0


@dataclass
class Load:
    """One call of a loader: its client, cache entry and what it did."""

    client: Client
    kind: str
    name: str
    params: dict[str, Any]
    entry: Entry | None
    progress: bool
    #: When the load began (``time.monotonic``), and the client's request count then; the
    #: store lookup that names the cache folder is part of the load.
    started: float
    sent: int
    #: Page 1 of the main walk, requested alongside the store lookup (see :func:`start`).
    early: Future[Any] | None = None
    stats: dict[str, Any] = field(default_factory=dict)
    #: The caller's ``refresh``: offline (``"never"``) a corrupt cache is an error, not a refetch.
    refresh: str = "auto"

    def __post_init__(self) -> None:
        self.stats.update(source="api", refresh="full", pages=0, repair=None, changes=None)

    def journal(self, purpose: str) -> Journal | None:
        if self.entry is None:
            return None
        key = json.dumps([self.name, purpose, self.params, self.client.base_url], sort_keys=True)
        suffix = "" if purpose == "main" else f".{purpose}"
        entry = Entry(self.entry.folder, self.name + suffix)
        return entry.journal(hashlib.sha256(key.encode()).hexdigest())

    def walk(
        self,
        fetch: Callable[[int, int], Any],
        id_field: str,
        purpose: str = "main",
        changes: Callable[[int, int], Any] | None = None,
        prepare: Callable[[list], Any] | None = None,
    ) -> Any:
        """The walk's rows, or ``prepare(rows)`` (run while the changed-rows check is out).

        ``fetch(page, size)`` reads the walk's pages; ``changes(page, size)`` the same list
        sorted ``updated_at:desc`` (see :class:`PageWalker`).
        """
        journal = self.journal(purpose)
        first, self.early = (self.early, None) if purpose == "main" else (None, self.early)
        bar = Progress(
            self.progress, f"{self.kind} ({purpose})" if purpose != "main" else self.kind, "rows"
        )
        walker = PageWalker(
            fetch,
            id_field=id_field,
            pool=self.client.pool,
            max_in_flight=self.client.max_concurrency,
            journal=journal,
            progress=bar,
            changes=changes,
            first=first,
        )
        try:
            rows = walker.walk(prepare)
        finally:
            bar.close()
            if journal is not None:
                journal.close()
        self._account(walker.report)
        if journal is not None:
            journal.discard()
        return rows

    def _account(self, report: WalkReport) -> None:
        self.stats["pages"] += report.pages
        if report.changed or report.removed or report.open_ended or report.size != MAX_PAGE_SIZE:
            self.stats["repair"] = report.as_dict()

    def finish(self, frame: pd.DataFrame, meta: dict[str, Any] | None) -> pd.DataFrame:
        # page 1 sent early and not walked (the cache was served, or refreshed without a full
        # walk): its answer, or failure, is dropped
        self.early = None
        if self.entry is not None and meta is not None and self.stats["source"] == "api":
            self.entry.write(frame, meta)
        self.stats.update(
            requests=self.client.requests_sent - self.sent,
            rows=len(frame),
            seconds=round(time.monotonic() - self.started, 3),
            cache_dir=None if self.entry is None else str(self.entry.folder),
        )
        frame.attrs["selorax"] = dict(self.stats)
        return frame


def dataset_name(kind: str, params: dict[str, Any], defaults: dict[str, Any]) -> str:
    if params == defaults:
        return kind
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:10]
    return f"{kind}-{digest}"


def check_options(refresh: object, max_age: object, cache: object) -> float:
    if refresh not in get_args(Refresh):
        raise DataError(f"`refresh` must be one of {list(get_args(Refresh))}; got {refresh!r}.")
    if isinstance(max_age, datetime.timedelta):
        max_age = pd.Timedelta(max_age).total_seconds()
    if isinstance(max_age, bool) or not isinstance(max_age, int | float) or max_age < 0:
        raise DataError(f"`max_age` must be seconds (>= 0) or a timedelta; got {max_age!r}.")
    if not isinstance(cache, bool | str | os.PathLike):
        raise DataError(f"`cache` must be True, False or a folder path; got {cache!r}.")
    return float(max_age)


def start(
    kind: str,
    client: Client | None,
    params: dict[str, Any],
    defaults: dict[str, Any],
    cache: CacheOption,
    progress: bool,
    refresh: Refresh,
    first_page: Callable[[Client], Any] | None = None,
) -> Load:
    """A load with its cache entry; ``first_page(client)`` is page 1 of its main walk.

    When the cache folder needs the store looked up (a token this cache has not seen), page 1
    goes out alongside that lookup, so the two latency rounds overlap. It is wasted (one
    request) only if the cache then turns out fresh enough to serve. Offline
    (``refresh="never"``) nothing goes out early.
    """
    client = client if client is not None else connect()
    name = dataset_name(kind, params, defaults)
    started, sent = time.monotonic(), client.requests_sent
    early = None
    online = refresh != "never"
    if online and cache is not False and first_page is not None and not store_known(client, cache):
        early = client.pool.submit(first_page, client)
    entry = None
    if cache is not False:
        entry = Entry(cache_dir_for(client, cache, offline=not online), name, kind)
    return Load(client, kind, name, params, entry, progress, started, sent, early, refresh=refresh)


def read_cached(load: Load) -> tuple[pd.DataFrame, dict[str, Any]] | None:
    """The cached frame and metadata, or ``None``.

    A cache that cannot be trusted (see :class:`~selorax_analytics.loading.cache.CorruptCache`) is
    reported in one warning naming the file and removed, so the load fetches it again; offline
    (``refresh="never"``) it is a :class:`CacheError` naming the file, and is left as it is.
    """
    entry = load.entry
    if entry is None or not entry.exists():
        return None
    try:
        frame, meta = entry.read()
        if meta.get("params", load.params) != load.params:
            raise CorruptCache(entry.meta_path, "describes a load with other parameters")
    except CorruptCache as exc:
        _drop_unusable(load, entry, exc)
        return None
    return frame, meta


def _drop_unusable(load: Load, entry: Entry, problem: CorruptCache) -> None:
    if load.refresh == "never":
        raise CacheError(
            f"refresh='never' but the cached {load.kind} cannot be used: {problem.path} "
            f"{problem.problem}. Load once with refresh='auto' (online) to fetch it again and "
            "replace it."
        )
    moved = entry.remove()
    kept = "".join(f"; the folder there was moved to {aside}" for aside in moved)
    logger.warning(
        "The cached %s is corrupt: %s %s%s; fetching it again.",
        load.kind,
        problem.path,
        problem.problem,
        kept,
    )
    load.stats["cache_problem"] = str(problem)


def serve_cached(
    load: Load, cached: tuple[pd.DataFrame, dict[str, Any]] | None, refresh: str, max_age: float
) -> pd.DataFrame | None:
    if refresh == "never":
        if cached is None:
            where = load.entry.folder if load.entry is not None else "(cache=False)"
            raise CacheError(
                f"refresh='never' but no cached {load.kind} for these parameters in {where}; "
                "load once with refresh='auto' (online) first."
            )
    elif refresh == "full" or cached is None:
        return None
    else:
        fetched = pd.Timestamp(cached[1]["refreshed_at"])  # checked when the cache was read
        age = (pd.Timestamp.now(tz="UTC") - fetched).total_seconds()
        if age >= max_age or age < -_CLOCK_SKEW:  # far ahead of the clock: not trusted
            return None
    assert cached is not None
    load.stats.update(source="cache", refresh="none", mode=cached[1].get("mode"))
    return cached[0]


def build_meta(load: Load, frame: pd.DataFrame, **extra: Any) -> dict[str, Any]:
    now = pd.Timestamp.now(tz="UTC").isoformat()
    watermarks = {}
    for column in ("created_at", "updated_at"):
        if column in frame and len(frame):
            watermarks[column] = frame[column].max().isoformat()
    return {
        "dataset": load.kind,
        "params": load.params,
        "api_host": load.client.host,
        "credential": load.client.credentials.describe(),
        "refreshed_at": now,
        "watermarks": watermarks,
        **extra,
    }


def customers_page(
    client: Client,
    include_guests: bool,
    since: str | None,
    page: int,
    limit: int = MAX_PAGE_SIZE,
    sort: str = WALK_ORDER,
) -> Any:
    """One page of the customers list as the loaders walk it."""
    return client.list_customers(
        page=page, limit=limit, sort=sort, include_guests=include_guests, since=since
    )


def walk_customers(
    load: Load,
    include_guests: bool,
    since: str | None,
    purpose: str,
    prepare: Callable[[list], Any] | None = None,
) -> Any:
    def fetch(page: int, limit: int, sort: str = WALK_ORDER) -> Any:
        return customers_page(load.client, include_guests, since, page, limit, sort)

    def changes(page: int, limit: int) -> Any:
        return fetch(page, limit, "updated_at:desc")

    return load.walk(fetch, "user_id", purpose, changes=changes, prepare=prepare)
