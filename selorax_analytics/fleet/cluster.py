"""The cluster the fleet analytics run on, and running one task per store on it.

The cluster (``scheduler``):

- ``None`` (default): the address in ``SELORAX_DASK_SCHEDULER`` if set, else an embedded
  ``LocalCluster`` of worker processes (one per core, at most one per store, one thread each),
  started for the call and closed after it;
- an address such as ``"tcp://10.0.0.5:8786"``: a running scheduler whose workers see the
  dataset at the same path (a shared file system);
- a ``distributed.Client``: used as is and left open.

:func:`run_per_store` submits ``task(root, store_id, **options)`` for each store and collects
the results; a store whose task fails (a corrupt partition, an analysis refusing the data, a
worker lost) is reported, one line per store, and the others finish. The tasks themselves (what
runs in a worker) are in :mod:`~selorax_analytics.fleet.compute`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from selorax_analytics.exceptions import (
    CacheError,
    ConnectionFailedError,
    SeloraxError,
    ValidationError,
)
from selorax_analytics.fleet.dataset import dataset_stores

if TYPE_CHECKING:
    from distributed import Client

#: The environment variable naming a running scheduler (``tcp://host:8786``).
SCHEDULER_ENV = "SELORAX_DASK_SCHEDULER"
#: Seconds to wait for a scheduler before giving up.
CONNECT_TIMEOUT = 10


_NEEDS_DASK = (
    "The fleet analytics need Dask; install it with `pip install 'selorax-analytics[fleet]'`."
)


class MissingExtraError(SeloraxError, ImportError):
    """The fleet analytics need Dask; install it with `pip install 'selorax-analytics[fleet]'`."""


def run_per_store(
    task: Callable[..., Any],
    dataset: str | os.PathLike[str],
    options: dict[str, Any],
    stores: Collection[int] | None,
    scheduler: str | Client | None,
) -> tuple[dict[int, Any], dict[int, str]]:
    """Run ``task(root, store_id, **options)`` for each store on the cluster.

    Returns the results of the stores that finished and one line per store that failed,
    both keyed by store id in store order.
    """
    root = str(Path(dataset).expanduser().resolve())
    ids = _store_ids(root, stores)
    run = uuid.uuid4().hex[:8]  # keys of this call only: a long-lived client keeps results
    with fleet_client(scheduler, n_stores=len(ids)) as client:
        futures = {
            sid: client.submit(task, root, sid, **options, key=f"{task.__name__}-{sid}-{run}")
            for sid in ids
        }
        results: dict[int, Any] = {}
        errors: dict[int, str] = {}
        for sid, future in futures.items():
            try:
                results[sid] = future.result()
            except Exception as exc:  # reported per store; the other stores finish
                errors[sid] = one_line(exc)
    return results, errors


def _store_ids(root: str, stores: Collection[int] | None) -> list[int]:
    present = dataset_stores(root)
    if stores is None:
        if not present:
            raise CacheError(
                f"The fleet dataset {root!r} holds no store; load one with "
                "`selorax-analytics fleet fetch --fleet FILE --out DIR`."
            )
        return present
    ids = sorted({int(s) for s in stores})
    if not ids:
        raise CacheError("`stores` is empty; name at least one store id of the dataset.")
    return ids


def default_workers(n_stores: int) -> int:
    """Worker processes of the embedded cluster: one per core, at most one per store."""
    return max(1, min(os.cpu_count() or 1, n_stores))


@contextlib.contextmanager
def fleet_client(
    scheduler: str | Client | None = None, *, n_stores: int | None = None
) -> Iterator[Client]:
    """A ``distributed.Client`` on the cluster ``scheduler`` names (see the module notes).

    An embedded cluster and a client made here are closed on exit; a given client is not.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise MissingExtraError(_NEEDS_DASK) from None
    if isinstance(scheduler, Client):
        yield scheduler
        return
    address = scheduler or os.environ.get(SCHEDULER_ENV) or None
    if address is None:
        workers = default_workers(n_stores or os.cpu_count() or 1)
        with (
            LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",  # any free port: 8787 may be another cluster's
                silence_logs=logging.CRITICAL,  # a failed store is reported, not logged
            ) as cluster,
            Client(cluster) as client,
        ):
            yield client
        return
    with connect_scheduler(str(address)) as client:
        yield client


def check_scheduler_address(address: str) -> str:
    """Refuse a malformed scheduler address (:class:`ValidationError`) before any work.

    Returns where the address came from: ``"scheduler"`` or :data:`SCHEDULER_ENV`.
    """
    try:
        from distributed.comm import parse_address, parse_host_port
    except ImportError:
        raise MissingExtraError(_NEEDS_DASK) from None
    source = "scheduler" if address != os.environ.get(SCHEDULER_ENV) else SCHEDULER_ENV
    try:  # checked before a Client exists: a half-made one hangs in its finaliser
        scheme, where = parse_address(address, strict=True)
        if scheme in ("tcp", "tls"):
            parse_host_port(where)
    except (ValueError, TypeError) as exc:
        raise ValidationError(
            f"The {source} address {address!r} is not usable ({one_line(exc)}); give one "
            "like tcp://host:8786."
        ) from None
    return source


def connect_scheduler(address: str) -> Client:
    """A client on the scheduler at ``address``; one-line errors for a bad or silent address."""
    from distributed import Client

    source = check_scheduler_address(address)
    try:
        return Client(address, timeout=f"{CONNECT_TIMEOUT}s", set_as_default=False)
    except OSError:
        raise ConnectionFailedError(
            f"No Dask scheduler answered at {address!r} ({source}) within {CONNECT_TIMEOUT} s; "
            "start one (`dask scheduler`) or check the address."
        ) from None


def one_line(exc: BaseException) -> str:
    """``exc`` as one line: its type and its message with the whitespace folded."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
