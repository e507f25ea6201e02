"""Serve a store from files (``Sandbox(data=DIR)``, ``--data DIR``): reading and checking them.

``DIR`` holds ``customers`` and ``orders`` (and optionally ``order_items``) as Parquet or CSV,
with the API's field names. Whatever is wrong with them (a missing folder or file, a missing
column, a value that is not of its field's kind, an ``address_json`` that is not JSON, an id
used twice) is one :class:`~selorax_analytics.sandbox.errors.SetupError` naming ``data``, the
folder and what is accepted, never a traceback from pandas or SQLite.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pandas as pd

from selorax_analytics.sandbox.db import Database
from selorax_analytics.sandbox.errors import SetupError
from selorax_analytics.sandbox.generator import DEMO_STORE_ID

MONEY = ("sub_total", "tax", "shipping", "discount", "grand_total")
#: The fields each file must have; money may be taka (``grand_total``) or paisa (``_paisa``).
REQUIRED = {
    "customers": ("user_id", "name", "phone", "created_at"),
    "orders": (
        "order_id",
        "user_id",
        "order_status",
        "financial_status",
        "fulfillment_status",
        "payment_method",
        "created_at",
        *MONEY,
    ),
    "order_items": ("order_id", "product_id", "variant_id", "name", "quantity", "sku", "price"),
}
ACCEPTED = (
    "give a folder with customers and orders files (.parquet or .csv, optionally order_items) "
    "with the API's field names, such as an export of load_customers and load_orders or data/"
)
#: What reading or storing a file may raise when its contents are not what the API sends
#: (pyarrow's errors derive from these too).
_BAD_CONTENT = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    OverflowError,
    NotImplementedError,
    OSError,
    sqlite3.Error,
)

#: Text fields a CSV reader would otherwise turn into numbers (``01712345678`` -> 1712345678).
_CSV_TEXT = dict.fromkeys(("name", "email", "phone", "address_json", "note", "sku"), "str")


def _read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=_CSV_TEXT)


def read_table(directory: Path, name: str, *, required: bool = True) -> pd.DataFrame | None:
    """``name.parquet`` or ``name.csv`` from ``directory`` (the API's field names)."""
    for suffix, reader in ((".parquet", pd.read_parquet), (".csv", _read_csv)):
        path = directory / f"{name}{suffix}"
        if path.exists():
            try:
                return reader(path)
            except _BAD_CONTENT as exc:
                reason = f"{path.name} cannot be read ({_first_line(exc)}); {ACCEPTED}."
                raise SetupError("data", directory, reason) from exc
    if required:
        raise SetupError("data", directory, f"has no {name}.parquet or {name}.csv; {ACCEPTED}.")
    return None


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _check_columns(directory: Path, name: str, frame: pd.DataFrame) -> None:
    missing = [
        column
        for column in REQUIRED[name]
        if column not in frame and f"{column}_paisa" not in frame
    ]
    if missing:
        reason = f"the {name} file lacks the field(s) {', '.join(missing)}; {ACCEPTED}."
        raise SetupError("data", directory, reason)
    if name == "customers" and frame.empty:
        raise SetupError("data", directory, f"the customers file holds no rows; {ACCEPTED}.")


def _check_addresses(directory: Path, customers: pd.DataFrame) -> None:
    """Each ``address_json`` is null, an object, or JSON text of an object."""
    if "address_json" not in customers:
        return
    for row, value in enumerate(customers["address_json"].astype(object)):
        if (
            value is None
            or isinstance(value, dict)
            or (isinstance(value, float) and value != value)
        ):
            continue
        try:
            parsed = json.loads(str(value))
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            reason = (
                f"address_json of customer row {row} (counting from 0) is not a JSON object: "
                f"{str(value)[:60]!r}; give JSON text of an object, or leave it empty."
            )
            raise SetupError("data", directory, reason)


def replay(db: Database, directory: Path) -> int:
    """Fill ``db`` with the store in ``directory``; its store id (the customers' ``store_id``).

    Raises
    ------
    SetupError
        When the folder or its files are not what the API would send (the message says what).
    """
    if not directory.is_dir():
        raise SetupError("data", directory, f"is not a folder; {ACCEPTED}.")
    frames = {name: read_table(directory, name) for name in ("customers", "orders")}
    items = read_table(directory, "order_items", required=False)
    for name, frame in (*frames.items(), ("order_items", items)):
        if frame is not None:
            _check_columns(directory, name, frame)
    customers, orders = frames["customers"], frames["orders"]
    assert customers is not None and orders is not None
    _check_addresses(directory, customers)
    try:
        store_id = int(customers["store_id"].iloc[0]) if "store_id" in customers else None
        store_id = DEMO_STORE_ID if store_id is None else store_id
        db.add_frames(store_id, "Replayed store", customers, orders, items)
    except _BAD_CONTENT as exc:
        reason = f"the files cannot be served ({_first_line(exc)}); {ACCEPTED}."
        raise SetupError("data", directory, reason) from exc
    return store_id
