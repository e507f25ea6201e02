"""Cash-on-delivery risk: hand-computed shrinkage, the prior's fit, and the demo store's plants."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import selorax_analytics as sa
from selorax_analytics.analytics._places import normalize_places
from selorax_analytics.analytics.delivery_risk import BetaPrior, fit_beta_binomial, posterior
from selorax_analytics.sandbox import DEMO_AS_OF, DEMO_TOKEN, refusals


def test_posterior_mean_by_hand():
    # Beta(2, 18) prior, 1 failure in 1 order: (2 + 1) / (2 + 18 + 1) = 3 / 21.
    mean, low, high = posterior(np.array([1]), np.array([1]), BetaPrior(2, 18), interval=0.9)
    assert mean[0] == pytest.approx(3 / 21)
    # 0 failures in 0 orders leave the prior mean 2 / 20; the interval brackets it.
    mean0, low0, high0 = posterior(np.array([0]), np.array([0]), BetaPrior(2, 18), interval=0.9)
    assert mean0[0] == pytest.approx(0.1) and low0[0] < 0.1 < high0[0]
    assert low[0] < 3 / 21 < high[0]


@pytest.mark.parametrize("method", ["ml", "moments"])
def test_fit_recovers_a_planted_beta_binomial(method):
    rng = np.random.default_rng(7)
    chance = rng.beta(2.0, 18.0, size=4000)  # mean 0.1, alpha + beta = 20
    trials = rng.integers(5, 30, size=4000)
    failures = rng.binomial(trials, chance)
    prior = fit_beta_binomial(failures, trials, method=method)
    assert prior.mean == pytest.approx(0.1, abs=0.005)
    assert prior.alpha + prior.beta == pytest.approx(20, rel=0.25)


def test_fit_refuses_bad_counts():
    with pytest.raises(sa.DataError, match="between 0 and `trials`"):
        fit_beta_binomial([3], [2])
    with pytest.raises(sa.DataError, match="nothing to fit"):
        fit_beta_binomial([0], [0])
    with pytest.raises(sa.DataError, match="`method`"):
        fit_beta_binomial([1], [2], method="bayes")  # type: ignore[arg-type]


def test_places_are_normalised():
    got = normalize_places(
        pd.Series([" mirpur  ", "MIRPUR", "মিরপুর", "Chittagong", "shaheb  bazar", None, " "])
    )
    assert got.iloc[:5].tolist() == ["Mirpur", "Mirpur", "Mirpur", "Chattogram", "Shaheb Bazar"]
    assert got.iloc[5:].isna().all()


def _hand_store():
    address = json.dumps({"address": "House 1", "city": "ঢাকা", "area": "mirpur "})
    customers = pd.DataFrame(
        {
            "user_id": [1, 2, 3],
            "phone": ["01712345678", "+880 1712-345678", "01812345678"],
            "email": [None, None, None],
            "address_json": [address, None, None],
        }
    )
    at = pd.Timestamp("2026-01-01 10:00", tz="UTC")
    rows = [  # user, status, payment, hours to the last change, shipping
        (1, "delivered", "cod", 48, 60.0),
        (2, "returned", "cod", 200, 120.0),  # the same person (phone) on a guest record
        (1, "cancelled", "cod", 0.5, 60.0),  # before confirmation: not counted
        (1, "cancelled", "cod", 30, 60.0),  # after confirmation: failed
        (1, "returned", "bkash", 100, 60.0),  # prepaid: not cash on delivery
        (3, "pending", "cod", 1, 60.0),  # open
    ]
    orders = pd.DataFrame(
        {
            "user_id": [r[0] for r in rows],
            "order_status": [r[1] for r in rows],
            "payment_method": [r[2] for r in rows],
            "created_at": [at + pd.Timedelta(days=i) for i in range(len(rows))],
            "updated_at": [at + pd.Timedelta(days=i, hours=r[3]) for i, r in enumerate(rows)],
            "shipping": [r[4] for r in rows],
        }
    )
    return customers, orders


def test_hand_counts_per_person_and_area():
    customers, orders = _hand_store()
    risk = sa.delivery_risk(customers, orders, as_of="2026-07-01")
    person = risk.people.set_index("identity_id").loc[1]
    assert (person["cod_orders"], person["delivered"], person["refused"]) == (4, 1, 1)
    assert (person["cancelled_after_confirmation"], person["settled"], person["failed"]) == (
        1,
        3,
        2,
    )
    assert person["shipping_lost"] == 240.0  # one refused parcel, ৳120 each way
    a, b = risk.people_prior.alpha, risk.people_prior.beta
    assert person["risk"] == pytest.approx((a + 2) / (a + b + 3))
    # The person's latest COD order sits on record 1, written "ঢাকা" / "mirpur ".
    assert (person["city"], person["area"]) == ("Dhaka", "Mirpur")
    assert risk.areas[["city", "area"]].values.tolist() == [["Dhaka", "Mirpur"]]


def test_bad_input():
    customers, orders = _hand_store()
    with pytest.raises(sa.DataError, match="interval"):
        sa.delivery_risk(customers, orders, as_of="2026-07-01", interval=1.5)
    with pytest.raises(sa.DataError, match="payment_method"):
        sa.delivery_risk(customers, orders.drop(columns="payment_method"), as_of="2026-07-01")
    with pytest.raises(sa.DataError, match="No settled"):
        sa.delivery_risk(customers, orders, as_of="2025-07-01")


# -- the demo store over HTTP -------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo_risk(sandbox):
    client = sa.Client(sandbox.base_url, token=DEMO_TOKEN)
    customers, orders = sa.load_store(client, cache=False, progress=False)
    return customers, orders, sa.delivery_risk(customers, orders, as_of=DEMO_AS_OF)


def test_planted_risky_areas_rank_on_top(demo_risk):
    *_, risk = demo_risk
    top = set(risk.areas["area"].head(len(refusals.RISKY_AREAS)))
    assert top == set(refusals.RISKY_AREAS)
    # Every spelling of a place is one row: 8 cities, each area once.
    assert risk.areas["city"].nunique() == 8
    assert not risk.areas.duplicated(["city", "area"]).any()


def test_serial_refusers_are_found(demo_risk, demo_store):
    _, _, risk = demo_risk
    planted = set(demo_store.serial_refusers)
    assert len(planted) >= 10
    ranked = risk.people["identity_id"]
    # A serial refuser's identity is their main record (duplicates' guest records come later).
    # Some planted people drew few refusals and look ordinary; most rank near the top.
    assert len(planted & set(ranked.head(2 * len(planted)))) >= 0.7 * len(planted)
    flagged = set(risk.people.loc[risk.people["risk"] > 0.4, "identity_id"])
    assert len(flagged & planted) >= 0.55 * len(flagged)
    mean_planted = risk.people.loc[ranked.isin(planted), "risk"].mean()
    assert mean_planted > 2 * risk.people_prior.mean


def test_first_cod_orders_fail_more_often_in_sql(sandbox):
    # Plain SQL over the sandbox's own database: settled COD orders, numbered per record.
    rows = sandbox.db.query(
        """
        WITH cod AS (
            SELECT user_id, order_status IN ('returned', 'failed') AS refused,
                   ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY created_at, order_id) AS nth
            FROM orders
            WHERE store_id = 22 AND payment_method = 'cod'
              AND order_status IN ('delivered', 'returned', 'failed')
        )
        SELECT nth = 1 AS first, AVG(refused) AS rate, COUNT(*) AS n FROM cod GROUP BY nth = 1
        """
    )
    rate = {bool(r["first"]): r["rate"] for r in rows}
    assert rate[True] > rate[False]


def test_export_leaves_risky_people_out(demo_risk, tmp_path):
    customers, orders, risk = demo_risk
    rfm = sa.rfm_segments(orders, as_of=DEMO_AS_OF)
    segment = "Hibernating"
    full = sa.export_segment(rfm, segment, tmp_path / "all.csv", customers=customers)
    cut = sa.export_segment(
        rfm, segment, tmp_path / "cut.csv", customers=customers, risk=risk, exclude_risk_above=0.4
    )
    manifest = json.loads(cut.manifest_path.read_text())
    excluded = manifest["delivery_risk"]["excluded_people"]
    # Independently: the segment's people (by identity) whose risk is above 0.4.
    people = sa.identities(customers)[["user_id", "identity_id"]]
    in_segment = people.merge(rfm.loc[rfm["segment"] == segment, ["user_id"]], on="user_id")
    risky = set(risk.people.loc[risk.people["risk"] > 0.4, "identity_id"])
    assert excluded == len(set(in_segment["identity_id"]) & risky) > 0
    assert manifest["delivery_risk"]["exclude_risk_above"] == 0.4
    assert full.rows - cut.rows == excluded
    with pytest.raises(sa.DataError, match="needs `risk`"):
        sa.export_segment(
            rfm, segment, tmp_path / "x.csv", customers=customers, exclude_risk_above=0.4
        )


def test_a_store_without_addresses_has_people_but_no_areas():
    customers, orders = _hand_store()
    customers["address_json"] = None  # every address missing (an all-missing column)
    risk = sa.delivery_risk(customers, orders, as_of="2026-07-01")
    assert risk.areas.empty
    assert risk.areas_prior == risk.people_prior
    person = risk.people.set_index("identity_id").loc[1]
    assert (person["settled"], person["failed"]) == (3, 2)  # as with addresses
    assert pd.isna(person["city"]) and pd.isna(person["area"])


# -- what a person reads ------------------------------------------------------------------------
def hand_risk(*, areas: bool = True) -> sa.DeliveryRisk:
    """Two people (2 of 5 and 0 of 5 settled orders failed) and one area, numbers set by hand."""
    nan = float("nan")
    people = pd.DataFrame(
        {
            "identity_id": [7, 12],
            "city": ["Dhaka", None],
            "area": ["Mirpur", None],
            "cod_orders": [6, 1234],
            "delivered": [3, 5],
            "refused": [2, 0],
            "cancelled_after_confirmation": [0, 0],
            "settled": [5, 5],
            "failed": [2, 0],
            "observed_rate": [0.4, 0.0],
            "risk": [0.3, 0.1],
            "risk_low": [0.12, 0.02],
            "risk_high": [0.5, nan],
            "last_failed_at": pd.to_datetime(["2026-03-01 20:30", None], utc=True),
            "shipping_lost": [240.0, 0.0],
        }
    )
    people.attrs["interval"] = 0.8
    area = people.iloc[:1].drop(columns="identity_id").assign(people=1234)
    area = area[["city", "area", "people", *area.columns[2:-1]]]
    return sa.DeliveryRisk(
        people=people,
        areas=area if areas else area.iloc[:0],
        people_prior=BetaPrior(1.0, 3.0),
        areas_prior=BetaPrior(2.0, 8.0),
        as_of="2026-07-01",
        interval=0.8,
    )


def test_summary_says_the_store_rate_the_prior_and_the_riskiest_area():
    risk = hand_risk()
    # Failed 2 + 0 of settled 5 + 5: 20.0%. Beta(1, 3): worth 1 + 3 = 4 orders, mean 1/4 = 25%;
    # after one refusal (1 + 1) / (4 + 1) = 40%. Areas prior Beta(2, 8): 2/10 = 20%.
    assert risk.summary().splitlines() == [
        "Across the store 20.0% of settled cash-on-delivery orders failed up to 2026-07-01 "
        "(2 of 10: refused, returned or cancelled after confirmation), placed by 2 people.",
        "The model treats a new person as if they had about 4 orders of that history, so one "
        "refusal moves a person's risk from 25% to 40%, not to 100%.",
        "Of 1 area the riskiest is Mirpur, Dhaka: 30% (80% interval 12% to 50%), against 20% "
        "for an area with no history.",
    ]
    assert str(risk) == risk.summary()
    assert repr(risk).startswith("<DeliveryRisk as of 2026-07-01: 2 people, 1 area. Across")
    assert "BetaPrior" not in repr(risk) and "alpha" not in risk.summary()
    assert risk._repr_html_().count("<p>") == 3
    assert repr(risk.people_prior) == "BetaPrior(alpha=1.0, beta=3.0)"  # the numbers stay


def test_summary_without_areas_says_so():
    last = hand_risk(areas=False).summary().splitlines()[-1]
    assert last == "No settled order has an address: there is no risk by area."


def test_export_result_names_the_people_the_risk_threshold_left_out(tmp_path):
    from selorax_analytics.exports.segments import ExportResult

    skipped = pd.DataFrame(
        {"identity_id": [4], "user_id": [4], "field": ["person"], "value": [None],
         "reason": ["no valid phone or e-mail"]}
    )  # fmt: skip
    result = ExportResult(
        tmp_path / "c.csv", tmp_path / "c.csv.manifest.json", "Champions", "csv", 1_250,
        skipped, risk_threshold=0.4, risk_excluded=1_234,
    )  # fmt: skip
    assert repr(result) == (
        "<ExportResult 'Champions' as csv: 1,250 rows in c.csv, 1 people left out for their "
        "contacts, 1,234 with a cash-on-delivery risk above 40%>"
    )
    assert result.summary()["left_out_for_risk"] == "1,234 with a cash-on-delivery risk above 40%"
    assert "left out for risk</th><td style='text-align:left'>1,234 with" in result._repr_html_()
    plain = ExportResult(tmp_path / "c.csv", tmp_path / "m", "Champions", "csv", 3, skipped)
    assert repr(plain).endswith("3 rows in c.csv, 1 people left out>")
    assert "left_out_for_risk" not in plain.summary()


def test_export_result_counts_the_risky_people_its_manifest_counts(demo_risk, tmp_path):
    customers, orders, risk = demo_risk
    rfm = sa.rfm_segments(orders, as_of=DEMO_AS_OF)
    cut = sa.export_segment(
        rfm, "Hibernating", tmp_path / "cut.csv", customers=customers, risk=risk,
        exclude_risk_above=0.4,
    )  # fmt: skip
    excluded = json.loads(cut.manifest_path.read_text())["delivery_risk"]["excluded_people"]
    assert cut.risk_excluded == excluded > 0 and cut.risk_threshold == 0.4
    assert f"{excluded:,} with a cash-on-delivery risk above 40%>" in repr(cut)
