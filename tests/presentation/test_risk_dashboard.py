"""The delivery risk dashboard: moving the threshold changes who is excluded and the saving."""

from __future__ import annotations

import pandas as pd
import pytest

import selorax_analytics as sa
from selorax_analytics.presentation.dashboards import Dashboard
from selorax_analytics.sandbox import DEMO_AS_OF

AS_OF = "2026-07-01"


def _small_store() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Ten people (no addresses). Eight took 3 COD parcels each; person 9 refused all 3 of
    theirs (shipping ৳60, ৳120, ৳120) and returned a prepaid bKash order (not COD); person 10
    refused 1 of 3 (shipping ৳60)."""
    rows = [(u, "delivered", "cod", 60.0) for u in range(1, 9) for _ in range(3)]
    rows += [(9, "returned", "cod", 60.0), (9, "failed", "cod", 120.0)]
    rows += [(9, "returned", "cod", 120.0), (9, "returned", "bkash", 60.0)]
    rows += [(10, "returned", "cod", 60.0), (10, "delivered", "cod", 60.0)]
    rows += [(10, "delivered", "cod", 60.0)]
    at = pd.Timestamp("2026-01-01 10:00", tz="UTC")
    orders = pd.DataFrame(
        {
            "user_id": [r[0] for r in rows],
            "order_status": [r[1] for r in rows],
            "payment_method": [r[2] for r in rows],
            "created_at": [at + pd.Timedelta(days=i) for i in range(len(rows))],
            "updated_at": [at + pd.Timedelta(days=i + 3) for i in range(len(rows))],
            "shipping": [r[3] for r in rows],
        }
    )
    customers = pd.DataFrame(
        {
            "user_id": range(1, 11),
            "phone": [f"017123{u:05d}" for u in range(1, 11)],
            "email": [None] * 10,
            "address_json": [None] * 10,
        }
    )
    return customers, orders


def _text(dash: Dashboard, name: str) -> str:
    (bundle,) = dash.outputs[name].outputs
    return bundle["data"]["text/plain"]


def test_the_saving_is_the_refused_parcels_shipping_both_ways():
    customers, orders = _small_store()
    dash = sa.delivery_risk_dashboard(customers, orders, as_of=AS_OF, threshold=0.95)
    assert isinstance(dash, Dashboard)
    assert _text(dash, "status").startswith("Above 95%: 0 people")
    # Person 9 (3 refusals of 3) is far riskier than the store; person 10 (1 of 3) less so
    # and still above a quarter; the eight who took every parcel are near 0.
    dash.controls["threshold"].value = 0.5
    assert _text(dash, "status") == (
        "Above 50%: 1 person, who refused 3 parcels (shipping both ways ৳ 600) and took 0 "
        "delivered cash-on-delivery orders."  # 2 x (60 + 120 + 120) = 600
    )
    dash.controls["threshold"].value = 0.25
    assert _text(dash, "status") == (
        "Above 25%: 2 people, who refused 4 parcels (shipping both ways ৳ 720) and took 2 "
        "delivered cash-on-delivery orders."  # 600 + 2 x 60 = 720
    )
    table = _text(dash, "excluded")
    assert table.startswith("The riskiest excluded people (of 2)")
    assert "৳ 600" in table and "৳ 120" in table


@pytest.fixture(scope="module")
def demo_risk(demo_frames):
    customers, orders = demo_frames
    dash = sa.delivery_risk_dashboard(customers, orders, as_of=DEMO_AS_OF)
    return dash, sa.delivery_risk(customers, orders, as_of=DEMO_AS_OF).people


@pytest.mark.parametrize("threshold", [0.2, 0.4, 0.6])
def test_moving_the_threshold_excludes_the_people_above_it(demo_risk, threshold):
    dash, people = demo_risk
    dash.controls["threshold"].value = threshold
    above = people.loc[people["risk"] > threshold]
    status = _text(dash, "status")
    who = "person" if len(above) == 1 else "people"
    assert status.startswith(f"Above {threshold:.0%}: {len(above):,} {who}, who refused ")
    assert f"refused {int(above['refused'].sum()):,} parcels" in status
    assert _text(dash, "excluded").startswith(f"The riskiest excluded people (of {len(above):,})")
    assert len(dash.outputs["people"].outputs) == 1  # the plot is redrawn, not piled up


def test_the_demo_threshold_orders_the_exclusions(demo_risk):
    dash, _ = demo_risk
    counts = []
    for threshold in (0.6, 0.4, 0.2):
        dash.controls["threshold"].value = threshold
        shown = _text(dash, "status").split(": ")[1].split(" ")[0]
        counts.append(int(shown.replace(",", "")))
    assert counts[0] < counts[1] < counts[2]  # a lower threshold leaves more people out
