"""The load pipeline, read top to bottom: plan -> pages -> typed frame -> cache.

:func:`run` is one loader call from start to end:

1. **plan**: the loader's checked parameters (:class:`Plan`) become a :class:`Load`, the
   client with the dataset's cache entry (:func:`open_load`; when naming the cache folder needs
   ``GET /store``, page 1 of the main walk goes out alongside it);
2. **cache**: the cached frame, if it can be trusted (:func:`read_cached`), served as it is when
   fresh enough (:func:`serve_from_cache`);
3. **pages -> typed frame**: the loader's fetch step walks the list (:func:`walk`) and types
   the rows; it returns a :class:`Fetched`, what it read and how;
4. **cache write**: the frame and its metadata (:func:`build_meta`) are kept;
5. **stats**: ``frame.attrs["selorax"]`` is assembled from what the steps returned
   (:func:`finish`), not written along the way.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import pandas as pd

from selorax_analytics.api.client import Client
from selorax_analytics.api.paginators import MAX_PAGE_SIZE, PageWalker, WalkReport
from selorax_analytics.exceptions import CacheError, DataError
from selorax_analytics.loading._frames import Progress
from selorax_analytics.loading._store import cache_dir_for, store_known
from selorax_analytics.loading.cache import CorruptCache, Entry, Journal

logger = logging.getLogger("selorax_analytics")

Refresh = Literal["auto", "full", "never"]
CacheOption = bool | str | os.PathLike[str]
#: A cached frame and its metadata.
Cached = tuple[pd.DataFrame, dict[str, Any]]
#: The order a full walk reads a list in (oldest first: rows created meanwhile land at the end).
#: The page 1 a :class:`Plan` sends early is page 1 of this order.
WALK_ORDER = "created_at:asc"
#: Seconds a cached frame is served as is by ``refresh="auto"``.
DEFAULT_MAX_AGE = 3600.0
#: How far ahead of this machine's clock a cache's ``refreshed_at`` may be and still be served.
_CLOCK_SKEW = 300.0


@dataclass(frozen=True, kw_only=True)
class Plan:
    """What one loader call is asked for, checked: the pipeline's input."""

    kind: str
    #: The loader's parameters as the cache records them, and their defaults (a load with the
    #: defaults is cached under ``kind`` alone, others under ``kind-<hash>``).
    params: dict[str, Any]
    defaults: dict[str, Any] = field(default_factory=dict)
    cache: CacheOption = True
    refresh: Refresh = "auto"
    max_age: float = DEFAULT_MAX_AGE
    progress: bool = False
    #: ``first_page(client)``: page 1 of the main walk, sent early (see :func:`open_load`).
    first_page: Callable[[Client], Any] | None = None

    @property
    def name(self) -> str:
        """The dataset's name in the cache folder."""
        if self.params == self.defaults:
            return self.kind
        text = json.dumps(self.params, sort_keys=True)
        return f"{self.kind}-{hashlib.sha256(text.encode()).hexdigest()[:10]}"

    @property
    def online(self) -> bool:
        return self.refresh != "never"


@dataclass(frozen=True)
class Walked:
    """What page walks did: pages read, and the repair report of the last one that needed one."""

    pages: int = 0
    repair: dict[str, Any] | None = None

    def __add__(self, later: Walked) -> Walked:
        repair = later.repair if later.repair is not None else self.repair
        return Walked(self.pages + later.pages, repair)


@dataclass(frozen=True, kw_only=True)
class Fetched:
    """What a fetch step produced: the typed frame, and how it was read."""

    frame: pd.DataFrame
    walked: Walked = Walked()
    #: ``"full"`` or ``"incremental"`` (the cached frame was updated, not replaced).
    refresh: str = "full"
    changes: dict[str, Any] | None = None
    mode: str | None = None
    #: Extra metadata kept with the cached frame (``mode``, ``snapshot``).
    meta: dict[str, Any] = field(default_factory=dict)


#: A loader's step 3: the load and the cached frame (``None``: none usable) to a :class:`Fetched`.
FetchStep = Callable[["Load", Cached | None], Fetched]


