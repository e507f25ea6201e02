"""Write the demo store as Parquet files: ``python -m selorax_analytics.sandbox.export_demo data/``.

Three files, with the API's field names, so ``Sandbox(data=DIR)`` (or ``selorax-analytics sandbox
--data DIR``) serves them exactly as it serves the generated store:

- ``customers.parquet``: the fields of ``GET /customers/{user_id}`` (``total_orders`` and
  ``total_spent`` included for reading; the sandbox recomputes them from the orders);
- ``orders.parquet``: the fields of ``GET /orders``, money as float taka with two decimals;
- ``order_items.parquet``: the line items of ``GET /orders/{order_id}``, ``price`` in taka.

Timestamps are UTC with millisecond precision, as the API sends them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from selorax_analytics.sandbox.frames import customer_totals
from selorax_analytics.sandbox.generator import (
    DEFAULT_CUSTOMERS,
    DEFAULT_SEED,
    Store,
    generate_store,
)
from selorax_analytics.sandbox.names import CUSTOMER_COLUMNS, ITEM_COLUMNS, ORDER_COLUMNS


def _taka(frame: pd.DataFrame) -> pd.DataFrame:
    """``*_paisa`` integer columns as float taka under the API's names."""
    out = frame.copy()
    for column in [c for c in out.columns if c.endswith("_paisa")]:
        out[column.removesuffix("_paisa")] = out.pop(column) / 100
    return out


def demo_tables(store: Store) -> dict[str, pd.DataFrame]:
    """The store as the three tables the demo files hold (API field names, taka, UTC).

    Parameters
    ----------
    store
        A generated store (:func:`~selorax_analytics.sandbox.generator.generate_store`).

    Returns
    -------
    dict
        ``{"customers": ..., "orders": ..., "order_items": ...}``.
    """
    totals = customer_totals(store.orders)
    customers = store.customers[CUSTOMER_COLUMNS].join(totals, on="user_id")
    customers["email"] = customers["email"].astype("str")  # missing stays missing
    customers["total_orders"] = customers["total_orders"].fillna(0).astype("int64")
    customers["total_spent"] = customers["total_spent"].fillna(0).astype("int64")
    orders = _taka(store.orders)[ORDER_COLUMNS]
    items = _taka(store.items)[ITEM_COLUMNS]
    return {"customers": customers, "orders": orders, "order_items": items}


def export_demo(
    directory: str | Path, *, seed: int = DEFAULT_SEED, customers: int = DEFAULT_CUSTOMERS
) -> list[Path]:
    """Generate the demo store and write its three Parquet files into ``directory``.

    Returns
    -------
    list of Path
        The files written.
    """
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in demo_tables(generate_store(seed=seed, customers=customers)).items():
        path = folder / f"{name}.parquet"
        frame.to_parquet(path, index=False)
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m selorax_analytics.sandbox.export_demo",
        description="Write the demo store as customers, orders and order_items Parquet files.",
    )
    parser.add_argument("directory", help="folder to write into (created if missing)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="default %(default)s")
    parser.add_argument(
        "--customers", type=int, default=DEFAULT_CUSTOMERS, help="default %(default)s"
    )
    args = parser.parse_args(argv)
    if args.customers < 1:
        parser.error(f"--customers must be at least 1, got {args.customers}")
    for path in export_demo(args.directory, seed=args.seed, customers=args.customers):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
