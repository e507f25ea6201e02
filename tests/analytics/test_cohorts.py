"""Cohort tables: hand-built values, calendar periods, SQL cross-check, bad input."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from selorax_analytics import DataError, cohort_table
from selorax_analytics.sandbox.generator import DEMO_AS_OF

NAN = np.nan


def make_orders(rows: list[tuple[int, str, str, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["user_id", "created_at", "order_status", "grand_total"])
    return frame.assign(
        user_id=frame["user_id"].astype("Int64"),
        order_status=frame["order_status"].astype("category"),
        created_at=pd.to_datetime(frame["created_at"], utc=True).astype("datetime64[us, UTC]"),
    )


@pytest.fixture
def orders() -> pd.DataFrame:
    return make_orders(
        [
            (1, "2024-01-05 10:00", "delivered", 100.0),
            (1, "2024-01-20 10:00", "delivered", 50.0),
            (1, "2024-03-02 10:00", "delivered", 30.0),
            (2, "2024-01-31 20:00", "delivered", 200.0),  # 1 February in Dhaka
            (2, "2024-02-10 10:00", "cancelled", 100.0),
            (3, "2024-02-15 10:00", "delivered", 10.0),
            (3, "2024-02-20 10:00", "delivered", 10.0),
            (3, "2024-03-05 10:00", "delivered", 40.0),
            (4, "2024-03-11 10:00", "delivered", 99.0),  # after as_of
        ]
    )


def cells(table: pd.DataFrame) -> list[list[float]]:
    return table.drop(columns="cohort_size").to_numpy().tolist()


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        ("customers", [[1.0, 0.0, 1.0], [1.0, 0.5, NAN]]),
        ("orders", [[2.0, 0.0, 1.0], [3.0, 1.0, NAN]]),
        ("revenue", [[1.0, 0.0, 0.2], [1.0, 40 / 220, NAN]]),
        ("ltv", [[150.0, 150.0, 180.0], [110.0, 130.0, NAN]]),
    ],
)
def test_hand_built_metrics(orders, metric, expected):
    table = cohort_table(orders, as_of="2024-03-10", metric=metric)
    assert list(table.columns) == ["cohort_size", 0, 1, 2]
    assert table.index.astype(str).tolist() == ["2024-01", "2024-02"]
    assert table["cohort_size"].tolist() == [1, 2]
    np.testing.assert_allclose(np.array(cells(table)), np.array(expected))
    assert table.attrs["partial_period"] == "2024-03"
    assert table.attrs["metric"] == metric


def test_complete_period_and_quarters(orders):
    table = cohort_table(orders, as_of="2024-03-31", period="Q")
    assert table.attrs["partial_period"] is None
    assert table.index.astype(str).tolist() == ["2024Q1"]
    assert table["cohort_size"].tolist() == [4]  # customer 4 ordered on 11 March
    assert cells(table) == [[1.0]]


def test_signup_cohorts(orders):
    customers = pd.DataFrame(
        {
            "user_id": pd.array([1, 2, 3, 5], dtype="Int64"),
            "created_at": pd.to_datetime(
                ["2023-12-20", "2024-02-01", "2024-02-16", "2024-01-10"], utc=True
            ).astype("datetime64[us, UTC]"),
        }
    )
    table = cohort_table(orders, as_of="2024-03-10", by="signup", customers=customers)
    assert table.index.astype(str).tolist() == ["2023-12", "2024-01", "2024-02"]
    assert table["cohort_size"].tolist() == [1, 1, 2]
    np.testing.assert_allclose(
        np.array(cells(table)),
        np.array([[0.0, 1.0, 0.0, 1.0], [0.0, 0.0, 0.0, NAN], [1.0, 0.5, NAN, NAN]]),
    )


def test_weeks_start_on_monday_in_dhaka():
    orders = make_orders(
        [
            (1, "2024-03-03 10:00", "delivered", 1.0),  # Sunday
            (1, "2024-03-03 20:00", "delivered", 1.0),  # Monday 02:00 in Dhaka
            (2, "2024-03-04 05:00", "delivered", 1.0),  # Monday
        ]
    )
    table = cohort_table(orders, as_of="2024-03-10", period="W", metric="orders")
    assert table.index.astype(str).tolist() == ["2024-02-26/2024-03-03", "2024-03-04/2024-03-10"]
    np.testing.assert_array_equal(np.array(cells(table)), [[1.0, 1.0], [1.0, NAN]])
    assert table.attrs["partial_period"] is None  # as_of is the Sunday ending the week


def test_retention_matches_sql(demo_frames):
    _, orders = demo_frames
    table = cohort_table(orders, as_of=DEMO_AS_OF)
    frame = pd.DataFrame(
        {
            "user_id": orders["user_id"].astype("int64"),
            "status": orders["order_status"].astype(str),
            "ts": orders["created_at"].dt.tz_convert(None),
        }
    )
    db = duckdb.connect()
    db.register("frame", frame)
    sql = db.sql(
        f"""
        WITH valid AS (
            SELECT user_id, date_trunc('month', ts + INTERVAL 6 HOUR) AS month
            FROM frame
            WHERE status NOT IN ('cancelled', 'returned', 'failed')
              AND CAST(ts + INTERVAL 6 HOUR AS DATE) <= DATE '{DEMO_AS_OF}'
        ),
        cohort AS (SELECT user_id, min(month) AS cohort FROM valid GROUP BY user_id),
        size AS (SELECT cohort, count(*) AS n FROM cohort GROUP BY cohort)
        SELECT strftime(c.cohort, '%Y-%m') AS cohort,
               date_diff('month', c.cohort, v.month) AS offset,
               count(DISTINCT v.user_id) / any_value(s.n) AS share
        FROM valid v JOIN cohort c USING (user_id) JOIN size s ON s.cohort = c.cohort
        GROUP BY 1, 2
        """
    ).df()
    expected = sql.pivot(index="cohort", columns="offset", values="share")
    ours = table.drop(columns="cohort_size").set_axis(table.index.astype(str))
    ours = ours.where(ours > 0)  # SQL has no rows for empty cells
    expected = expected.reindex(index=ours.index, columns=ours.columns)
    np.testing.assert_allclose(ours.to_numpy(), expected.to_numpy(), rtol=1e-12)
    assert len(table) == 30


def test_after_as_of_is_nan_never_zero(demo_frames):
    _, orders = demo_frames
    table = cohort_table(orders, as_of="2025-06-15", metric="orders")
    values = table.drop(columns="cohort_size").to_numpy()
    cohort = table.index.asi8[:, None] + np.arange(values.shape[1])[None, :]
    last = pd.Period("2025-06", freq="M").ordinal
    assert np.isnan(values[cohort > last]).all()
    assert not np.isnan(values[cohort <= last]).any()


def test_bad_input(orders):
    original = orders.copy()
    with pytest.raises(DataError, match=r"`period` must be one of \['M', 'Q', 'W'\]"):
        cohort_table(orders, as_of="2024-03-10", period="Y")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="`metric` must be one of"):
        cohort_table(orders, as_of="2024-03-10", metric="aov")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="`by` must be one of"):
        cohort_table(orders, as_of="2024-03-10", by="city")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="needs the `customers` frame"):
        cohort_table(orders, as_of="2024-03-10", by="signup")
    with pytest.raises(DataError, match="before every valid order"):
        cohort_table(orders, as_of="2023-12-31")
    with pytest.raises(DataError, match=r"\['user_id'\]"):
        cohort_table(orders.drop(columns="user_id"), as_of="2024-03-10")
    empty = cohort_table(orders.iloc[:0], as_of="2024-03-10")
    assert empty.empty and list(empty.columns) == ["cohort_size"]
    assert isinstance(empty.index, pd.PeriodIndex)
    pd.testing.assert_frame_equal(orders, original)
