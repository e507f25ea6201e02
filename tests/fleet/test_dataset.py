"""The fleet dataset: hive partitions by store, the typed frames back exactly, DuckDB reads it."""

from __future__ import annotations

import json
import stat

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from selorax_analytics.exceptions import CacheError
from selorax_analytics.fleet.dataset import (
    dataset_stores,
    partition_path,
    read_manifest,
    read_store_frame,
    record_stores,
    write_store_frame,
)
from selorax_analytics.sandbox.frames import api_frames
from selorax_analytics.sandbox.generator import generate_store
from selorax_analytics.schema import CUSTOMER_DTYPES, ORDER_DTYPES


@pytest.fixture(scope="module")
def two_stores():
    """Typed frames of two small generated stores (ids 31 and 47), as a load returns them."""
    first = api_frames(generate_store(seed=5, customers=120, store_id=31))
    second = api_frames(
        generate_store(seed=6, customers=80, store_id=47, first_user_id=1000, first_order_id=9000)
    )
    return {31: first, 47: second}


@pytest.fixture
def dataset(tmp_path, two_stores):
    root = tmp_path / "fleet"
    for store_id, (customers, orders) in two_stores.items():
        write_store_frame(root, "customers", store_id, customers)
        write_store_frame(root, "orders", store_id, orders)
    return root


def test_frames_come_back_exactly_with_store_id_from_the_path(dataset, two_stores):
    for store_id, (customers, orders) in two_stores.items():
        pd.testing.assert_frame_equal(read_store_frame(dataset, "customers", store_id), customers)
        pd.testing.assert_frame_equal(read_store_frame(dataset, "orders", store_id), orders)
    back = read_store_frame(dataset, "orders", 47)
    assert list(back.columns[: len(ORDER_DTYPES)]) == list(ORDER_DTYPES)
    assert str(back["store_id"].dtype) == "Int64" and set(back["store_id"]) == {47}


def test_layout_is_hive_style_private_and_without_a_store_id_column(dataset):
    path = dataset / "customers" / "store_id=31" / "part-0.parquet"
    assert partition_path(dataset, "customers", 31) == path
    assert "store_id" not in pq.read_schema(path).names
    assert set(pq.read_schema(path).names) >= set(CUSTOMER_DTYPES) - {"store_id"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert not list(dataset.rglob("*.tmp"))


def test_duckdb_reads_the_dataset_and_its_per_store_figures_equal_the_frames(dataset, two_stores):
    orders = duckdb.sql(
        f"SELECT store_id, count(*) AS n, sum(grand_total) AS revenue "
        f"FROM read_parquet('{dataset}/orders/*/*.parquet', hive_partitioning=true) "
        "GROUP BY store_id ORDER BY store_id"
    ).fetchall()
    customers = duckdb.sql(
        f"SELECT store_id, count(*), count(DISTINCT user_id) "
        f"FROM read_parquet('{dataset}/customers/*/*.parquet', hive_partitioning=true) "
        "GROUP BY store_id ORDER BY store_id"
    ).fetchall()
    expected_orders = [
        (store_id, len(o), pytest.approx(o["grand_total"].sum()))
        for store_id, (_, o) in two_stores.items()
    ]
    assert orders == expected_orders
    assert customers == [(s, len(c), len(c)) for s, (c, _) in two_stores.items()]


def test_dataset_stores_lists_only_stores_with_both_kinds(dataset, two_stores):
    assert dataset_stores(dataset) == [31, 47]
    write_store_frame(dataset, "customers", 99, two_stores[31][0].assign(store_id=99))
    (dataset / "orders" / "store_id=abc").mkdir()
    assert dataset_stores(dataset) == [31, 47]
    assert dataset_stores(dataset / "nothing-here") == []


def test_a_missing_partition_is_a_cache_error_naming_the_store(dataset):
    with pytest.raises(CacheError, match=r"no orders of store 5 .*fleet fetch"):
        read_store_frame(dataset, "orders", 5)


def test_the_manifest_merges_stores_loaded_later(dataset):
    assert read_manifest(dataset)["stores"] == []
    record_stores(dataset, [{"store_id": 47, "name": "b", "customers": 1}])
    record_stores(dataset, [{"store_id": 31, "name": "a"}, {"store_id": 47, "name": "b2"}])
    manifest = json.loads((dataset / "fleet.json").read_text())
    assert [(s["store_id"], s["name"]) for s in manifest["stores"]] == [(31, "a"), (47, "b2")]
    assert manifest["format"] == 1 and manifest["updated_at"]
    assert stat.S_IMODE((dataset / "fleet.json").stat().st_mode) == 0o600
