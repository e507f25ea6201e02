"""The journal of an unfinished load: its finished pages, one JSON line each, so it can resume.

The journal holds raw customer records (names, phones), so it is private like the rest of the
cache (``0600``). Its header is written atomically (a reader sees no journal or a whole header);
each page is one line appended and flushed at once, so a crash loses at most the line being
written, which the next reader skips.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import IO, Any

import orjson

from selorax_analytics.exceptions import CacheError
from selorax_analytics.loading._private_files import PRIVATE_FILE_MODE, atomic_write, clear_way

logger = logging.getLogger("selorax_analytics")

#: A journal older than this is not resumed (seconds).
JOURNAL_MAX_AGE = 24 * 3600.0

Pages = dict[str, tuple[int, list[dict[str, Any]]]]


class Journal:
    """Finished pages of one unfinished load, one JSON line each, so a load can resume."""

    def __init__(self, path: Path, fingerprint: str) -> None:
        self.path = path
        self.fingerprint = fingerprint
        self._lock = threading.Lock()
        self._handle: IO[bytes] | None = None
        self._done = self._read()
        if self._done:
            with contextlib.suppress(OSError):  # written 0644 by an earlier version
                os.chmod(self.path, PRIVATE_FILE_MODE)
        else:
            self._begin()

    def _begin(self) -> None:
        """A new journal: the header alone, written atomically (``0600``)."""
        header = {"fingerprint": self.fingerprint, "started": time.time()}
        try:
            aside = clear_way(self.path)
            atomic_write(self.path, (json.dumps(header) + "\n").encode())
        except OSError as exc:
            raise _unwritable(self.path, exc) from exc
        if aside is not None:
            logger.warning(
                "A folder sat where the journal %s belongs; it was moved to %s.", self.path, aside
            )

    def _read(self) -> Pages:
        try:
            # bytes: str.splitlines() would also split at U+2028 inside a customer's name
            lines = self.path.read_bytes().split(b"\n")
            header = _decode(lines[0])
        except (OSError, ValueError, RecursionError):
            return {}
        if not _current(header, self.fingerprint):
            return {}
        done: Pages = {}
        for line in filter(None, lines[1:]):
            page = _page(line)
            if page is not None:  # else a line cut short by a crash
                done[page[0]] = page[1]
        return done

    def done(self) -> Pages:
        return dict(self._done)

    def record(self, key: str, total: int, records: list[dict[str, Any]]) -> None:
        """Append one finished page; flushed at once, the file stays open until :meth:`close`."""
        line = orjson.dumps({"key": key, "total": total, "records": records}, default=str)
        with self._lock:
            try:
                if self._handle is None:
                    self._handle = self.path.open("ab")
                self._handle.write(line + b"\n")
                self._handle.flush()
            except OSError as exc:
                raise _unwritable(self.path, exc) from exc

    def close(self) -> None:
        with self._lock:
            if self._handle is not None:
                with contextlib.suppress(OSError):
                    self._handle.close()
                self._handle = None

    def discard(self) -> None:
        self.close()
        with contextlib.suppress(OSError):
            self.path.unlink()


def _decode(line: bytes) -> Any:
    """One JSON line: orjson, else the standard module (which also reads ``NaN``); both raise
    ``ValueError`` on text that is not JSON."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return json.loads(line)


def _current(header: object, fingerprint: str) -> bool:
    """Whether a journal header is this load's and young enough to resume."""
    if not isinstance(header, dict) or header.get("fingerprint") != fingerprint:
        return False
    started = header.get("started")
    if isinstance(started, bool) or not isinstance(started, int | float):
        return False
    return 0 <= time.time() - float(started) < JOURNAL_MAX_AGE


def _page(line: bytes) -> tuple[str, tuple[int, list[dict[str, Any]]]] | None:
    """One journal line as ``(key, (total, records))``, or ``None`` if it is not a whole page."""
    try:
        entry = _decode(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(entry, dict):
        return None
    key, total, records = entry.get("key"), entry.get("total"), entry.get("records")
    if not isinstance(key, str) or isinstance(total, bool) or not isinstance(total, int):
        return None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        return None
    return key, (total, records)


def _unwritable(path: Path, exc: OSError) -> CacheError:
    return CacheError(
        f"The load's journal {path} cannot be written ({exc.strerror or type(exc).__name__}); "
        "free disk space or fix the cache folder's permissions, or load with cache=False."
    )
