"""Loading a fleet: every store with the package's own loaders, under one budget of requests.

Each store gets its own :class:`~selorax_analytics.Client` (so its own rate-limit pacing from its
``X-RateLimit`` headers and ``Retry-After``) and is loaded by
:func:`~selorax_analytics.load_store` (the cache, repair and typing of a single-store load).
All clients send through one :class:`InFlightBudget`: an httpx transport per client that takes
a slot of a shared semaphore before a request goes and gives it back when its answer has been
read, so the fleet never has more than ``max_in_flight`` requests in flight. Retries and
rate-limit waits hold no slot.

A store that fails (a refused credential, a server that does not answer, a load that cannot be
made complete) is recorded with a one-line error and the others go on; the frames of the stores
that loaded are written into the dataset (:mod:`selorax_analytics.fleet.dataset`).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
from tqdm.auto import tqdm

from selorax_analytics.api.client import DEFAULT_MAX_CONCURRENCY, Client
from selorax_analytics.exceptions import CacheError, SeloraxError, ValidationError
from selorax_analytics.fleet.config import Fleet, FleetStore, read_fleet
from selorax_analytics.fleet.dataset import record_stores, write_store_frame
from selorax_analytics.loading._pipeline import CacheOption, Refresh
from selorax_analytics.loading.loaders import load_store

DEFAULT_MAX_IN_FLIGHT = 16
DEFAULT_OUT = "fleet-data"


class InFlightBudget:
    """At most ``limit`` requests in flight across every client that sends through it.

    :meth:`transport` gives each client its transport; :attr:`peak` is the most requests that
    were in flight at once.
    """

    def __init__(self, limit: int) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValidationError(
                f"max_in_flight must be a whole number of at least 1, got {limit!r}."
            )
        self.limit = limit
        self._slots = threading.BoundedSemaphore(limit)
        self._lock = threading.Lock()
        self._in_flight = 0
        self.peak = 0

    def transport(self, max_connections: int) -> httpx.BaseTransport:
        """A transport for one client (``max_connections`` as the client's own pool)."""
        limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        return _BudgetTransport(httpx.HTTPTransport(limits=limits), self)

    def acquire(self) -> None:
        self._slots.acquire()
        with self._lock:
            self._in_flight += 1
            self.peak = max(self.peak, self._in_flight)

    def release(self) -> None:
        with self._lock:
            self._in_flight -= 1
        self._slots.release()


class _BudgetTransport(httpx.BaseTransport):
    """Sends through ``inner`` holding a slot of ``budget`` until the body is read or closed."""

    def __init__(self, inner: httpx.BaseTransport, budget: InFlightBudget) -> None:
        self._inner = inner
        self._budget = budget

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self._budget.acquire()
        try:
            response = self._inner.handle_request(request)
        except BaseException:
            self._budget.release()
            raise
        assert isinstance(response.stream, httpx.SyncByteStream)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_SlotStream(response.stream, self._budget),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._inner.close()


class _SlotStream(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream, budget: InFlightBudget) -> None:
        self._inner = inner
        self._budget: InFlightBudget | None = budget
        self._lock = threading.Lock()

    def __iter__(self) -> Iterator[bytes]:
        yield from self._inner

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            with self._lock:
                budget, self._budget = self._budget, None
            if budget is not None:
                budget.release()


@dataclass(frozen=True)
class StoreOutcome:
    """How one store of the fleet loaded: its rows, or the one line saying why not."""

    name: str
    store_id: int | None = None
    customers: int = 0
    orders: int = 0
    seconds: float = 0.0
    source: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class FleetLoad:
    """The result of :func:`load_fleet`: one :class:`StoreOutcome` per store, in the file's order."""

    outcomes: tuple[StoreOutcome, ...]
    out: Path
    seconds: float
    peak_in_flight: int = 0
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT
    loaded_at: str = field(default="")

    @property
    def failed(self) -> list[StoreOutcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_frame(self) -> pd.DataFrame:
        """One row per store: name, store_id, customers, orders, seconds, source, error."""
        rows = [
            {
                "name": o.name,
                "store_id": o.store_id,
                "customers": o.customers,
                "orders": o.orders,
                "seconds": o.seconds,
                "source": o.source,
                "error": o.error,
            }
            for o in self.outcomes
        ]
        frame = pd.DataFrame(rows)
        return frame.astype({"store_id": "Int64", "customers": "int64", "orders": "int64"})

    def __repr__(self) -> str:
        done = len(self.outcomes) - len(self.failed)
        return (
            f"FleetLoad({done} of {len(self.outcomes)} stores loaded into {str(self.out)!r} "
            f"in {self.seconds:.1f} s, {len(self.failed)} failed)"
        )


def load_fleet(
    fleet: Fleet | str | os.PathLike[str],
    *,
    out: str | os.PathLike[str] = DEFAULT_OUT,
    refresh: Refresh = "auto",
    max_in_flight: int | None = None,
    progress: bool = True,
    cache: CacheOption = True,
) -> FleetLoad:
    """Load every store of a fleet concurrently into the fleet dataset.

    Parameters
    ----------
    fleet
        A :class:`~selorax_analytics.fleet.config.Fleet`, or the path of a fleet file.
    out
        The dataset's folder (:mod:`selorax_analytics.fleet.dataset`); made if missing.
    refresh
        As in :func:`~selorax_analytics.load_store`, for every store.
    max_in_flight
        Requests in flight across the whole fleet; default the fleet file's ``max_in_flight``,
        else 16.
    progress
        Show a progress bar over the stores (with the rows loaded so far).
    cache
        Each store's own cache, as in :func:`~selorax_analytics.load_store`.

    Returns
    -------
    FleetLoad
        Per store: rows, seconds, or the one-line error of a store that failed.

    Raises
    ------
    FleetFileError
        ``fleet`` is a path to an invalid fleet file.
    CacheError
        The dataset folder cannot be written.
    """
    if not isinstance(fleet, Fleet):
        fleet = read_fleet(fleet)
    limit = max_in_flight if max_in_flight is not None else fleet.max_in_flight
    budget = InFlightBudget(limit if limit is not None else DEFAULT_MAX_IN_FLIGHT)
    root = Path(out)
    if root.exists() and not root.is_dir():
        raise CacheError(f"{str(root)!r} is a file; give a folder for the fleet dataset (out=).")
    began = time.monotonic()
    loader = _StoreLoader(root, budget, {"refresh": refresh, "cache": cache})
    outcomes: dict[str, StoreOutcome] = {}
    bar = tqdm(total=len(fleet), unit="store", desc="stores", disable=not progress)
    with bar, ThreadPoolExecutor(min(len(fleet), budget.limit), "selorax-fleet") as runner:
        futures = [runner.submit(loader.load, store) for store in fleet.stores]
        try:
            for future in as_completed(futures):
                outcome = future.result()
                outcomes[outcome.name] = outcome
                bar.update(1)
                bar.set_postfix(rows=loader.rows, failed=sum(not o.ok for o in outcomes.values()))
        except BaseException:  # Ctrl-C or a defect: stores not yet started are not started
            runner.shutdown(wait=False, cancel_futures=True)
            raise
    ordered = tuple(outcomes[store.name] for store in fleet.stores)
    loaded_at = datetime.now(UTC).isoformat()
    record_stores(root, [_entry(o, fleet, loaded_at) for o in ordered if o.ok])
    return FleetLoad(ordered, root, time.monotonic() - began, budget.peak, budget.limit, loaded_at)


class _StoreLoader:
    """Loads one store at a time into the dataset; shared by the fleet's worker threads."""

    def __init__(self, root: Path, budget: InFlightBudget, options: dict[str, Any]) -> None:
        self.root = root
        self.budget = budget
        self.options = options
        self.rows = 0
        self._lock = threading.Lock()
        self._owners: dict[int, str] = {}

    def load(self, store: FleetStore) -> StoreOutcome:
        began = time.monotonic()
        try:
            store_id, customers, orders = self._fetch(store)
            with self._lock:
                owner = self._owners.setdefault(store_id, store.name)
            if owner != store.name:
                raise _SameStore(f"its credential is for store {store_id}, as {owner!r}'s is")
            write_store_frame(self.root, "customers", store_id, customers)
            write_store_frame(self.root, "orders", store_id, orders)
        except (SeloraxError, _SameStore) as exc:
            error = _one_line(exc, store)
            return StoreOutcome(store.name, seconds=time.monotonic() - began, error=error)
        with self._lock:
            self.rows += len(customers) + len(orders)
        return StoreOutcome(
            store.name,
            store_id,
            len(customers),
            len(orders),
            time.monotonic() - began,
            str(customers.attrs.get("selorax", {}).get("source")),
        )

    def _fetch(self, store: FleetStore) -> tuple[int, pd.DataFrame, pd.DataFrame]:
        options = store.client_options()
        concurrency = int(options.get("max_concurrency", DEFAULT_MAX_CONCURRENCY))
        client = Client(**options, transport=self.budget.transport(concurrency))
        try:
            customers, orders = load_store(client, progress=False, **self.options)
            store_id = _store_id(client, customers, orders)
        finally:
            _close(client)
        return store_id, customers, orders


def _close(client: Client) -> None:
    """Close ``client`` once its worker threads have ended (on every path: done, failed).

    A load that fails can leave a request running in the client's threads: page 1, sent
    alongside the store lookup that was then refused (401). Closing the connections under it
    while it is still connecting leaks that new socket (httpcore adds it after the pool has
    been closed), so the threads are waited for first: queued pages are cancelled, a running
    one ends within the client's timeout.
    """
    try:
        client.pool.shutdown(wait=True, cancel_futures=True)
    finally:
        client.close()


class _SameStore(Exception):
    """Two stores of the fleet file reach the same store."""


def _store_id(client: Client, customers: pd.DataFrame, orders: pd.DataFrame) -> int:
    if client.store_id is not None:
        return int(client.store_id)
    for frame in (customers, orders):
        if len(frame):
            return int(frame["store_id"].iloc[0])
    return int(client.get_store()["store_id"])


def _entry(outcome: StoreOutcome, fleet: Fleet, loaded_at: str) -> dict[str, Any]:
    store = next(s for s in fleet.stores if s.name == outcome.name)
    return {
        "store_id": outcome.store_id,
        "name": store.name,
        "base_url": store.base_url,
        "loaded_at": loaded_at,
        "customers": outcome.customers,
        "orders": outcome.orders,
        "source": outcome.source,
    }


#: A single-store hint -> the fleet file's own key (or variable, filled in from the store).
_FLEET_HINTS = {
    "SELORAX_BASE_URL": "the store's base_url in the fleet file",
    "Set SELORAX_TOKEN (or pass token=)": "Set {token_env} (the store's token_env)",
    "Check SELORAX_CLIENT_ID and SELORAX_CLIENT_SECRET (or client_id=/client_secret=)": (
        "Check {client_id_env} and {client_secret_env} (the store's client_id_env and "
        "client_secret_env)"
    ),
}


def _one_line(exc: BaseException, store: FleetStore) -> str:
    # a fleet's store is configured by the fleet file, not the single-store variables
    text = " ".join(str(exc).split())
    for single, fleet in _FLEET_HINTS.items():
        text = text.replace(single, fleet.format(**vars(store)))
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
