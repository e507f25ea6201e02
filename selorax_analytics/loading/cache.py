"""Where loaded frames live on disk: Parquet plus a metadata file, one folder per (host, store).

Layout under the cache root (``SELORAX_CACHE_DIR``, else the user cache directory)::

    <root>/<api host>/store-<id>/
        customers.parquet        the typed frame
        customers.json           metadata: fetch time, parameters, watermarks, versions
        customers.journal.jsonl  pages of an unfinished load (removed when it finishes)
        orders.parquet, orders.json, ...
        history.parquet          changes seen by refreshes (user_id, changed_at, field, old, new)
    <root>/<api host>/stores.json   which store a Bearer token belongs to (keyed by a hash)

Every file is private (``0600``, folders made for them ``0700``) and written to a temporary name
and renamed, so a reader never sees half a file. The metadata never holds a secret: credentials
appear at most masked (``sx_at_...abcd``).

A cached frame is used only when its metadata and file agree with each other and with the
kind's schema (:data:`~selorax_analytics.schema.CUSTOMER_DTYPES`,
:data:`~selorax_analytics.schema.ORDER_DTYPES`); anything else is :class:`CorruptCache`, which
the loaders treat as no cache (or, offline, a :class:`~selorax_analytics.exceptions.CacheError`).
A corrupt file is replaced; a folder found where a file belongs is removed when empty and
otherwise renamed aside (``<name>.corrupt-<time>-<n>``), never deleted.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import uuid
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from selorax_analytics._version import __version__
from selorax_analytics.loading._history import (
    HISTORY_COLUMNS,
    append_history,
    empty_history,
    read_history,
)
from selorax_analytics.loading._journal import JOURNAL_MAX_AGE, Journal
from selorax_analytics.loading._private_files import (
    atomic_write,
    clear_way,
    discard_file,
    unwritable,
)
from selorax_analytics.schema import CUSTOMER_DTYPES, ORDER_DTYPES

logger = logging.getLogger("selorax_analytics")

SCHEMA_VERSION = 1
_GENERATION_KEY = b"selorax_analytics.generation"
#: The columns (first, in this order) and dtypes a cached frame of each kind must have.
KIND_DTYPES: dict[str, dict[str, str]] = {"customers": CUSTOMER_DTYPES, "orders": ORDER_DTYPES}
#: What ``stores.json`` may name: a store folder (a failed lookup is never recorded).
_STORE_FOLDER = re.compile(r"store-[0-9]{1,19}")
_SNAPSHOT_NAME = re.compile(r"[A-Za-z0-9_-]+\.snapshot-[0-9a-f]{8}")


class CorruptCache(Exception):
    """A cache file that cannot be trusted (internal; loaders re-fetch and report one line).

    ``path`` is the file, ``problem`` what is wrong with it (``"is a folder, not a file"``).
    """

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path.name} {problem}")
        self.path = path
        self.problem = problem


def cache_root(cache: bool | str | os.PathLike[str] = True) -> Path:
    """The cache root: ``cache`` if it is a path, else ``SELORAX_CACHE_DIR`` or the user cache."""
    if not isinstance(cache, bool):
        return Path(cache).expanduser()
    configured = os.environ.get("SELORAX_CACHE_DIR", "").strip()
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("selorax-analytics", appauthor=False))


#: One writer of ``stores.json`` at a time per host folder (loads of several stores share it).
_STORES_LOCKS: dict[str, threading.Lock] = {}
_STORES_LOCKS_LOCK = threading.Lock()


def _stores_lock(host_dir: Path) -> threading.Lock:
    with _STORES_LOCKS_LOCK:
        return _STORES_LOCKS.setdefault(str(host_dir), threading.Lock())


def read_stores(host_dir: Path) -> tuple[dict[str, str], str | None]:
    """The store folders ``stores.json`` remembers by token hash, and what is wrong with the file.

    Entries that are not a store folder's name (a failed lookup recorded by an earlier version,
    a path) are left out, so those tokens are looked up again.
    """
    path = host_dir / "stores.json"
    try:
        known = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}, None
    except (OSError, ValueError, RecursionError) as exc:
        return {}, f"is unreadable ({type(exc).__name__})"
    if not isinstance(known, dict):
        return {}, "is not a JSON object"
    return {
        k: v for k, v in known.items() if isinstance(v, str) and _STORE_FOLDER.fullmatch(v)
    }, None


def remember_store(host_dir: Path, key: str, folder: str) -> None:
    """Record in ``stores.json`` that token hash ``key`` names ``folder`` (``store-<id>``).

    A failure to record is a warning (it costs a lookup later), never an error.
    """
    path = host_dir / "stores.json"
    with _stores_lock(host_dir):  # other tokens' lookups may have written meanwhile
        known, problem = read_stores(host_dir)
        known[key] = folder
        try:
            aside = clear_way(path)
            atomic_write(path, json.dumps(known, indent=1).encode())
        except OSError as exc:
            logger.warning("%s; the store is asked again next time.", unwritable(host_dir, exc))
            return
    if problem is not None or aside is not None:
        moved = f" (the folder there was moved to {aside.name})" if aside else ""
        logger.warning("%s %s; it was written again%s.", path, problem or "was a folder", moved)


class Entry:
    """One cached frame (``name.parquet``) with its metadata (``name.json``).

    ``kind`` (``"customers"`` or ``"orders"``), when given, is what the files must hold.
    """

    def __init__(self, folder: Path, name: str, kind: str | None = None) -> None:
        self.folder, self.name, self.kind = folder, name, kind
        self.parquet = folder / f"{name}.parquet"
        self.meta_path = folder / f"{name}.json"

    def journal(self, fingerprint: str) -> Journal:
        return Journal(self.folder / f"{self.name}.journal.jsonl", fingerprint)

    def exists(self) -> bool:
        return self.meta_path.exists() or self.parquet.exists()

    def read_meta(self) -> dict[str, Any]:
        """The metadata, checked; :class:`CorruptCache` if it cannot be trusted."""
        path = self.meta_path
        if path.is_dir():
            raise CorruptCache(path, "is a folder, not a file")
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CorruptCache(path, "is missing") from None
        except (OSError, ValueError, RecursionError) as exc:
            raise CorruptCache(path, f"is unreadable ({type(exc).__name__})") from None
        problem = _meta_problem(meta, self.kind)
        if problem is not None:
            raise CorruptCache(path, problem)
        return meta

    def read(self) -> tuple[pd.DataFrame, dict[str, Any]]:
        """The frame and its metadata; :class:`CorruptCache` if they cannot be trusted."""
        meta = self.read_meta()
        table = self._read_table()
        generation = (table.schema.metadata or {}).get(_GENERATION_KEY, b"")
        if generation != meta["generation"].encode() or table.num_rows != meta["rows"]:
            raise CorruptCache(
                self.parquet, f"does not match {self.meta_path.name} (written by another load)"
            )
        try:
            # each column's Arrow buffers freed once converted, no block consolidation copies
            frame = table.to_pandas(split_blocks=True, self_destruct=True)
            del table
        except (pa.ArrowException, ValueError, TypeError, KeyError, IndexError) as exc:
            raise CorruptCache(self.parquet, f"cannot be decoded ({type(exc).__name__})") from None
        problem = _columns_problem(frame, self.kind or meta.get("dataset"))
        if problem is not None:
            raise CorruptCache(self.parquet, problem)
        return frame, meta

    def _read_table(self) -> pa.Table:
        if self.parquet.is_dir():
            raise CorruptCache(self.parquet, "is a folder, not a file")
        try:
            return pq.read_table(self.parquet)
        except FileNotFoundError:
            raise CorruptCache(self.parquet, "is missing") from None
        except (OSError, pa.ArrowException) as exc:
            raise CorruptCache(self.parquet, f"is unreadable ({type(exc).__name__})") from None

    def write(self, frame: pd.DataFrame, meta: dict[str, Any]) -> None:
        """Write the frame, then its metadata (each atomically, ``0600``)."""
        generation = uuid.uuid4().hex
        table = pa.Table.from_pandas(frame, preserve_index=False)
        table = table.replace_schema_metadata(
            {**(table.schema.metadata or {}), _GENERATION_KEY: generation.encode()}
        )
        meta = {
            **meta,
            "schema_version": SCHEMA_VERSION,
            "package_version": __version__,
            "generation": generation,
            "rows": len(frame),
        }
        try:
            moved = [clear_way(self.parquet), clear_way(self.meta_path)]
            atomic_write(self.parquet, lambda tmp: _write_parquet(table, tmp))
            atomic_write(self.meta_path, json.dumps(meta, indent=1, default=str).encode())
        except OSError as exc:
            raise unwritable(self.folder, exc) from exc
        for aside in filter(None, moved):
            logger.warning("A folder sat where the cache writes a file; moved it to %s.", aside)

    def remove(self) -> list[Path]:
        """Remove both files; returns where folders found in their place were moved, if kept."""
        moved = []
        for path in (self.parquet, self.meta_path):
            try:
                aside = discard_file(path)
            except OSError as exc:
                raise unwritable(self.folder, exc) from exc
            if aside is not None:
                moved.append(aside)
        return moved


def _write_parquet(table: pa.Table, path: Path) -> None:
    """LZ4, and dictionary pages for text only: about the size of the defaults (Snappy,
    dictionaries everywhere), decoded in about half the CPU time (bench/RESULTS.md)."""
    text = [
        field.name
        for field in table.schema
        if pa.types.is_dictionary(field.type)
        or pa.types.is_string(field.type)
        or pa.types.is_large_string(field.type)
    ]
    pq.write_table(table, path, compression="lz4", use_dictionary=text)


def _is_time(value: object) -> bool:
    """Whether ``value`` is ISO 8601 text of a time with a zone (as the cache writes them)."""
    if not isinstance(value, str):
        return False
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        return False
    return stamp is not pd.NaT and stamp.tzinfo is not None


def _meta_problem(meta: object, kind: str | None) -> str | None:
    """What makes ``meta`` untrustworthy (a phrase after the file's name), or ``None``."""
    if not isinstance(meta, dict):
        return f"is not a JSON object (it holds a {type(meta).__name__})"
    if meta.get("schema_version") != SCHEMA_VERSION:
        return f"has an unknown layout (schema_version {meta.get('schema_version')!r})"
    dataset = meta.get("dataset")
    if kind is not None and dataset != kind:
        return f"describes {dataset!r}, not {kind!r}"
    rows, generation = meta.get("rows"), meta.get("generation")
    if isinstance(rows, bool) or not isinstance(rows, int) or not isinstance(generation, str):
        return "lacks its `rows` or `generation`"
    if (dataset in KIND_DTYPES or "refreshed_at" in meta) and not _is_time(
        meta.get("refreshed_at")
    ):
        return f"has `refreshed_at` {meta.get('refreshed_at')!r:.60}, not an ISO 8601 time"
    watermarks = meta.get("watermarks", {})
    if not isinstance(watermarks, dict) or not all(map(_is_time, watermarks.values())):
        return "has `watermarks` that are not ISO 8601 times"
    snapshot = meta.get("snapshot")
    if snapshot is not None and not (
        isinstance(snapshot, str) and _SNAPSHOT_NAME.fullmatch(snapshot)
    ):
        return f"names a snapshot {snapshot!r:.60} that is not one of the cache's"
    if not isinstance(meta.get("params", {}), dict):
        return "has `params` that are not an object"
    return None


def _columns_problem(frame: pd.DataFrame, dataset: object) -> str | None:
    """What makes ``frame`` not a cached ``dataset`` (a phrase after the file's name), or ``None``."""
    if not frame.columns.is_unique:
        return "has repeated column names"
    if dataset == "snapshot":  # a few customer columns (see _orders.SNAPSHOT_COLUMNS)
        expected = {c: CUSTOMER_DTYPES.get(c, "") for c in frame.columns}
        if "user_id" not in expected:
            return "lacks `user_id`"
    elif isinstance(dataset, str) and dataset in KIND_DTYPES:
        expected = KIND_DTYPES[dataset]
        if list(frame.columns[: len(expected)]) != list(expected):
            return f"does not hold the {dataset} columns {list(expected)} (first, in that order)"
    else:
        return None
    wrong = [c for c, dtype in expected.items() if str(frame[c].dtype) != dtype]
    if wrong:
        return f"holds column(s) {wrong} of other types than the schema's"
    return None


__all__ = [
    "HISTORY_COLUMNS",
    "JOURNAL_MAX_AGE",
    "SCHEMA_VERSION",
    "CorruptCache",
    "Entry",
    "Journal",
    "append_history",
    "atomic_write",
    "cache_root",
    "empty_history",
    "read_history",
    "read_stores",
    "remember_store",
]
