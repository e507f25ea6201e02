"""Campaign reports: hand-computed 2 x 2 tables, the power formula, matching people, verdicts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import selorax_analytics as sa
from selorax_analytics.analytics.campaigns import statistics as st
from selorax_analytics.analytics.campaigns.records import campaign_from_record

SENT = "2026-07-01T10:00:00+00:00"


def _record(target: int, holdout: int, *, seed: int = 1, extra: dict | None = None) -> dict:
    """Target people have user_id 1.., hold-out people 10001..; one record each."""

    def person(uid: int) -> dict:
        return {"identity_id": uid, "user_ids": [uid], "phones": [f"+88017{uid:08d}"],
                "emails": [], "rfm_cell": "111"}  # fmt: skip

    return {
        "campaign_id": "c1", "segment": "At Risk", "format": "sms", "sent_at": SENT,
        "as_of": "2026-07-01", "holdout": 0.5, "seed": seed,
        "groups": {"target": [person(u) for u in range(1, target + 1)],
                   "holdout": [person(u) for u in range(10001, 10001 + holdout)]},
        **(extra or {}),
    }  # fmt: skip


def _orders(buyers: list[int], *, total: float = 1000.0, days: float = 3.0) -> pd.DataFrame:
    created = pd.Timestamp(SENT) + pd.Timedelta(days=days)
    return pd.DataFrame(
        {
            "order_id": pd.array(range(1, len(buyers) + 1), dtype="Int64"),
            "user_id": pd.array(buyers, dtype="Int64"),
            "created_at": pd.DatetimeIndex([created] * len(buyers)).as_unit("us"),
            "grand_total": np.full(len(buyers), total),
            "order_status": pd.array(["delivered"] * len(buyers), dtype="str"),
        }
    )


def test_wilson_matches_a_hand_computation_and_scipy():
    # 30/200, z = 1.959964: centre (0.15 + z²/400) / (1 + z²/200) = 0.156596, half-width
    # z * sqrt(0.15 * 0.85 / 200 + z²/160000) / (1 + z²/200) = 0.049460 -> 0.107136 to 0.206056.
    low, high = st.wilson_interval(30, 200, 0.95)
    assert low == pytest.approx(0.107136, abs=2e-6)
    assert high == pytest.approx(0.206056, abs=2e-6)
    ci = stats.binomtest(30, 200).proportion_ci(0.95, method="wilson")
    assert (low, high) == pytest.approx((ci.low, ci.high), abs=1e-9)


def test_newcombe_difference_matches_a_hand_computation():
    # Wilson 30/200: (0.107136, 0.206056); 15/200: (0.045975, 0.120044); d = 0.075.
    # low  = 0.075 - sqrt((0.15 - 0.107136)² + (0.120044 - 0.075)²) = 0.075 - 0.062180 = 0.012820
    # high = 0.075 + sqrt((0.206056 - 0.15)² + (0.075 - 0.045975)²) = 0.075 + 0.063125 = 0.138125
    low, high = st.newcombe_interval((30, 15), (200, 200), 0.95)
    assert low == pytest.approx(0.012820, abs=1e-5)
    assert high == pytest.approx(0.138125, abs=1e-5)


def test_two_proportion_p_value_is_the_uncorrected_chi_square():
    # pooled 45/400; z = 0.075 / sqrt(0.1125 * 0.8875 * 2 / 200) = 2.3736, p = 0.0176
    p = st.two_proportion_p_value((30, 15), (200, 200))
    table = [[30, 170], [15, 185]]
    assert p == pytest.approx(stats.chi2_contingency(table, correction=False).pvalue, rel=1e-9)
    assert p == pytest.approx(0.0176, abs=1e-4)


def test_people_needed_matches_the_published_table():
    # Fleiss' formula without continuity correction, p1 = 0.10, p2 = 0.15, alpha 0.05 two-sided,
    # power 0.80: 686 per group (as in Fleiss, Levin & Paik's tables and common calculators).
    assert st.people_needed(0.10, 0.5, confidence=0.95, power=0.8) == 686
    # p1 = 0.5, p2 = 0.6: (1.95996 * sqrt(2 * 0.55 * 0.45) + 0.84162 * sqrt(0.25 + 0.24)) ** 2
    # / 0.1 ** 2 = (1.37895 + 0.58914) ** 2 / 0.01 = 387.3, so 388 per group.
    assert st.people_needed(0.5, 0.2, confidence=0.95) == 388
    assert st.people_needed(0.0, 0.2, confidence=0.95) == 0


def test_report_of_a_two_by_two_table():
    campaign = campaign_from_record(_record(200, 200))
    # 30 target buyers (one order of 1,000 each), 15 hold-out buyers; one order before the send
    # and one cancelled order do not count.
    orders = _orders([*range(1, 31), *range(10001, 10016)])
    early = _orders([31], days=-1)
    cancelled = _orders([32]).assign(order_status=pd.array(["cancelled"], dtype="str"))
    report = sa.campaign_report(campaign, pd.concat([orders, early, cancelled], ignore_index=True))
    groups = report.groups
    assert groups.loc["target", ["people", "buyers", "orders"]].tolist() == [200, 30, 30]
    assert groups.loc["holdout", ["people", "buyers", "orders"]].tolist() == [200, 15, 15]
    row = report.effects.loc["conversion"]
    assert row["difference"] == pytest.approx(0.075)
    assert (row["low"], row["high"]) == pytest.approx((0.012820, 0.138125), abs=1e-5)
    assert row["relative"] == pytest.approx(1.0)  # 15 % against 7.5 %
    revenue = report.effects.loc["revenue_per_person"]
    assert revenue["difference"] == pytest.approx(75.0)  # 30,000 / 200 - 15,000 / 200
    assert revenue["low"] < 75 < revenue["high"]
    incremental = report.effects.loc["incremental_revenue"]
    assert incremental["difference"] == pytest.approx(75.0 * 200)
    assert incremental["low"] == pytest.approx(revenue["low"] * 200)
    assert report.verdict.startswith("Effect detected at 95% confidence")


def test_bootstrap_is_reproducible_with_the_campaign_seed():
    orders = _orders([*range(1, 31), *range(10001, 10016)])
    a = sa.campaign_report(campaign_from_record(_record(200, 200, seed=5)), orders)
    b = sa.campaign_report(campaign_from_record(_record(200, 200, seed=5)), orders)
    c = sa.campaign_report(campaign_from_record(_record(200, 200, seed=6)), orders)
    assert a.effects.equals(b.effects)
    assert a.effects.loc["revenue_per_person", "low"] != c.effects.loc["revenue_per_person", "low"]


def test_window_ends_after_window_days():
    campaign = campaign_from_record(_record(10, 10))
    orders = pd.concat([_orders([1], days=6.9), _orders([2], days=7.0)], ignore_index=True)
    report = sa.campaign_report(campaign, orders, window_days=7)
    assert report.groups.at["target", "buyers"] == 1
    assert report.window_end - report.window_start == pd.Timedelta(days=7)


def test_a_guest_record_of_a_targeted_person_counts_through_identities():
    campaign = campaign_from_record(_record(3, 3))
    # user 501 is a new guest record with target person 2's phone; 502 shares nothing.
    customers = pd.DataFrame(
        {
            "user_id": pd.array([1, 2, 3, 501, 502], dtype="Int64"),
            "phone": pd.array(
                ["+8801700000001", "01700000002", None, "017-0000-0002", "01999999999"], dtype="str"
            ),
            "email": pd.array([None] * 5, dtype="str"),
        }
    )
    orders = _orders([501, 502])
    without = sa.campaign_report(campaign, orders)
    with_customers = sa.campaign_report(campaign, orders, customers=customers)
    assert without.groups.at["target", "buyers"] == 0
    assert with_customers.groups.at["target", "buyers"] == 1
    assert with_customers.groups.at["holdout", "buyers"] == 0


def test_equal_groups_read_no_effect_or_too_small():
    orders = _orders([*range(1, 101), *range(10001, 10101)])
    big = sa.campaign_report(campaign_from_record(_record(1000, 1000)), orders,
                             detectable_lift=0.5)  # fmt: skip
    assert big.verdict.startswith("No effect detected at 95% confidence")
    assert big.people_needed == 686  # 10 % against 15 %, as the published table
    small = sa.campaign_report(campaign_from_record(_record(1000, 1000)), orders)
    assert small.verdict.startswith("Groups too small to tell")
    assert f"{small.people_needed:,} people" in small.verdict
    assert small.people_needed > 1000


def test_read_campaign_errors_name_the_file(tmp_path):
    with pytest.raises(sa.DataError, match="No campaign record at"):
        sa.read_campaign(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(sa.DataError, match="not a readable campaign record"):
        sa.read_campaign(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text('{"file": "x"}')
    with pytest.raises(sa.DataError, match="lacks"):
        sa.read_campaign(tmp_path / "other.json")


@pytest.mark.parametrize(
    ("option", "value"),
    [("window_days", 0), ("window_days", 1.5), ("confidence", 1), ("detectable_lift", -0.1)],
)
def test_bad_options_are_named(option, value):
    campaign = campaign_from_record(_record(5, 5))
    with pytest.raises(sa.DataError, match=f"`{option}`"):
        sa.campaign_report(campaign, _orders([1]), **{option: value})


def test_katz_relative_interval_holds_the_ratio():
    report = sa.campaign_report(campaign_from_record(_record(200, 200)),
                                _orders([*range(1, 31), *range(10001, 10016)]))  # fmt: skip
    row = report.effects.loc["conversion"]
    # log(2) ± 1.959964 * sqrt(1/30 - 1/200 + 1/15 - 1/200) = 0.693147 ± 1.959964 * 0.3
    # = 0.693147 ± 0.587989 -> exp(0.105158) - 1 = 0.1109, exp(1.281136) - 1 = 2.6007
    assert row["relative_low"] == pytest.approx(0.1109, abs=1e-4)
    assert row["relative_high"] == pytest.approx(2.6007, abs=1e-4)
