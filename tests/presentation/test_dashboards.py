"""Dashboards: build each, set its controls, check what is shown against independent numbers."""

from __future__ import annotations

import csv
import datetime as dt
import sqlite3

import ipywidgets as widgets
import pandas as pd
import pytest

import selorax_analytics as sa
from selorax_analytics.presentation.dashboards import ALL_SEGMENTS, CUSTOMER_ROWS, Dashboard
from selorax_analytics.sandbox import DEMO_AS_OF

INVALID = ("cancelled", "returned", "failed")


@pytest.fixture(scope="module")
def db(demo_frames):
    """The demo orders in SQLite, with each order's Asia/Dhaka calendar day (UTC+6, no DST)."""
    _, orders = demo_frames
    con = sqlite3.connect(":memory:")
    rows = zip(
        orders["user_id"].astype("float").tolist(),
        orders["order_status"].astype("str").tolist(),
        orders["grand_total"].tolist(),
        (orders["created_at"] + pd.Timedelta(hours=6)).dt.strftime("%Y-%m-%d").tolist(),
        strict=True,
    )
    con.execute("CREATE TABLE orders (user_id INTEGER, status TEXT, total REAL, day TEXT)")
    con.executemany("INSERT INTO orders VALUES (?, ?, ?, ?)", rows)
    yield con
    con.close()


def _buyers(db, as_of: str) -> int:
    return db.execute(
        "SELECT COUNT(DISTINCT user_id) FROM orders WHERE user_id IS NOT NULL "
        f"AND status NOT IN {INVALID} AND day <= ?",
        (as_of,),
    ).fetchone()[0]


def _text(dash: Dashboard, name: str) -> str:
    (bundle,) = dash.outputs[name].outputs
    return bundle["data"]["text/plain"]


def _data(dash: Dashboard, name: str, mime: str) -> str:
    (bundle,) = dash.outputs[name].outputs
    return bundle["data"][mime]


@pytest.fixture
def rfm_dash(demo_frames, tmp_path):
    customers, orders = demo_frames
    return sa.rfm_dashboard(
        orders, as_of=DEMO_AS_OF, customers=customers, export_dir=tmp_path / "exports"
    )


def test_rfm_dashboard_is_a_widget_that_does_not_display_itself(rfm_dash, capsys):
    assert isinstance(rfm_dash, widgets.VBox)
    assert set(rfm_dash.controls) >= {"segment", "as_of", "segment_map", "format", "export"}
    assert capsys.readouterr().out == ""
    assert repr(rfm_dash).startswith("<RFM dashboard: segment='All customers")


def test_rfm_dashboard_starts_on_all_customers_counted_by_sql(rfm_dash, db):
    buyers = _buyers(db, DEMO_AS_OF)
    assert rfm_dash.controls["segment"].value == ALL_SEGMENTS
    assert _text(rfm_dash, "customers").startswith(f"{ALL_SEGMENTS}: {buyers:,} customers")
    assert _text(rfm_dash, "status") == f"{buyers:,} customers with a valid order."
    assert rfm_dash.controls["export"].disabled  # no single segment chosen


def test_choosing_a_segment_changes_the_table_and_the_plot(rfm_dash, demo_frames, db):
    _, orders = demo_frames
    before_png = _data(rfm_dash, "grid", "image/png")
    before_table = _data(rfm_dash, "customers", "text/html")
    rfm_dash.controls["segment"].value = "At Risk"
    rfm = sa.rfm_segments(orders, as_of=DEMO_AS_OF)
    members = set(rfm.loc[rfm["segment"] == "At Risk", "user_id"].astype(int))
    text = _text(rfm_dash, "customers")
    assert text.splitlines()[0] == f"At Risk: {len(members):,} customers; the 20 who spent most"
    shown = pd.Series(
        [int(line.split()[0]) for line in text.splitlines()[2:]], name="user_id", dtype="int64"
    )
    assert len(shown) == CUSTOMER_ROWS and set(shown) <= members
    # the shown people are the segment's biggest spenders, summed independently in SQL
    spend = dict(
        db.execute(
            f"SELECT user_id, ROUND(SUM(total), 2) FROM orders WHERE status NOT IN {INVALID} "
            "AND day <= ? GROUP BY user_id",
            (DEMO_AS_OF,),
        ).fetchall()
    )
    ranked = sorted(members, key=lambda u: (-spend[u], u))[:CUSTOMER_ROWS]
    assert shown.tolist() == ranked
    assert _data(rfm_dash, "grid", "image/png") != before_png
    assert _data(rfm_dash, "customers", "text/html") != before_table
    assert "At Risk" in _text(rfm_dash, "grid")
    assert not rfm_dash.controls["export"].disabled


def test_changing_as_of_recomputes_rfm(rfm_dash, db):
    rfm_dash.controls["segment"].value = "Champions"
    rfm_dash.controls["as_of"].value = dt.date(2025, 1, 1)
    buyers = _buyers(db, "2025-01-01")
    assert buyers < _buyers(db, DEMO_AS_OF)
    assert _text(rfm_dash, "status") == f"{buyers:,} customers with a valid order."
    assert rfm_dash.controls["segment"].value == "Champions"  # still a segment on that day
    assert "Segments on 2025-01-01" in _text(rfm_dash, "segments")


def test_an_as_of_before_every_order_is_shown_not_raised(rfm_dash):
    before = _text(rfm_dash, "customers")
    rfm_dash.controls["as_of"].value = dt.date(2020, 1, 1)
    assert "before every valid order" in _text(rfm_dash, "status")
    assert _text(rfm_dash, "customers") == before


