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

import logging
import uuid
from functools import partial
from typing import Any

import pandas as pd

from selorax_analytics.api._pagecheck import changed_since, merge_changes
from selorax_analytics.api.client import Client
from selorax_analytics.api.paginators import MAX_PAGE_SIZE
from selorax_analytics.exceptions import NotFoundError, PermissionDeniedError
from selorax_analytics.loading._frames import Progress, retype, sort_frame, to_frame, upsert
from selorax_analytics.loading._pipeline import WALK_ORDER, Load, walk_customers
from selorax_analytics.loading._sublists import walk_each
from selorax_analytics.loading.cache import CorruptCache, Entry

logger = logging.getLogger("selorax_analytics")

#: Orders updated this long before the cached watermark are read again on refresh.
ORDER_SAFETY_MARGIN = pd.Timedelta(minutes=10)
SNAPSHOT_COLUMNS = ["user_id", "total_orders", "total_spent", "updated_at"]
Cached = tuple[pd.DataFrame, dict[str, Any]]


def load_orders_into(
    load: Load, incremental_from: Cached | None, previous: Cached | None
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The orders frame and extra metadata: incremental when possible, else a full load."""
    mode = previous[1].get("mode") if previous is not None else None
    if incremental_from is not None and mode == "orders":
        result = _incremental(load, *incremental_from)
        if result is not None:
            return result
    if incremental_from is not None and mode == "per-customer":
        return _per_customer(load, incremental_from)
    try:
        frame = load.walk(
            lambda page, limit: orders_page(load.client, load.params, page, limit=limit),
            "order_id",
            changes=lambda page, limit: orders_page(
                load.client, load.params, page, "updated_at:desc", limit
            ),
            prepare=partial(to_frame, kind="orders"),
        )
    except PermissionDeniedError as exc:
        if exc.required_scope != "read:orders":
            raise
        logger.info("The credential lacks read:orders; reading orders per customer instead.")
        return _per_customer(load, None)
    load.stats["mode"] = "orders"
    return frame, {"mode": "orders"}


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


def _incremental(
    load: Load, frame: pd.DataFrame, meta: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, Any]] | None:
    watermark = (meta.get("watermarks") or {}).get("updated_at")
    if not watermark:
        return None
    floor = pd.Timestamp(watermark) - ORDER_SAFETY_MARGIN
    if floor.tzinfo is None:
        floor = floor.tz_localize("UTC")
    changes = changed_since(
        lambda page, limit: orders_page(load.client, load.params, page, "updated_at:desc", limit),
        floor,
        MAX_PAGE_SIZE,
    )
    load.stats["pages"] += changes.pages
    rows, total = merge_changes([], changes, "order_id").rows, changes.total
    if total is None:
        return None  # without a total, deletions cannot be told: reload
    fresh = to_frame(rows, "orders")
    merged = upsert(frame, fresh, "orders")
    if len(merged) != total:
        logger.info(
            "Orders after the incremental refresh (%d) differ from the API's total (%d); "
            "reloading them all.",
            len(merged),
            total,
        )
        return None
    before = set(frame["order_id"].astype(int))
    added = len(set(fresh["order_id"].astype(int)) - before)
    load.stats.update(
        refresh="incremental",
        mode="orders",
        changes={"added": added, "updated": len(fresh) - added},
    )
    return merged, {"mode": "orders"}


def _previous_snapshot(load: Load, previous: Cached | None) -> pd.DataFrame | None:
    if previous is None or load.entry is None or not previous[1].get("snapshot"):
        return None
    try:
        return Entry(load.entry.folder, previous[1]["snapshot"]).read()[0]
    except CorruptCache:
        return None


def _per_customer(load: Load, previous: Cached | None) -> tuple[pd.DataFrame, dict[str, Any]]:
    customers = to_frame(walk_customers(load, True, None, "customers"), "customers")
    snapshot = customers[SNAPSHOT_COLUMNS]
    old = _previous_snapshot(load, previous)
    buyers = snapshot["total_orders"].fillna(0) > 0
    if old is None or previous is None:
        todo = snapshot.loc[buyers, "user_id"].astype(int).tolist()
        drop: set[int] = set()
    else:
        both = snapshot.merge(old, on="user_id", how="left", suffixes=("", "_old"))
        changed = pd.Series(False, index=both.index)
        for column in SNAPSHOT_COLUMNS[1:]:
            a, b = both[column], both[f"{column}_old"]
            changed |= ((a != b) | b.isna()).fillna(True).astype(bool)
        todo = both.loc[changed.to_numpy() & buyers.to_numpy(), "user_id"].astype(int).tolist()
        drop = set(both.loc[changed.to_numpy(), "user_id"].astype(int))
        drop |= set(old["user_id"].astype(int)) - set(snapshot["user_id"].astype(int))
    found = _read_each(load, todo)
    fresh = _local_filter(load, to_frame([r for rows in found.values() for r in rows], "orders"))
    if previous is not None and old is not None:
        kept = previous[0][~previous[0]["user_id"].astype(int).isin(drop | set(todo))]
        fresh = sort_frame(retype(pd.concat([kept, fresh], ignore_index=True), "orders"), "orders")
        load.stats["refresh"] = "incremental"
        load.stats["changes"] = {"customers_reread": len(todo), "customers_dropped": len(drop)}
    load.stats["mode"] = "per-customer"
    extra: dict[str, Any] = {"mode": "per-customer"}
    if load.entry is not None:
        name = f"{load.name}.snapshot-{uuid.uuid4().hex[:8]}"
        Entry(load.entry.folder, name).write(snapshot, {"dataset": "snapshot"})
        if previous is not None and previous[1].get("snapshot"):
            Entry(load.entry.folder, previous[1]["snapshot"]).remove()
        extra["snapshot"] = name
    return fresh, extra


def _read_each(load: Load, user_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    status = load.params["status"]

    def fetch(user_id: int, page: int, limit: int) -> Any:
        return load.client.customer_orders(user_id, page=page, limit=limit, status=status)

    journal = load.journal("per-customer")
    bar = Progress(load.progress, "orders per customer", "customers")
    try:
        found, report = walk_each(
            user_ids,
            fetch,
            pool=load.client.pool,
            max_in_flight=load.client.max_concurrency,
            journal=journal,
            progress=bar,
            gone=NotFoundError,
        )
    finally:
        bar.close()
        if journal is not None:
            journal.close()
    load.stats["pages"] += report.pages
    if report.removed:
        load.stats["repair"] = {"customers_gone": list(report.removed)}
    if journal is not None:
        journal.discard()
    return found


def _local_filter(load: Load, frame: pd.DataFrame) -> pd.DataFrame:
    """``since``/``until`` on ``created_at``, which the per-customer endpoint cannot filter."""
    keep = pd.Series(True, index=frame.index)
    if load.params["since"]:
        keep &= frame["created_at"] >= pd.Timestamp(load.params["since"])
    if load.params["until"]:
        keep &= frame["created_at"] <= pd.Timestamp(load.params["until"])
    return frame if bool(keep.all()) else frame[keep].reset_index(drop=True)
