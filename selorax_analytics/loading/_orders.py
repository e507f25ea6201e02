"""How ``load_orders`` reads orders: ``GET /orders``, or per customer without ``read:orders``.

Incremental refresh:
- ``/orders`` mode walks ``sort=updated_at:desc`` down to the cached ``updated_at`` watermark
  minus :data:`ORDER_SAFETY_MARGIN` (new orders are among the updated ones) and upserts them;
  if the result's count differs from the API's ``total`` (an order was deleted), it reloads.
- per-customer mode re-reads the orders of customers whose ``total_orders``, ``total_spent`` or
  ``updated_at`` changed since the snapshot kept with the cache, and drops the orders of
  customers who are gone.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from functools import partial
from typing import Any

import pandas as pd

from selorax_analytics.api._pagecheck import changed_since, merge_changes
from selorax_analytics.api.client import Client
from selorax_analytics.api.paginators import MAX_PAGE_SIZE
from selorax_analytics.exceptions import NotFoundError, PermissionDeniedError
from selorax_analytics.loading._customers import walk_customers
from selorax_analytics.loading._frames import retype, sort_frame, upsert
from selorax_analytics.loading._pipeline import WALK_ORDER, Cached, Fetched, Load, Walked, walk
from selorax_analytics.loading._sublists import walk_each
from selorax_analytics.loading._typing import to_frame
from selorax_analytics.loading.cache import CorruptCache, Entry

logger = logging.getLogger("selorax_analytics")

#: Orders updated this long before the cached watermark are read again on refresh.
ORDER_SAFETY_MARGIN = pd.Timedelta(minutes=10)
SNAPSHOT_COLUMNS = ["user_id", "total_orders", "total_spent", "updated_at"]
#: The parameters of a load of every order (cached as ``orders``).
ORDER_DEFAULTS: dict[str, Any] = {"since": None, "until": None, "status": None}


def fetch_orders(load: Load, cached: Cached | None) -> Fetched:
    """The orders as a typed frame: an incremental refresh of ``cached`` when possible.

    ``refresh="auto"`` over a cache updates it in the mode it was loaded in; anything else (or
    an incremental refresh that cannot be trusted) reads every order again.
    """
    mode = cached[1].get("mode") if cached is not None else None
    spent = Walked()
    if load.plan.refresh == "auto" and cached is not None:
        if mode == "orders":
            refreshed, spent = _incremental(load, *cached)
            if refreshed is not None:
                return refreshed
        elif mode == "per-customer":
            return _per_customer(load, cached)
    fetched = _every_order(load, cached)
    return dataclasses.replace(fetched, walked=spent + fetched.walked)


def orders_page(
    client: Client,
    params: dict[str, Any],
    page: int,
    sort: str = WALK_ORDER,
    limit: int = MAX_PAGE_SIZE,
) -> Any:
    """One page of ``GET /orders`` with the loader's filters."""
    return client.list_orders(
        page=page,
        limit=limit,
        sort=sort,
        since=params["since"],
        until=params["until"],
        status=params["status"],
    )


def _every_order(load: Load, cached: Cached | None) -> Fetched:
    """A walk of ``GET /orders``; per customer when the credential lacks ``read:orders``."""
    params = load.plan.params
    try:
        frame, walked = walk(
            load,
            lambda page, limit: orders_page(load.client, params, page, limit=limit),
            "order_id",
            changes=lambda page, limit: orders_page(
                load.client, params, page, "updated_at:desc", limit
            ),
            prepare=partial(to_frame, kind="orders"),
        )
    except PermissionDeniedError as exc:
        if exc.required_scope != "read:orders":
            raise
        logger.info("The credential lacks read:orders; reading orders per customer instead.")
        return _per_customer(load, None)
    return Fetched(frame=frame, walked=walked, mode="orders", meta={"mode": "orders"})


def _incremental(
    load: Load, frame: pd.DataFrame, meta: dict[str, Any]
) -> tuple[Fetched | None, Walked]:
    """The cached orders with those updated since its watermark, or ``None`` (reload them all);
    and the pages that took."""
    watermark = (meta.get("watermarks") or {}).get("updated_at")
    if not watermark:
        return None, Walked()
    floor = pd.Timestamp(watermark) - ORDER_SAFETY_MARGIN
    if floor.tzinfo is None:
        floor = floor.tz_localize("UTC")
    params = load.plan.params
    changes = changed_since(
        lambda page, limit: orders_page(load.client, params, page, "updated_at:desc", limit),
        floor,
        MAX_PAGE_SIZE,
    )
    spent = Walked(changes.pages)
    rows, total = merge_changes([], changes, "order_id").rows, changes.total
    if total is None:
        return None, spent  # without a total, deletions cannot be told: reload
    fresh = to_frame(rows, "orders")
    merged = upsert(frame, fresh, "orders")
    if len(merged) != total:
        logger.info(
            "Orders after the incremental refresh (%d) differ from the API's total (%d); "
            "reloading them all.",
            len(merged),
            total,
        )
        return None, spent
    added = len(set(fresh["order_id"].astype(int)) - set(frame["order_id"].astype(int)))
    refreshed = Fetched(
        frame=merged,
        walked=spent,
        refresh="incremental",
        changes={"added": added, "updated": len(fresh) - added},
        mode="orders",
        meta={"mode": "orders"},
    )
    return refreshed, spent