class Load:
    """One loader call under way: its plan, client and cache entry (read, never rewritten)."""

    def __init__(
        self,
        plan: Plan,
        client: Client,
        entry: Entry | None,
        *,
        started: float,
        sent: int,
        early: Future[Any] | None = None,
    ) -> None:
        self.plan, self.client, self.entry = plan, client, entry
        #: When the load began (``time.monotonic``), and the client's request count then: the
        #: store lookup that names the cache folder is part of the load.
        self.started, self.sent = started, sent
        self._early = early

    def take_first_page(self) -> Future[Any] | None:
        """Page 1 of the main walk if it was sent early; the first main walk takes it."""
        early, self._early = self._early, None
        return early

    def journal(self, purpose: str) -> Journal | None:
        """The resume journal of one walk (``"main"``, ``"customers"``, ``"per-customer"``)."""
        if self.entry is None:
            return None
        key = [self.plan.name, purpose, self.plan.params, self.client.base_url]
        fingerprint = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()
        suffix = "" if purpose == "main" else f".{purpose}"
        return Entry(self.entry.folder, self.plan.name + suffix).journal(fingerprint)

    @contextlib.contextmanager
    def tracked(
        self, purpose: str, desc: str, unit: str
    ) -> Iterator[tuple[Journal | None, Progress]]:
        """A walk's resume journal and progress bar: both closed at the end, and the journal
        removed when the walk finished (kept, to resume from, when it raised)."""
        journal = self.journal(purpose)
        bar = Progress(self.plan.progress, desc, unit)
        try:
            yield journal, bar
        finally:
            bar.close()
            if journal is not None:
                journal.close()
        if journal is not None:
            journal.discard()


def run(plan: Plan, client: Client, fetch: FetchStep) -> pd.DataFrame:
    """One loader call: plan -> cache or pages -> typed frame -> cache write -> stats."""
    load = open_load(plan, client)
    cached, cache_problem = read_cached(load)
    if serve_from_cache(load, cached):
        assert cached is not None
        frame, meta = cached
        stats = _stats("cache", "none", Walked(), None)
        served = {"mode": meta.get("mode"), "refreshed_at": meta.get("refreshed_at")}
        return finish(load, frame, {**stats, **served})
    fetched = fetch(load, cached)
    meta = build_meta(plan, load.client, fetched.frame, **fetched.meta)
    if load.entry is not None:
        load.entry.write(fetched.frame, meta)
    stats = _stats("api", fetched.refresh, fetched.walked, fetched.changes)
    stats["refreshed_at"] = meta["refreshed_at"]
    if cache_problem is not None:
        stats["cache_problem"] = cache_problem
    if fetched.mode is not None:
        stats["mode"] = fetched.mode
    return finish(load, fetched.frame, stats)


def check_options(refresh: object, max_age: object, cache: object) -> float:
    """``max_age`` in seconds, after checking the options every loader shares."""
    if refresh not in get_args(Refresh):
        raise DataError(f"`refresh` must be one of {list(get_args(Refresh))}; got {refresh!r}.")
    if isinstance(max_age, datetime.timedelta):
        max_age = pd.Timedelta(max_age).total_seconds()
    if isinstance(max_age, bool) or not isinstance(max_age, int | float) or max_age < 0:
        raise DataError(f"`max_age` must be seconds (>= 0) or a timedelta; got {max_age!r}.")
    if not isinstance(cache, bool | str | os.PathLike):
        raise DataError(f"`cache` must be True, False or a folder path; got {cache!r}.")
    return float(max_age)


def open_load(plan: Plan, client: Client) -> Load:
    """Step 1: the load's cache entry, named from ``client``'s store.

    When the cache folder needs the store looked up (a token this cache has not seen), page 1
    goes out alongside that lookup, so the two latency rounds overlap. It is wasted (one
    request) only if the cache then turns out fresh enough to serve. Offline
    (``refresh="never"``) nothing goes out early.
    """
    started, sent = time.monotonic(), client.requests_sent
    early = None
    first, cached = plan.first_page, plan.cache is not False
    if plan.online and cached and first is not None and not store_known(client, plan.cache):
        early = client.pool.submit(first, client)
    entry = None
    if plan.cache is not False:
        try:
            folder = cache_dir_for(client, plan.cache, offline=not plan.online)
        except BaseException:
            _settle(early)
            raise
        entry = Entry(folder, plan.name, plan.kind)
    return Load(plan, client, entry, started=started, sent=sent, early=early)


def _settle(early: Future[Any] | None) -> None:
    """Let the early page end before a failed lookup's error leaves the load.

    Its answer is not wanted any more (the lookup's error says what went wrong), but returning
    while it is still being sent would let its connection open after the caller closed the
    client, and never close.
    """
    if early is not None and not early.cancel():
        with contextlib.suppress(Exception):
            early.exception()  # waits; the page's own error adds nothing to the lookup's


