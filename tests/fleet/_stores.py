"""Small fleet datasets for the fleet analytics tests, written from the sandbox's generator."""

from __future__ import annotations

from pathlib import Path

from selorax_analytics.fleet.dataset import partition_path, write_store_frame
from selorax_analytics.sandbox.frames import api_frames
from selorax_analytics.sandbox.generator import generate_store

AS_OF = "2026-07-01"
#: store_id -> (people, repeat-rate scale): small stores; the lifetime-value fit finds no spread on 32 and 33.
STORES = {31: (300, 1.0), 32: (300, 1.0), 33: (200, 0.5)}


def write_dataset(root: Path, stores: dict[int, tuple[int, float]] = STORES) -> Path:
    """Write each store's typed frames as its partitions under ``root``; ``root``."""
    first_user = first_order = 1
    for store_id, (people, rate_scale) in stores.items():
        store = generate_store(
            seed=store_id,
            customers=people,
            store_id=store_id,
            first_user_id=first_user,
            first_order_id=first_order,
            items=False,
            rate_scale=rate_scale,
        )
        customers, orders = api_frames(store)
        write_store_frame(root, "customers", store_id, customers)
        write_store_frame(root, "orders", store_id, orders)
        first_user += 100_000
        first_order += 1_000_000
    return root


def corrupt(root: Path, store_id: int, kind: str = "orders") -> None:
    """Replace one partition of ``store_id`` with bytes that are not Parquet."""
    partition_path(root, kind, store_id).write_bytes(b"not a parquet file")
