"""Where loaded frames live on disk: Parquet plus a metadata file, one folder per (host, store).

Layout under the cache root (``SELORAX_CACHE_DIR``, else the user cache directory)::

    <root>/<api host>/store-<id>/
        customers.parquet        the typed frame
        customers.json           metadata: fetch time, parameters, watermarks, versions
        customers.journal.jsonl  pages of an unfinished load (removed when it finishes)
        orders.parquet, orders.json, ...
        history.parquet          changes seen by refreshes (user_id, changed_at, field, old, new)
    <root>/<api host>/stores.json   which store a Bearer token belongs to (keyed by a hash)

Every file is written to a temporary name and renamed, so a reader never sees half a file. The
metadata never holds a secret: credentials appear at most masked (``sx_at_...abcd``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from selorax_analytics._http import decode_json
from selorax_analytics._version import __version__
from selorax_analytics.exceptions import ApiError, ConnectionFailedError

if TYPE_CHECKING:
    from selorax_analytics.client import Client

logger = logging.getLogger("selorax_analytics")

SCHEMA_VERSION = 1
#: A journal older than this is not resumed (seconds).
JOURNAL_MAX_AGE = 24 * 3600.0
_GENERATION_KEY = b"selorax_analytics.generation"
HISTORY_COLUMNS = ("user_id", "changed_at", "field", "old", "new")


class CorruptCache(Exception):
    """A cache file that cannot be trusted (internal; loaders re-fetch and report one line)."""


def cache_root(cache: bool | str | os.PathLike[str] = True) -> Path:
    """The cache root: ``cache`` if it is a path, else ``SELORAX_CACHE_DIR`` or the user cache."""
    if not isinstance(cache, bool):
        return Path(cache).expanduser()
    configured = os.environ.get("SELORAX_CACHE_DIR", "").strip()
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("selorax-analytics", appauthor=False))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def atomic_write(path: Path, data: bytes | Callable[[str], None]) -> None:
    """Write ``path`` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if callable(data):
            os.close(fd)
            data(tmp)
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


#: One store lookup at a time per credential, so loads started together ask ``GET /store``
#: once; loads of other stores (an agency's many clients) do not wait for it.
_LOOKUPS: dict[str, threading.Lock] = {}
_LOOKUPS_LOCK = threading.Lock()


def _lookup_lock(key: str) -> threading.Lock:
    with _LOOKUPS_LOCK:
        return _LOOKUPS.setdefault(key, threading.Lock())


def _host_dir(client: Client, cache: bool | str | os.PathLike[str]) -> Path:
    host = (client.cache_namespace or client.host).replace(":", "_").replace("/", "_")
    return cache_root(cache) / host


def _token_key(client: Client) -> str:
    """What ``stores.json`` files the token's store under: a hash, never the token."""
    return _digest(f"{client.host}|{client.credentials.token or ''}")


def _known_stores(host_dir: Path) -> dict[str, Any]:
    try:
        known = json.loads((host_dir / "stores.json").read_text())
    except (OSError, ValueError):
        known = {}
    return known if isinstance(known, dict) else {}


def store_known(client: Client, cache: bool | str | os.PathLike[str] = True) -> bool:
    """Whether :func:`cache_dir_for` can name ``client``'s folder without a request."""
    if client.store_id is not None:
        return True
    return isinstance(_known_stores(_host_dir(client, cache)).get(_token_key(client)), str)


def _store_key(client: Client, host_dir: Path) -> str:
    if client.store_id is not None:
        return f"store-{client.store_id}"
    key = _token_key(client)
    with _lookup_lock(f"{host_dir}|{key}"):
        return _look_up_store(client, host_dir, key)


def _look_up_store(client: Client, host_dir: Path, key: str) -> str:
    known = _known_stores(host_dir)
    if isinstance(known.get(key), str):
        return str(known[key])
    try:
        store = client.get_store().get("store_id")
        name = f"store-{int(store)}" if store is not None else f"token-{key[:12]}"
    except (ApiError, ConnectionFailedError, TypeError, ValueError):
        name = f"token-{key[:12]}"
    with _lookup_lock(str(host_dir)):  # other tokens' lookups may have written meanwhile
        known = _known_stores(host_dir)
        known[key] = name
        atomic_write(host_dir / "stores.json", json.dumps(known, indent=1).encode())
    return name


def cache_dir_for(client: Client, cache: bool | str | os.PathLike[str] = True) -> Path:
    """The folder holding ``client``'s store's cache.

    For client credentials the store is ``store_id``. A Bearer token implies its store, which is
    asked once from ``GET /api/apps/v1/store`` and remembered (under a hash of the token, never
    the token); if that endpoint is unavailable the folder is named by that hash instead.
    """
    host_dir = _host_dir(client, cache)
    return host_dir / _store_key(client, host_dir)