def read_cached(load: Load) -> tuple[Cached | None, str | None]:
    """Step 2: the cached frame and metadata (or ``None``), and what was wrong with them.

    A cache that cannot be trusted (see :class:`~selorax_analytics.loading.cache.CorruptCache`) is
    reported in one warning naming the file and removed, so the load fetches it again; offline
    (``refresh="never"``) it is a :class:`CacheError` naming the file, and is left as it is.
    """
    entry = load.entry
    if entry is None or not entry.exists():
        return None, None
    try:
        frame, meta = entry.read()
        if meta.get("params", load.plan.params) != load.plan.params:
            raise CorruptCache(entry.meta_path, "describes a load with other parameters")
    except CorruptCache as exc:
        _drop_unusable(load.plan, entry, exc)
        return None, str(exc)
    return (frame, meta), None


def _drop_unusable(plan: Plan, entry: Entry, problem: CorruptCache) -> None:
    if not plan.online:
        raise CacheError(
            f"refresh='never' but the cached {plan.kind} cannot be used: {problem.path} "
            f"{problem.problem}. Load once with refresh='auto' (online) to fetch it again and "
            "replace it."
        )
    kept = "".join(f"; the folder there was moved to {aside}" for aside in entry.remove())
    logger.warning(
        "The cached %s is corrupt: %s %s%s; fetching it again.",
        plan.kind,
        problem.path,
        problem.problem,
        kept,
    )


def serve_from_cache(load: Load, cached: Cached | None) -> bool:
    """Whether the cached frame is served as it is: always offline, else when fresh enough."""
    plan = load.plan
    if not plan.online:
        if cached is None:
            where = load.entry.folder if load.entry is not None else "(cache=False)"
            raise CacheError(
                f"refresh='never' but no cached {plan.kind} for these parameters in {where}; "
                "load once with refresh='auto' (online) first."
            )
        return True
    if plan.refresh == "full" or cached is None:
        return False
    fetched = pd.Timestamp(cached[1]["refreshed_at"])  # checked when the cache was read
    age = (pd.Timestamp.now(tz="UTC") - fetched).total_seconds()
    return -_CLOCK_SKEW <= age < plan.max_age  # far ahead of the clock: not trusted


def walk(
    load: Load,
    fetch: Callable[[int, int], Any],
    id_field: str,
    purpose: str = "main",
    *,
    changes: Callable[[int, int], Any] | None = None,
    prepare: Callable[[list], Any] | None = None,
) -> tuple[Any, Walked]:
    """Step 3's page walk: its rows, or ``prepare(rows)``, and what the walk did.

    ``fetch(page, size)`` reads the walk's pages; ``changes(page, size)`` the same list sorted
    ``updated_at:desc`` (see :class:`PageWalker`); ``prepare`` runs while the changed-rows check
    is out. The walk's journal lets an interrupted load resume.
    """
    main = purpose == "main"
    desc = load.plan.kind + ("" if main else f" ({purpose})")
    with load.tracked(purpose, desc, "rows") as (journal, bar):
        walker = PageWalker(
            fetch,
            id_field=id_field,
            pool=load.client.pool,
            max_in_flight=load.client.max_concurrency,
            journal=journal,
            progress=bar,
            changes=changes,
            first=load.take_first_page() if main else None,
        )
        rows = walker.walk(prepare)
    return rows, _walked(walker.report)


def _walked(report: WalkReport) -> Walked:
    odd = report.changed or report.removed or report.open_ended or report.size != MAX_PAGE_SIZE
    return Walked(report.pages, report.as_dict() if odd else None)


def build_meta(plan: Plan, client: Client, frame: pd.DataFrame, **extra: Any) -> dict[str, Any]:
    """Step 4: the metadata kept with a fetched frame (no secret: the credential is masked)."""
    watermarks = {}
    for column in ("created_at", "updated_at"):
        if column in frame and len(frame):
            watermarks[column] = frame[column].max().isoformat()
    return {
        "dataset": plan.kind,
        "params": plan.params,
        "api_host": client.host,
        "credential": client.credentials.describe(),
        "refreshed_at": pd.Timestamp.now(tz="UTC").isoformat(),
        "watermarks": watermarks,
        **extra,
    }


def _stats(
    source: str, refresh: str, walked: Walked, changes: dict[str, Any] | None
) -> dict[str, Any]:
    return {
        "source": source,
        "refresh": refresh,
        "pages": walked.pages,
        "repair": walked.repair,
        "changes": changes,
    }


def finish(load: Load, frame: pd.DataFrame, stats: dict[str, Any]) -> pd.DataFrame:
    """Step 5: ``frame`` with ``attrs["selorax"]``, the steps' ``stats`` and the load's totals."""
    frame.attrs["selorax"] = {
        **stats,
        "requests": load.client.requests_sent - load.sent,
        "rows": len(frame),
        "seconds": round(time.monotonic() - load.started, 3),
        "cache_dir": None if load.entry is None else str(load.entry.folder),
    }
    return frame
