"""Fleet analytics on a LocalCluster of two worker processes, against local runs of the same functions.

Each store's result must equal the public function run in this process on the frames
:func:`read_store_frame` gives for that store, exactly; the summary's figures are checked
against plain pandas over those frames.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import selorax_analytics as sa
from selorax_analytics.exceptions import CacheError, ConnectionFailedError, ValidationError
from selorax_analytics.fleet.compute import (
    MIN_REPEAT_BUYERS,
    fleet_cohorts,
    fleet_segments,
    fleet_summary,
    month_retention,
    store_figures,
)
from selorax_analytics.fleet.dataset import read_store_frame
from tests.fleet._stores import AS_OF, STORES, corrupt, write_dataset

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return write_dataset(tmp_path_factory.mktemp("fleet"))


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    """The three stores, the orders of store 32 not Parquet."""
    root = write_dataset(tmp_path_factory.mktemp("broken"))
    corrupt(root, 32)
    return root


def test_segments_equal_local_runs(dataset, client):
    result = fleet_segments(dataset, as_of=AS_OF, scheduler=client)
    assert sorted(result) == sorted(STORES) and result.errors == {}
    for store_id in STORES:
        local = sa.rfm_segments(read_store_frame(dataset, "orders", store_id), as_of=AS_OF)
        pd.testing.assert_frame_equal(result[store_id], local, check_exact=True)
    whole = result.concat()
    assert whole.index.get_level_values("store_id").unique().tolist() == sorted(STORES)
    assert len(whole) == sum(len(result[s]) for s in STORES)


def test_cohorts_equal_local_runs(dataset, client):
    result = fleet_cohorts(dataset, as_of=AS_OF, metric="revenue", scheduler=client)
    for store_id in STORES:
        orders = read_store_frame(dataset, "orders", store_id)
        local = sa.cohort_table(orders, as_of=AS_OF, metric="revenue")
        pd.testing.assert_frame_equal(result[store_id], local, check_exact=True)
        assert result[store_id].attrs == local.attrs


def test_summary_figures_from_the_frames(dataset, client):
    summary = fleet_summary(dataset, as_of=AS_OF, scheduler=client)
    assert summary.index.tolist() == sorted(STORES) and summary.index.name == "store_id"
    fits = []
    for store_id in STORES:
        customers = read_store_frame(dataset, "customers", store_id)
        orders = read_store_frame(dataset, "orders", store_id)
        row = summary.loc[store_id]
        # valid orders by hand: a customer, a status not cancelled/returned/failed, by the as-of
        # day in Dhaka (the data end on 2026-06-30 18:00 UTC, i.e. before 2026-07-01 in Dhaka)
        valid = orders[
            orders["user_id"].notna()
            & ~orders["order_status"].astype("str").isin(["cancelled", "returned", "failed"])
        ]
        per_buyer = valid.groupby("user_id").size()
        assert row["customers"] == len(customers) and row["orders"] == len(orders)
        assert row["buyers"] == len(per_buyer)
        assert row["repeat_rate"] == pytest.approx((per_buyer >= 2).mean(), abs=1e-12)
        assert row["revenue"] == pytest.approx(valid["grand_total"].sum(), abs=0.01)
        segments = list(sa.DEFAULT_RFM_SEGMENTS)
        assert row[segments].sum() == pytest.approx(1.0)
        try:
            value = sa.customer_value(orders, as_of=AS_OF)
        except sa.DataError as exc:  # the fit fails locally too: the other figures stand
            # said in words: the repeat buyers counted here, the model that found no spread
            assert "extreme parameters" in str(exc)  # a degenerate optimum, not a defect
            part = "spend per order" if "Gamma-Gamma" in str(exc) else "drop-out"
            assert np.isnan(row["mean_clv"])
            assert row["error"] == (
                f"mean CLV: not fitted on {(per_buyer >= 2).sum()} repeat buyers "
                f"(no spread in {part} between them to measure)"
            )
            fits.append(False)
            continue
        assert row["mean_clv"] == pytest.approx(value["clv"].mean(), rel=1e-12)
        assert pd.isna(row["error"])
        fits.append(True)
    assert any(fits) and not all(fits)  # both paths are taken by these stores


def test_too_few_repeat_buyers_are_not_fitted_and_said_so(tmp_path):
    # 60 people buying at half the usual rate: a handful of repeat buyers, counted by hand
    root = write_dataset(tmp_path, {41: (60, 0.5)})
    orders = read_store_frame(root, "orders", 41)
    valid = orders[
        orders["user_id"].notna()
        & ~orders["order_status"].astype("str").isin(["cancelled", "returned", "failed"])
    ]
    repeat = int((valid.groupby("user_id").size() >= 2).sum())
    assert repeat < MIN_REPEAT_BUYERS
    row = store_figures(str(root), 41, as_of=AS_OF)
    assert np.isnan(row["mean_clv"])
    assert row["error"] == f"mean CLV: too few repeat buyers to fit ({repeat}; needs 20)"
    assert row["buyers"] > 0 and row["repeat_rate"] > 0  # the other figures stand


def test_month_retention_pools_complete_cohorts():
    # Cohorts Jan..Apr 2026, as of 2026-06-15 (June partial): month 3 of a cohort is complete
    # when cohort + 3 <= May, so Jan (Apr) and Feb (May) count, Mar (June, partial) and Apr do
    # not: (10 * 0.2 + 30 * 0.1) / 40 = 5 / 40.
    table = pd.DataFrame(
        {"cohort_size": [10, 30, 50, 70], 3: [0.2, 0.1, 0.9, np.nan]},
        index=pd.period_range("2026-01", periods=4, freq="M", name="cohort"),
    )
    table.attrs = {"as_of": "2026-06-15", "partial_period": "2026-06"}
    assert month_retention(table, 3) == pytest.approx(5 / 40)
    assert np.isnan(month_retention(table.iloc[2:], 3))


def test_a_corrupt_store_is_reported_and_the_rest_finish(broken, dataset, client):
    result = fleet_segments(broken, as_of=AS_OF, scheduler=client)
    assert sorted(result) == [31, 33]
    assert list(result.errors) == [32]
    assert "CacheError" in result.errors[32] and "store_id=32" in result.errors[32]
    local = sa.rfm_segments(read_store_frame(broken, "orders", 33), as_of=AS_OF)
    pd.testing.assert_frame_equal(result[33], local, check_exact=True)

    summary = fleet_summary(broken, as_of=AS_OF, scheduler=client)
    assert summary.index.tolist() == [31, 32, 33]
    assert summary.loc[32, "error"].startswith("CacheError")
    assert summary.loc[[31, 33], "buyers"].notna().all() and pd.isna(summary.loc[32, "buyers"])


def test_no_store_and_bad_scheduler_addresses(tmp_path, monkeypatch):
    with pytest.raises(CacheError, match="holds no store"):
        fleet_summary(tmp_path, as_of=AS_OF, scheduler="tcp://127.0.0.1:1")
    write_dataset(tmp_path, {31: (50, 1.0)})
    with pytest.raises(ValidationError, match="'nowhere'"):
        fleet_summary(tmp_path, as_of=AS_OF, scheduler="nowhere")
    monkeypatch.setattr("selorax_analytics.fleet.cluster.CONNECT_TIMEOUT", 1)
    monkeypatch.setenv("SELORAX_DASK_SCHEDULER", "tcp://127.0.0.1:9")
    with pytest.raises(
        ConnectionFailedError, match=r"tcp://127\.0\.0\.1:9.*SELORAX_DASK_SCHEDULER"
    ):
        fleet_summary(tmp_path, as_of=AS_OF)


def test_a_long_lived_client_never_serves_an_earlier_call_s_result(client, tmp_path):
    # A long-lived client keeps earlier results: the same store id in another dataset (or the
    # same dataset loaded again) must be computed afresh, never served from the earlier call.
    broken = write_dataset(tmp_path / "broken", {31: (200, 1.0)})
    corrupt(broken, 31)
    assert list(fleet_segments(broken, as_of=AS_OF, scheduler=client).errors) == [31]
    sound = write_dataset(tmp_path / "sound", {31: (400, 1.0)})
    for _ in range(2):
        result = fleet_segments(sound, as_of=AS_OF, scheduler=client)
        assert result.errors == {}
        local = sa.rfm_segments(read_store_frame(sound, "orders", 31), as_of=AS_OF)
        pd.testing.assert_frame_equal(result[31], local, check_exact=True)