class Journal:
    """Finished pages of one unfinished load, one JSON line each, so a load can resume."""

    def __init__(self, path: Path, fingerprint: str) -> None:
        self.path = path
        self.fingerprint = fingerprint
        self._lock = threading.Lock()
        self._handle: IO[bytes] | None = None
        self._done = self._read()
        if not self._done:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            header = {"fingerprint": fingerprint, "started": time.time()}
            self.path.write_text(json.dumps(header) + "\n")

    def _read(self) -> dict[str, tuple[int, list[dict[str, Any]]]]:
        try:
            # bytes: str.splitlines() would also split at U+2028 inside a customer's name
            lines = self.path.read_bytes().split(b"\n")
            header = decode_json(lines[0])
        except (OSError, ValueError, IndexError):
            return {}
        fresh = time.time() - float(header.get("started", 0)) < JOURNAL_MAX_AGE
        if header.get("fingerprint") != self.fingerprint or not fresh:
            return {}
        done: dict[str, tuple[int, list[dict[str, Any]]]] = {}
        for line in filter(None, lines[1:]):
            try:
                entry = decode_json(line)
                done[entry["key"]] = (int(entry["total"]), list(entry["records"]))
            except (ValueError, KeyError, TypeError):
                continue  # a line cut short by a crash
        return done

    def done(self) -> dict[str, tuple[int, list[dict[str, Any]]]]:
        return dict(self._done)

    def record(self, key: str, total: int, records: list[dict[str, Any]]) -> None:
        """Append one finished page; flushed at once, the file stays open until :meth:`close`."""
        line = orjson.dumps({"key": key, "total": total, "records": records}, default=str)
        with self._lock:
            if self._handle is None:
                self._handle = self.path.open("ab")
            self._handle.write(line + b"\n")
            self._handle.flush()

    def close(self) -> None:
        with self._lock:
            if self._handle is not None:
                self._handle.close()
                self._handle = None

    def discard(self) -> None:
        self.close()
        with contextlib.suppress(OSError):
            self.path.unlink()


class Entry:
    """One cached frame (``name.parquet``) with its metadata (``name.json``)."""

    def __init__(self, folder: Path, name: str) -> None:
        self.folder, self.name = folder, name
        self.parquet = folder / f"{name}.parquet"
        self.meta_path = folder / f"{name}.json"

    def journal(self, fingerprint: str) -> Journal:
        return Journal(self.folder / f"{self.name}.journal.jsonl", fingerprint)

    def exists(self) -> bool:
        return self.meta_path.exists() or self.parquet.exists()

    def read_meta(self) -> dict[str, Any]:
        try:
            meta = json.loads(self.meta_path.read_text())
        except (OSError, ValueError) as exc:
            raise CorruptCache(
                f"{self.meta_path.name} is unreadable ({type(exc).__name__})"
            ) from None
        if not isinstance(meta, dict) or meta.get("schema_version") != SCHEMA_VERSION:
            raise CorruptCache(f"{self.meta_path.name} has an unknown layout")
        return meta

    def read(self) -> tuple[pd.DataFrame, dict[str, Any]]:
        """The frame and its metadata; :class:`CorruptCache` if they cannot be trusted."""
        meta = self.read_meta()
        try:
            table = pq.read_table(self.parquet)
        except (OSError, pa.ArrowException) as exc:
            raise CorruptCache(
                f"{self.parquet.name} is unreadable ({type(exc).__name__})"
            ) from None
        generation = (table.schema.metadata or {}).get(_GENERATION_KEY, b"").decode()
        if generation != meta.get("generation") or table.num_rows != meta.get("rows"):
            raise CorruptCache(f"{self.parquet.name} does not match {self.meta_path.name}")
        try:
            frame = table.to_pandas()
        except (pa.ArrowException, ValueError, TypeError) as exc:
            raise CorruptCache(
                f"{self.parquet.name} cannot be decoded ({type(exc).__name__})"
            ) from None
        return frame, meta

    def write(self, frame: pd.DataFrame, meta: dict[str, Any]) -> None:
        generation = uuid.uuid4().hex
        table = pa.Table.from_pandas(frame, preserve_index=False)
        table = table.replace_schema_metadata(
            {**(table.schema.metadata or {}), _GENERATION_KEY: generation.encode()}
        )
        atomic_write(self.parquet, lambda tmp: pq.write_table(table, tmp))
        meta = {
            **meta,
            "schema_version": SCHEMA_VERSION,
            "package_version": __version__,
            "generation": generation,
            "rows": len(frame),
        }
        atomic_write(self.meta_path, json.dumps(meta, indent=1, default=str).encode())

    def remove(self) -> None:
        for path in (self.parquet, self.meta_path):
            with contextlib.suppress(OSError):
                path.unlink()


def empty_history() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": pd.Series([], dtype="Int64"),
            "changed_at": pd.Series([], dtype="datetime64[us, UTC]"),
            "field": pd.Series([], dtype="str"),
            "old": pd.Series([], dtype="str"),
            "new": pd.Series([], dtype="str"),
        }
    )


def read_history(folder: Path) -> pd.DataFrame:
    """The change history in ``folder`` (empty, with its columns, when there is none)."""
    path = folder / "history.parquet"
    if not path.exists():
        return empty_history()
    try:
        frame = pq.read_table(path).to_pandas()
    except (OSError, pa.ArrowException) as exc:
        logger.warning("The change history %s is unreadable (%s); ignoring it.", path, exc)
        return empty_history()
    return frame[list(HISTORY_COLUMNS)]


def append_history(folder: Path, changes: pd.DataFrame) -> None:
    """Add ``changes`` to the history, without repeating a change already recorded."""
    if changes.empty:
        return
    both = pd.concat([read_history(folder), changes], ignore_index=True)
    both = both.drop_duplicates(list(HISTORY_COLUMNS), keep="first")
    both = both.sort_values(["changed_at", "user_id", "field"], kind="stable")
    table = pa.Table.from_pandas(both.reset_index(drop=True), preserve_index=False)
    atomic_write(folder / "history.parquet", lambda tmp: pq.write_table(table, tmp))
