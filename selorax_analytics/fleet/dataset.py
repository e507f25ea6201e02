"""The fleet's data on disk: one Parquet dataset partitioned by store, hive style.

Layout under the dataset root (``load_fleet(..., out=root)``, ``fleet fetch --out DIR``)::

    <root>/customers/store_id=<id>/part-0.parquet
    <root>/orders/store_id=<id>/part-0.parquet
    <root>/fleet.json    which stores, their names and base URLs (never a secret), when each
                         was loaded and its row counts

``store_id`` is only in the path: the files hold every other column of the typed frames
(:data:`~selorax_analytics.schema.CUSTOMER_DTYPES`, :data:`~selorax_analytics.schema.ORDER_DTYPES`,
with their dtypes) and readers add it back. :func:`read_store_frame` returns exactly the frame
``load_customers`` / ``load_orders`` returned for that store (``store_id`` as ``Int64`` in its
place); DuckDB, Polars, Spark and Dask read the folder as is, taking ``store_id`` from the path::

    SELECT store_id, count(*) FROM read_parquet('<root>/orders/*/*.parquet',
                                                hive_partitioning=true) GROUP BY store_id

Every file is written to a temporary name and renamed (a reader never sees half a file), mode
``0600`` in folders made ``0700``: the files hold customers' names and phones. A store's two
partitions are written before ``fleet.json`` names it; a store that failed to load keeps what an
earlier load wrote.

``fleet.json``::

    {"format": 1, "updated_at": "<UTC ISO time>",
     "stores": [{"store_id": 22, "name": "dhaka-shoes", "base_url": "https://...",
                 "loaded_at": "<UTC ISO time>", "customers": 1200, "orders": 5400}, ...]}
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from selorax_analytics.exceptions import CacheError
from selorax_analytics.loading._private_files import atomic_write, unwritable
from selorax_analytics.schema import CUSTOMER_DTYPES, ORDER_DTYPES

#: The kinds of frame in the dataset and their typed-frame columns.
KINDS: dict[str, dict[str, str]] = {"customers": CUSTOMER_DTYPES, "orders": ORDER_DTYPES}
MANIFEST = "fleet.json"
PART = "part-0.parquet"
FORMAT = 1
_PARTITION = re.compile(r"store_id=([0-9]{1,19})")


def partition_path(root: str | Path, kind: str, store_id: int) -> Path:
    """The file holding ``kind`` (``"customers"`` or ``"orders"``) of store ``store_id``."""
    _check_kind(kind)
    return Path(root) / kind / f"store_id={int(store_id)}" / PART


def write_store_frame(root: str | Path, kind: str, store_id: int, frame: pd.DataFrame) -> Path:
    """Write one store's typed frame as its partition (atomically, ``0600``); the file's path.

    ``store_id`` is dropped from the columns: the partition's folder holds it.
    """
    path = partition_path(root, kind, store_id)
    table = pa.Table.from_pandas(frame.drop(columns=["store_id"]), preserve_index=False)
    try:
        atomic_write(path, lambda tmp: pq.write_table(table, tmp))
    except OSError as exc:
        raise unwritable(path.parent, exc) from exc
    return path


def read_store_frame(root: str | Path, kind: str, store_id: int) -> pd.DataFrame:
    """One store's typed frame from the dataset, as ``load_customers`` / ``load_orders`` returned it.

    Parameters
    ----------
    root
        The dataset's folder.
    kind
        ``"customers"`` or ``"orders"``.
    store_id
        The store.

    Returns
    -------
    pandas.DataFrame
        The typed frame, ``store_id`` (``Int64``) added back in its place.

    Raises
    ------
    CacheError
        The store has no such partition, or it cannot be read.
    """
    path = partition_path(root, kind, store_id)
    try:
        frame = pq.read_table(path).to_pandas()
    except FileNotFoundError:
        raise CacheError(
            f"The fleet dataset in {str(root)!r} has no {kind} of store {store_id} "
            f"({path} is missing); load it with `selorax-analytics fleet fetch`."
        ) from None
    except (OSError, pa.ArrowException, ValueError) as exc:
        raise CacheError(
            f"{path} cannot be read ({type(exc).__name__}); load the store again with "
            "`selorax-analytics fleet fetch`."
        ) from None
    at = list(KINDS[kind]).index("store_id")
    frame.insert(at, "store_id", pd.array([int(store_id)] * len(frame), dtype="Int64"))
    return frame


def dataset_stores(root: str | Path) -> list[int]:
    """The ids of the stores with both partitions (customers and orders) in the dataset, sorted."""
    found = [_partitions(Path(root) / kind) for kind in KINDS]
    return sorted(set.intersection(*found))


def read_manifest(root: str | Path) -> dict[str, Any]:
    """``fleet.json`` of the dataset (an empty one when there is none yet)."""
    path = Path(root) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"format": FORMAT, "updated_at": None, "stores": []}
    except (OSError, ValueError) as exc:
        raise CacheError(
            f"{path} cannot be read ({type(exc).__name__}); remove it and load the fleet again."
        ) from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("stores"), list):
        raise CacheError(f"{path} is not a fleet manifest; remove it and load the fleet again.")
    return manifest


def record_stores(root: str | Path, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Merge ``entries`` (one per store just loaded, keyed by ``store_id``) into ``fleet.json``.

    Stores not in ``entries`` keep their earlier entry. Returns the manifest written.
    """
    manifest = read_manifest(root)
    by_id = {int(e["store_id"]): e for e in manifest["stores"]}
    by_id.update({int(e["store_id"]): dict(e) for e in entries})
    manifest = {
        "format": FORMAT,
        "updated_at": datetime.now(UTC).isoformat(),
        "stores": [by_id[key] for key in sorted(by_id)],
    }
    path = Path(root) / MANIFEST
    try:
        atomic_write(path, json.dumps(manifest, indent=1, default=str).encode())
    except OSError as exc:
        raise unwritable(path.parent, exc) from exc
    return manifest


def _partitions(folder: Path) -> set[int]:
    if not folder.is_dir():
        return set()
    ids = set()
    for entry in folder.iterdir():
        match = _PARTITION.fullmatch(entry.name)
        if match and (entry / PART).is_file():
            ids.add(int(match.group(1)))
    return ids


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {sorted(KINDS)}, not {kind!r}")
