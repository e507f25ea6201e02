"""RFM segments, segment summary and the BTYD customer summary."""

from __future__ import annotations

import sqlite3
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from selorax_analytics import (
    DEFAULT_RFM_SEGMENTS,
    RFM_SEGMENTS_WITH_LOST,
    DataError,
    customer_summary,
    rfm_segments,
    segment_summary,
)
from selorax_analytics.analytics.rfm import (
    DEFAULT_FREQUENCY_BINS,
    RFM_COLUMNS,
    SUMMARY_COLUMNS,
    beat_scores,
    frequency_scores,
)
from selorax_analytics.sandbox.generator import DEMO_AS_OF

DATA = Path(__file__).parents[1] / "data"


def make_orders(rows: list[tuple[int, str, str, float]]) -> pd.DataFrame:
    """Orders frame in the loader's dtypes from (user_id, created_at UTC, status, amount)."""
    frame = pd.DataFrame(rows, columns=["user_id", "created_at", "order_status", "grand_total"])
    return pd.DataFrame(
        {
            "order_id": pd.array(range(1, len(rows) + 1), dtype="Int64"),
            "user_id": frame["user_id"].astype("Int64"),
            "order_status": frame["order_status"].astype("category"),
            "grand_total": frame["grand_total"].astype("float64"),
            "created_at": pd.to_datetime(frame["created_at"], utc=True).astype(
                "datetime64[us, UTC]"
            ),
        }
    )


@pytest.fixture
def hand_orders() -> pd.DataFrame:
    return make_orders(
        [
            (1, "2024-03-01 10:00", "delivered", 200.0),
            (1, "2024-03-09 10:00", "delivered", 100.0),
            (2, "2024-01-10 10:00", "delivered", 50.0),
            (3, "2024-02-01 10:00", "delivered", 10.0),
            (3, "2024-02-15 10:00", "pending", 10.0),
            (3, "2024-03-10 10:00", "shipped", 10.0),
            (4, "2024-03-05 10:00", "delivered", 500.0),
            (4, "2024-03-09 10:00", "cancelled", 999.0),
            (5, "2024-02-20 10:00", "delivered", 50.0),
            (5, "2024-03-11 10:00", "delivered", 70.0),  # after as_of: ignored
        ]
    )


def test_hand_built_metrics_scores_and_segments(hand_orders):
    rfm = rfm_segments(hand_orders, as_of="2024-03-10")
    assert list(rfm.columns) == RFM_COLUMNS
    assert rfm["user_id"].tolist() == [1, 2, 3, 4, 5]
    assert rfm["recency_days"].tolist() == [1, 60, 0, 5, 19]
    assert rfm["frequency"].tolist() == [2, 1, 3, 1, 1]
    assert rfm["monetary"].tolist() == [300.0, 50.0, 30.0, 500.0, 50.0]
    assert rfm["avg_order_value"].tolist() == [150.0, 50.0, 10.0, 500.0, 50.0]
    # Scores by hand: 1 + floor(5 * customers strictly beaten / 5); frequency by order count
    # (1 order F1, 2 orders F2, 3 orders F3).
    assert rfm["r_score"].tolist() == [4, 1, 5, 3, 2]
    assert rfm["f_score"].tolist() == [2, 1, 3, 1, 1]
    assert rfm["m_score"].tolist() == [4, 2, 1, 5, 2]
    assert rfm["rfm_score"].tolist() == ["424", "112", "531", "315", "212"]
    assert rfm["segment"].astype(str).tolist() == [
        "Potential Loyalists",
        "Hibernating",
        "Potential Loyalists",
        "About to Sleep",
        "Hibernating",
    ]
    assert rfm["first_order_at"].iloc[0] == pd.Timestamp("2024-03-01 10:00", tz="UTC")
    assert rfm["last_order_at"].iloc[2] == pd.Timestamp("2024-03-10 10:00", tz="UTC")


def test_lost_variant_and_custom_map(hand_orders):
    lost = rfm_segments(hand_orders, as_of="2024-03-10", segment_map=RFM_SEGMENTS_WITH_LOST)
    assert lost.set_index("user_id")["segment"].astype(str).loc[[2, 5]].tolist() == [
        "Lost",
        "Hibernating",
    ]
    assert len(RFM_SEGMENTS_WITH_LOST) == 11 and len(DEFAULT_RFM_SEGMENTS) == 10
    custom = rfm_segments(hand_orders, as_of="2024-03-10", segment_map={"Top": "5.", "Other": ".."})
    assert custom["segment"].astype(str).tolist() == ["Other", "Other", "Top", "Other", "Other"]
    assert list(custom["segment"].cat.categories) == ["Top", "Other"]


