"""The sandbox's SQLite database: stores, customers, orders and line items.

Money is stored as integer paisa so every identity holds exactly; the API layer turns it into
taka. ``total_orders`` and ``total_spent`` are kept up to date from the orders by triggers, so
they are always computed from the orders, however the orders change.

Each customer and order also keeps its API JSON object as text (``api_json``; orders also
``api_json_text`` with money as numeric strings), rendered by triggers in the same statement as
every insert or change of the row, including the totals the order triggers move. A list page is
then a concatenation of current rows' text, read from the database on every request.

``list_totals`` keeps, per store, how many customers (and of them guests) and orders it has,
moved by triggers on every insert, delete and change of store or guest flag, so the ``total``
of an unfiltered list page is read instead of counted.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import threading
import weakref
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from selorax_analytics.sandbox.errors import SetupError
from selorax_analytics.sandbox.generator import Store
from selorax_analytics.sandbox.sql import (
    RECOUNT,
    RENDER,
    RENDER_TRIGGERS,
    RENDERED,
    SCHEMA,
    TOTALS_TRIGGERS,
)


def utc_text(value: datetime | pd.Timestamp) -> str:
    """``2025-01-20T06:30:00.000Z``: the API's timestamp form, which also sorts as text."""
    value = pd.Timestamp(value)
    value = value.tz_localize("UTC") if value.tzinfo is None else value.tz_convert("UTC")
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def now_text(after: str | None = None) -> str:
    """Now as the API's timestamp text; with ``after``, at least a millisecond later than it.

    So ``updated_at`` moves forward on every change, even when the machine's clock is behind
    the data's history (the demo store runs to 2026-06-30) or two changes share a millisecond.
    """
    now = utc_text(datetime.now(UTC))
    if after is None:
        return now
    return max(now, utc_text(pd.Timestamp(after) + pd.Timedelta(milliseconds=1)))


def _timestamps(values: pd.Series) -> list[str]:
    stamps = pd.to_datetime(values, utc=True, format="ISO8601")
    text = stamps.dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str[:-3] + "Z"
    return text.tolist()


def _paisa(frame: pd.DataFrame, column: str) -> pd.Series:
    if f"{column}_paisa" in frame:
        return frame[f"{column}_paisa"].astype("int64")
    return (pd.to_numeric(frame[column]) * 100).round().astype("int64")


def _records(frame: pd.DataFrame, columns: Sequence[str]) -> Iterator[tuple[Any, ...]]:
    values = [frame[c].astype(object).where(frame[c].notna(), None).tolist() for c in columns]
    return zip(*values, strict=True)


#: Tables every sandbox database has had; a file with tables but not these is someone else's.
_OUR_TABLES = {"stores", "customers", "orders"}


def _foreign_tables(conn: sqlite3.Connection) -> list[str]:
    """The tables of a database that is not the sandbox's (none for an empty or sandbox file),
    read before anything is written to it."""
    names = sorted(
        r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    )
    return [] if not names or set(names) >= _OUR_TABLES else names[:5]


def _unusable(path: str, exc: sqlite3.Error) -> str:
    """Why the database file at ``path`` cannot be used, and what is accepted instead."""
    accepted = "give a database file made by the sandbox, or a new file in an existing folder"
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        return f"is a folder, not a SQLite file; {accepted}."
    if not os.path.isdir(folder):
        return f"the folder {folder!r} does not exist; {accepted}."
    if isinstance(exc, sqlite3.DatabaseError) and "not a database" in str(exc):
        return f"is not a SQLite database; {accepted}."
    return f"cannot be used as the sandbox's database ({exc}); {accepted}."


def _remove_files(path: str) -> None:
    for suffix in ("", "-wal", "-shm"):
        with suppress(FileNotFoundError):
            os.remove(path + suffix)