def _per_customer(load: Load, previous: Cached | None) -> Fetched:
    """Orders from ``/customers/{id}/orders``: of every buyer, or of the buyers who changed
    since the snapshot kept with ``previous``."""
    customers, walked = walk_customers(load, True, None, "customers")
    snapshot = to_frame(customers, "customers")[SNAPSHOT_COLUMNS]
    old = _previous_snapshot(load, previous)
    todo, drop = _to_reread(snapshot, old)
    found, read = _read_each(load, todo)
    fresh = to_frame([r for rows in found.values() for r in rows], "orders")
    fresh = _local_filter(load.plan.params, fresh)
    refresh, changes = "full", None
    if previous is not None and old is not None:
        kept = previous[0][~previous[0]["user_id"].astype(int).isin(drop | set(todo))]
        fresh = sort_frame(retype(pd.concat([kept, fresh], ignore_index=True), "orders"), "orders")
        refresh = "incremental"
        changes = {"customers_reread": len(todo), "customers_dropped": len(drop)}
    return Fetched(
        frame=fresh,
        walked=walked + read,
        refresh=refresh,
        changes=changes,
        mode="per-customer",
        meta={"mode": "per-customer", **_keep_snapshot(load, snapshot, previous)},
    )


def _previous_snapshot(load: Load, previous: Cached | None) -> pd.DataFrame | None:
    if previous is None or load.entry is None or not previous[1].get("snapshot"):
        return None
    try:
        return Entry(load.entry.folder, previous[1]["snapshot"]).read()[0]
    except CorruptCache:
        return None


def _to_reread(snapshot: pd.DataFrame, old: pd.DataFrame | None) -> tuple[list[int], set[int]]:
    """The buyers whose orders are read (all without ``old``), and the customers whose cached
    orders are dropped (changed or gone since ``old``)."""
    buyers = snapshot["total_orders"].fillna(0) > 0
    if old is None:
        return snapshot.loc[buyers, "user_id"].astype(int).tolist(), set()
    both = snapshot.merge(old, on="user_id", how="left", suffixes=("", "_old"))
    changed = pd.Series(False, index=both.index)
    for column in SNAPSHOT_COLUMNS[1:]:
        a, b = both[column], both[f"{column}_old"]
        changed |= ((a != b) | b.isna()).fillna(True).astype(bool)
    todo = both.loc[changed.to_numpy() & buyers.to_numpy(), "user_id"].astype(int).tolist()
    drop = set(both.loc[changed.to_numpy(), "user_id"].astype(int))
    drop |= set(old["user_id"].astype(int)) - set(snapshot["user_id"].astype(int))
    return todo, drop


def _keep_snapshot(load: Load, snapshot: pd.DataFrame, previous: Cached | None) -> dict[str, Any]:
    """Write this load's customer snapshot beside the cache (replacing ``previous``'s)."""
    if load.entry is None:
        return {}
    name = f"{load.plan.name}.snapshot-{uuid.uuid4().hex[:8]}"
    Entry(load.entry.folder, name).write(snapshot, {"dataset": "snapshot"})
    if previous is not None and previous[1].get("snapshot"):
        Entry(load.entry.folder, previous[1]["snapshot"]).remove()
    return {"snapshot": name}


def _read_each(load: Load, user_ids: list[int]) -> tuple[dict[int, list[dict[str, Any]]], Walked]:
    status = load.plan.params["status"]

    def fetch(user_id: int, page: int, limit: int) -> Any:
        return load.client.customer_orders(user_id, page=page, limit=limit, status=status)

    with load.tracked("per-customer", "orders per customer", "customers") as (journal, bar):
        found, report = walk_each(
            user_ids,
            fetch,
            pool=load.client.pool,
            max_in_flight=load.client.max_concurrency,
            journal=journal,
            progress=bar,
            gone=NotFoundError,
        )
    repair = {"customers_gone": list(report.removed)} if report.removed else None
    return found, Walked(report.pages, repair)


def _local_filter(params: dict[str, Any], frame: pd.DataFrame) -> pd.DataFrame:
    """``since``/``until`` on ``created_at``, which the per-customer endpoint cannot filter."""
    keep = pd.Series(True, index=frame.index)
    if params["since"]:
        keep &= frame["created_at"] >= pd.Timestamp(params["since"])
    if params["until"]:
        keep &= frame["created_at"] <= pd.Timestamp(params["until"])
    return frame if bool(keep.all()) else frame[keep].reset_index(drop=True)