def test_uncovered_map_is_refused(hand_orders):
    with pytest.raises(DataError, match=r"'11'.*'Other'"):
        rfm_segments(hand_orders, as_of="2024-03-10", segment_map={"Top": "5."})
    with pytest.raises(DataError, match="bad pattern"):
        rfm_segments(hand_orders, as_of="2024-03-10", segment_map={"Bad": "[", "Other": ".."})


def test_recency_uses_dhaka_calendar_days():
    # 20:00 UTC on 9 March is 02:00 on 10 March in Dhaka.
    orders = make_orders([(1, "2024-03-09 20:00", "delivered", 1.0)])
    assert rfm_segments(orders, as_of="2024-03-10")["recency_days"].tolist() == [0]
    # A time-zone aware as_of is read in Dhaka too: 19:00 UTC on 10 March is 11 March there.
    later = pd.Timestamp("2024-03-10 19:00", tz="UTC")
    assert rfm_segments(orders, as_of=later)["recency_days"].tolist() == [1]
    import datetime as dt

    assert rfm_segments(orders, as_of=dt.date(2024, 3, 12))["recency_days"].tolist() == [2]


def test_beat_scores_ties_and_order():
    values = np.array([1, 1, 1, 1, 1, 1, 1, 2, 2, 3])
    scores = beat_scores(values)
    assert scores.tolist() == [1] * 7 + [4, 4, 5]
    assert beat_scores(values[::-1]).tolist() == scores[::-1].tolist()
    assert beat_scores(np.array([7.0, 7.0])).tolist() == [1, 1]
    assert beat_scores(np.array([3, 2, 1]), higher_is_better=False).tolist() == [1, 2, 4]


def test_frequency_scores_by_order_count():
    frequency = np.array([1, 2, 3, 4, 5, 6, 40, 1])
    assert frequency_scores(frequency, DEFAULT_FREQUENCY_BINS).tolist() == [1, 2, 3, 4, 4, 5, 5, 1]
    assert frequency_scores(frequency, (3, 5, 10, 20)).tolist() == [1, 1, 2, 2, 3, 3, 5, 1]
    # None: the share-beaten rule, 1 + floor(5 * beaten / 8): 2 beats two -> 2, 3 beats three
    # -> 2, 4 beats four -> 3, 5 beats five -> 4, 6 beats six -> 4, 40 beats seven -> 5.
    assert frequency_scores(frequency, None).tolist() == [1, 2, 2, 3, 4, 4, 5, 1]
    for bad in [(2, 3, 4), (3, 2, 4, 6), (1, 2, 3, 4), (2.5, 3, 4, 6)]:
        with pytest.raises(DataError, match="frequency_bins"):
            frequency_scores(frequency, bad)


def test_share_beaten_frequency_on_request(hand_orders):
    rfm = rfm_segments(hand_orders, as_of="2024-03-10", frequency_bins=None)
    # frequencies [2, 1, 3, 1, 1]: 2 beats three -> 1 + floor(15 / 5) = 4; 3 beats four -> 5.
    assert rfm["f_score"].tolist() == [4, 1, 5, 1, 1]
    with pytest.raises(DataError, match="frequency_bins"):
        rfm_segments(hand_orders, as_of="2024-03-10", frequency_bins=(2, 2, 3, 4))


def test_demo_scores_do_not_depend_on_row_order(demo_frames):
    _, orders = demo_frames
    rfm = rfm_segments(orders, as_of=DEMO_AS_OF)
    shuffled = orders.sample(frac=1.0, random_state=7)
    pd.testing.assert_frame_equal(rfm, rfm_segments(shuffled, as_of=DEMO_AS_OF))
    for metric, score in [("frequency", "f_score"), ("recency_days", "r_score")]:
        assert rfm.groupby(metric)[score].nunique().max() == 1
    assert rfm.groupby("monetary")["m_score"].nunique().max() == 1
    # Most demo customers buy once, and they all share the lowest frequency score.
    once = rfm["frequency"] == 1
    assert once.mean() > 0.5 and set(rfm.loc[once, "f_score"]) == {1}


def test_demo_metrics_match_sql(demo_frames):
    _, orders = demo_frames
    rfm = rfm_segments(orders, as_of=DEMO_AS_OF).set_index("user_id")
    table = pd.DataFrame(
        {
            "user_id": orders["user_id"].astype("int64"),
            "status": orders["order_status"].astype(str),
            "amount": orders["grand_total"],
            "at": orders["created_at"].dt.strftime("%Y-%m-%d %H:%M:%S.%f"),
        }
    )
    with sqlite3.connect(":memory:") as db:
        table.to_sql("orders", db, index=False)
        sql = pd.read_sql(
            """
            SELECT user_id,
                   CAST(julianday(:as_of) - julianday(max(date(at, '+6 hours'))) AS INTEGER)
                       AS recency_days,
                   count(*) AS frequency,
                   round(sum(amount), 2) AS monetary
            FROM orders
            WHERE status NOT IN ('cancelled', 'returned', 'failed')
              AND date(at, '+6 hours') <= :as_of
            GROUP BY user_id ORDER BY user_id
            """,
            db,
            params={"as_of": DEMO_AS_OF},
        ).set_index("user_id")
    assert rfm.index.astype("int64").tolist() == sql.index.tolist()
    np.testing.assert_array_equal(rfm["recency_days"], sql["recency_days"])
    np.testing.assert_array_equal(rfm["frequency"], sql["frequency"])
    np.testing.assert_allclose(rfm["monetary"], sql["monetary"], atol=0.005)