class Database:
    """One SQLite database that any thread may use.

    Writes go through :meth:`transaction`, one at a time behind a lock, on one connection.
    Reads (:meth:`query`, :meth:`scalar`, :meth:`snapshot`) take a read-only connection from a
    pool, so they run in parallel with each other and with a write (SQLite releases the
    interpreter lock while it works). In WAL mode every read that starts after a commit sees
    it, so an answer sent after a write is seen by the next request. A thread inside
    :meth:`transaction` reads on the write connection, and so sees its own uncommitted changes.

    ``path=None`` makes a temporary database file that is removed by :meth:`close`.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self._temporary = path is None
        if path is None:
            fd, name = tempfile.mkstemp(prefix="selorax-sandbox-", suffix=".sqlite3")
            os.close(fd)
            path = name
        self.path = os.fspath(path)
        # A temporary file goes on close(), or at interpreter exit if close() never came.
        self._cleanup = (
            weakref.finalize(self, _remove_files, self.path) if self._temporary else None
        )
        self._lock = threading.RLock()
        self._writing = threading.local()
        self._idle: deque[sqlite3.Connection] = deque()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._closed = False
        try:
            self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        except sqlite3.Error as exc:
            raise SetupError("db", self.path, _unusable(self.path, exc)) from exc
        try:
            foreign = _foreign_tables(self._conn)
            if foreign:
                self.close()
                reason = (
                    f"is a SQLite database of something else (tables {', '.join(foreign)}); "
                    "give a database file made by the sandbox, or a new file in an existing folder."
                )
                raise SetupError("db", self.path, reason)
            self._conn.row_factory = sqlite3.Row
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(SCHEMA)
            self._prepare()
        except sqlite3.Error as exc:
            self.close()
            raise SetupError("db", self.path, _unusable(self.path, exc)) from exc

    def _prepare(self) -> None:
        """Add the rendered columns, the totals and their triggers to a database made before
        them; count the totals afresh."""
        with self.transaction() as conn:
            for table, columns in RENDERED.items():
                have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
                missing = [c for c in columns if c not in have]
                for column in missing:
                    conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} TEXT")
                if missing:
                    conn.execute(f"UPDATE {table} SET {RENDER[table]}")
            for statement in (*RENDER_TRIGGERS, *TOTALS_TRIGGERS, *RECOUNT):
                conn.execute(statement)

    def close(self) -> None:
        with self._lock, self._readers_lock:
            self._closed = True
            for conn in self._readers:
                conn.close()
            self._readers.clear()
            self._idle.clear()
            self._conn.close()
        if self._cleanup is not None:
            self._cleanup()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            self._writing.active = True
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            finally:
                self._writing.active = False
            self._conn.execute("COMMIT")

    def _open_reader(self) -> sqlite3.Connection:
        with self._readers_lock:
            if self._closed:
                raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA query_only=ON")
            self._readers.append(conn)
        return conn

    @contextmanager
    def _reader(self) -> Iterator[sqlite3.Connection]:
        """A connection for reading: the write connection inside a transaction, else a pooled one."""
        if getattr(self._writing, "active", False):
            yield self._conn
            return
        try:
            conn = self._idle.pop()
        except IndexError:
            conn = self._open_reader()
        try:
            yield conn
        finally:
            self._idle.append(conn)

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every statement in it sees the database as of the same moment.

        Rows come as tuples.
        """
        with self._reader() as conn:
            if conn is self._conn:
                yield conn
                return
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("COMMIT")

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
        with self._reader() as conn:
            cursor = conn.execute(sql, tuple(params))
            rows = cursor.fetchall()
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in rows]

    def scalar(self, sql: str, params: Iterable[Any] = ()) -> Any:
        with self._reader() as conn:
            rows = conn.execute(sql, tuple(params)).fetchall()
        return rows[0][0] if rows else None

    def store_ids(self) -> list[int]:
        return [r["store_id"] for r in self.query("SELECT store_id FROM stores ORDER BY 1")]

    def add_store(self, store: Store, name: str) -> None:
        """Insert a generated store (money in paisa)."""
        self.add_frames(store.store_id, name, store.customers, store.orders, store.items)

    def add_frames(
        self,
        store_id: int,
        name: str,
        customers: pd.DataFrame,
        orders: pd.DataFrame,
        items: pd.DataFrame | None = None,
    ) -> None:
        """Insert customers, orders and line items with the API's field names.

        Money may come as taka (``grand_total``) or paisa (``grand_total_paisa``); ``address_json``
        as JSON text or dicts; timestamps as ISO text or datetimes.
        """
        customers = _customer_rows(customers, store_id)
        orders = _order_rows(orders, store_id)
        with self.transaction() as conn:
            conn.execute("INSERT INTO stores VALUES (?, ?, 'BDT')", (store_id, name))
            cols = list(customers.columns)
            conn.executemany(
                f"INSERT INTO customers ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                _records(customers, cols),
            )
            cols = list(orders.columns)
            conn.executemany(
                f"INSERT INTO orders ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                _records(orders, cols),
            )
            if items is not None and len(items):
                item_rows = items.assign(price_paisa=_paisa(items, "price"))
                cols = ["order_id", "product_id", "variant_id", "name", "price_paisa", "quantity"]
                cols.append("sku")
                conn.executemany(
                    f"INSERT INTO order_items ({', '.join(cols)}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    _records(item_rows, cols),
                )


def _customer_rows(frame: pd.DataFrame, store_id: int) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "user_id": frame["user_id"].astype("int64"),
            "store_id": store_id,
            "name": frame["name"].astype(object),
            "email": frame["email"].astype(object) if "email" in frame else None,
            "phone": frame["phone"].astype(object),
            "address_json": frame["address_json"].astype(object).map(_json_text)
            if "address_json" in frame
            else None,
        }
    )
    for flag in ("is_guest", "is_phone_verified", "is_email_verified"):
        out[flag] = frame[flag].astype("int64") if flag in frame else 0
    out["created_at"] = _timestamps(frame["created_at"])
    out["updated_at"] = _timestamps(frame.get("updated_at", frame["created_at"]))
    return out


def _json_text(value: object) -> object:
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    if value is None or (isinstance(value, float) and value != value):
        return None
    return str(value)


def _order_rows(frame: pd.DataFrame, store_id: int) -> pd.DataFrame:
    out = pd.DataFrame({"order_id": frame["order_id"].astype("int64"), "store_id": store_id})
    out["user_id"] = frame["user_id"].astype("int64")
    for column in ("order_status", "financial_status", "fulfillment_status", "payment_method"):
        out[column] = frame[column].astype(str).astype(object)
    for column in ("sub_total", "tax", "shipping", "discount", "grand_total"):
        out[f"{column}_paisa"] = _paisa(frame, column)
    out["note"] = frame["note"].astype(object) if "note" in frame else None
    out["created_at"] = _timestamps(frame["created_at"])
    out["updated_at"] = _timestamps(frame.get("updated_at", frame["created_at"]))
    return out