def test_the_segment_map_picker_offers_lost(rfm_dash):
    assert "Lost" not in rfm_dash.controls["segment"].options[-1][0]
    rfm_dash.controls["segment_map"].value = sa.RFM_SEGMENTS_WITH_LOST
    values = [value for _, value in rfm_dash.controls["segment"].options]
    assert "Lost" in values
    assert "Lost" in _text(rfm_dash, "segments")


def test_a_custom_map_is_offered_and_used(demo_frames):
    _, orders = demo_frames
    two = {"Recent": "[45].", "Other": ".."}
    dash = sa.rfm_dashboard(orders, as_of=DEMO_AS_OF, segment_map=two)
    assert dash.controls["segment_map"].label == "Custom map"
    assert [v for _, v in dash.controls["segment"].options] == [ALL_SEGMENTS, "Recent", "Other"]
    assert dash.controls["export"].disabled  # no customers frame, no contacts to export


def test_the_export_button_writes_the_chosen_format_and_says_where(rfm_dash, tmp_path):
    rfm_dash.controls["segment"].value = "Champions"
    rfm_dash.controls["format"].value = "sms"
    rfm_dash.controls["export"].click()
    path = tmp_path / "exports" / "champions.sms.csv"
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["phone", "name"]
    assert all(r[0].startswith("8801") and len(r[0]) == 13 for r in rows[1:])
    status = _text(rfm_dash, "status")
    assert status.startswith(f"Wrote {len(rows) - 1:,} rows of Champions (sms) to {path}")
    # a second click refuses to overwrite, and says so; ticking Overwrite replaces the file
    rfm_dash.controls["export"].click()
    assert "Refusing to overwrite" in _text(rfm_dash, "status")
    rfm_dash.controls["overwrite"].value = True
    rfm_dash.controls["export"].click()
    assert _text(rfm_dash, "status").startswith("Wrote ")


def test_dashboards_leave_their_inputs_alone(demo_frames):
    customers, orders = demo_frames
    before = (customers.copy(), orders.copy())
    dash = sa.cohort_dashboard(orders, as_of=DEMO_AS_OF, customers=customers)
    dash.controls["metric"].value = "orders"
    sa.guest_dashboard(customers, orders, as_of=DEMO_AS_OF)
    pd.testing.assert_frame_equal(customers, before[0])
    pd.testing.assert_frame_equal(orders, before[1])


def test_cohort_dashboard_follows_period_and_metric(demo_frames, db):
    customers, orders = demo_frames
    dash = sa.cohort_dashboard(orders, as_of=DEMO_AS_OF, customers=customers)
    months = db.execute(
        "SELECT COUNT(DISTINCT substr(first, 1, 7)) FROM (SELECT MIN(day) AS first FROM orders "
        f"WHERE status NOT IN {INVALID} AND user_id IS NOT NULL GROUP BY user_id)"
    ).fetchone()[0]
    assert _text(dash, "status").startswith(f"{months:,} cohorts")
    heat, curves = _data(dash, "heatmap", "image/png"), _data(dash, "curves", "image/png")

    dash.controls["metric"].value = "ltv"
    assert _data(dash, "heatmap", "image/png") != heat
    assert _data(dash, "curves", "image/png") == curves  # curves do not depend on the metric

    dash.controls["period"].value = "Q"
    quarters = db.execute(
        "SELECT COUNT(DISTINCT substr(first, 1, 4) || ((CAST(substr(first, 6, 2) AS INT) + 2) / 3)) "
        f"FROM (SELECT MIN(day) AS first FROM orders WHERE status NOT IN {INVALID} "
        "AND user_id IS NOT NULL GROUP BY user_id)"
    ).fetchone()[0]
    assert _text(dash, "status").startswith(f"{quarters:,} cohorts")
    assert "2026Q3 is still running" in _text(dash, "status")
    assert _data(dash, "curves", "image/png") != curves


def test_cohort_dashboard_without_customers_offers_first_order_cohorts_only(demo_frames):
    _, orders = demo_frames
    dash = sa.cohort_dashboard(orders, as_of=DEMO_AS_OF)
    assert [v for _, v in dash.controls["by"].options] == ["first_order"]


def test_guest_dashboard_follows_the_window(demo_frames):
    customers, orders = demo_frames
    dash = sa.guest_dashboard(customers, orders, as_of=DEMO_AS_OF, window_days=30)
    funnel = _data(dash, "funnel", "image/png")
    first_30 = int(_text(dash, "status").split()[2].replace(",", ""))
    dash.controls["window_days"].value = 180
    first_180 = int(_text(dash, "status").split()[2].replace(",", ""))
    # guests whose first order is at least N days old: fewer for a longer window
    as_of = pd.Timestamp(DEMO_AS_OF)
    result = sa.guest_conversion(customers, orders, as_of=DEMO_AS_OF, window_days=180)
    first_orders = result.people.loc[
        result.people["group"].isin(["guest", "converted guest"]), "first_order_at"
    ]
    local = first_orders.dt.tz_convert("Asia/Dhaka").dt.tz_localize(None).dt.normalize()
    assert first_180 == int(((as_of - local).dt.days >= 180).sum())
    assert first_30 > first_180 > 0
    assert _data(dash, "funnel", "image/png") != funnel
    groups = _text(dash, "groups")
    assert groups.splitlines()[0] == "Buying people by group"
    assert [line.split()[0] for line in groups.splitlines()[2:]] == [
        "registered",
        "guest",
        "converted",
    ]