def test_bad_input(hand_orders):
    original = hand_orders.copy()
    with pytest.raises(DataError, match=r"\['grand_total', 'order_status'\]"):
        rfm_segments(hand_orders.drop(columns=["grand_total", "order_status"]), as_of="2024-03-10")
    with pytest.raises(DataError, match="before every valid order"):
        rfm_segments(hand_orders, as_of="2023-01-01")
    with pytest.raises(DataError, match="not a date"):
        rfm_segments(hand_orders, as_of="yesterday-ish")
    with pytest.raises(DataError, match="as_of"):
        rfm_segments(hand_orders, as_of=None)
    empty = rfm_segments(hand_orders.iloc[:0], as_of="2024-03-10")
    assert empty.empty and list(empty.columns) == RFM_COLUMNS
    pd.testing.assert_frame_equal(hand_orders, original)


def test_segment_summary(hand_orders):
    summary = segment_summary(rfm_segments(hand_orders, as_of="2024-03-10"))
    assert list(summary.columns) == SUMMARY_COLUMNS
    assert summary["segment"].tolist() == list(DEFAULT_RFM_SEGMENTS)
    row = summary.set_index("segment").loc["Hibernating"]
    assert row["customers"] == 2 and row["customer_share"] == pytest.approx(0.4)
    assert row["revenue"] == 100.0 and row["revenue_share"] == pytest.approx(100 / 930)
    assert row["mean_recency_days"] == pytest.approx(39.5)
    assert summary["customers"].sum() == 5
    assert summary.set_index("segment").loc["Promising", "customers"] == 0


def read_cdnow() -> pd.DataFrame:
    names = ["original_id", "new_id", "date", "cds", "amount"]
    tx = pd.read_csv(DATA / "CDNOW_sample.txt", sep=r"\s+", header=None, names=names, dtype=str)
    return tx.assign(
        new_id=tx["new_id"].astype("int64"),
        date=pd.to_datetime(tx["date"], format="%Y%m%d"),
        amount=tx["amount"].astype("float64"),
    )


def half_up(values: pd.Series) -> np.ndarray:
    return np.array(
        [float(Decimal(repr(round(v, 9))).quantize(Decimal("0.01"), ROUND_HALF_UP)) for v in values]
    )


def test_customer_summary_rebuilds_cdnow():
    tx = read_cdnow()
    summary = customer_summary(
        tx,
        as_of="1997-09-30",
        freq="W",
        customer="new_id",
        datetime="date",
        monetary="amount",
        status=None,
    )
    published = pd.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv", index_col="ID")
    assert list(summary.columns) == ["frequency", "recency", "T", "monetary_value"]
    assert summary.index.tolist() == published.index.tolist()
    for ours, theirs in [("frequency", "x"), ("recency", "t_x"), ("T", "T")]:
        np.testing.assert_array_equal(half_up(summary[ours]), published[theirs].to_numpy())
    np.testing.assert_array_equal(half_up(summary["monetary_value"]), published["zbar"].to_numpy())
    assert (summary["frequency"] > 0).sum() == 946


def test_customer_summary_by_hand(hand_orders):
    summary = customer_summary(hand_orders, as_of="2024-03-10")
    # Customer 1: days 1 and 9 March; customer 3: 1 Feb, 15 Feb, 10 March.
    assert summary.loc[1].tolist() == [1.0, 8.0, 9.0, 100.0]
    assert summary.loc[3].tolist() == [2.0, 38.0, 38.0, 10.0]
    assert summary.loc[2].tolist() == [0.0, 0.0, 60.0, 0.0]
    same_day = make_orders(
        [
            (9, "2024-03-01 04:00", "delivered", 5.0),
            (9, "2024-03-01 09:00", "delivered", 7.0),
            (9, "2024-03-08 09:00", "delivered", 3.0),
        ]
    )
    weekly = customer_summary(same_day, as_of="2024-03-15", freq="W")
    assert weekly.loc[9].tolist() == [1.0, 1.0, 2.0, 3.0]
    with pytest.raises(DataError, match="`freq` must be one of"):
        customer_summary(same_day, as_of="2024-03-15", freq="M")  # type: ignore[arg-type]
