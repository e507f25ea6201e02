"""How ``load_customers`` reads customers: one walk of ``GET /customers``, compared with the cache.

A refresh over a cached frame records what changed per customer in the history
(:func:`~selorax_analytics.loading._frames.customer_changes`) before the new frame replaces it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import pandas as pd

from selorax_analytics.api.client import Client
from selorax_analytics.api.paginators import MAX_PAGE_SIZE
from selorax_analytics.loading._frames import customer_changes
from selorax_analytics.loading._pipeline import WALK_ORDER, Cached, Fetched, Load, Walked, walk
from selorax_analytics.loading._typing import to_frame
from selorax_analytics.loading.cache import append_history

#: The parameters of a load of every customer (cached as ``customers``).
CUSTOMER_DEFAULTS: dict[str, Any] = {"include_guests": True, "since": None}


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
) -> tuple[Any, Walked]:
    """The customers list walked (``purpose`` names its journal), and what the walk did."""

    def fetch(page: int, limit: int, sort: str = WALK_ORDER) -> Any:
        return customers_page(load.client, include_guests, since, page, limit, sort)

    def changes(page: int, limit: int) -> Any:
        return fetch(page, limit, "updated_at:desc")

    return walk(load, fetch, "user_id", purpose, changes=changes, prepare=prepare)


def fetch_customers(load: Load, cached: Cached | None) -> Fetched:
    """The customers as a typed frame; over a cached frame, its changes go to the history."""
    params = load.plan.params
    seen_at = pd.Timestamp.now(tz="UTC")
    typed = partial(to_frame, kind="customers")
    frame, walked = walk_customers(
        load, params["include_guests"], params["since"], "main", prepare=typed
    )
    if cached is None or load.entry is None:
        return Fetched(frame=frame, walked=walked)
    old = cached[0]
    history = customer_changes(old, frame, seen_at)
    append_history(load.entry.folder, history)
    before, after = set(old["user_id"].astype(int)), set(frame["user_id"].astype(int))
    changes = {
        "added": len(after - before),
        "removed": len(before - after),
        "updated": int(history["user_id"].nunique()),
    }
    refresh = "incremental" if load.plan.refresh == "auto" else "full"
    return Fetched(frame=frame, walked=walked, refresh=refresh, changes=changes)
