"""What a person reads of a campaign: the sentences of a hand-built report and campaign.

The report here is built by hand (the demo store's numbers: 152 of 793 targeted people bought,
83 of 794 held out), so each expected sentence is written out from the rules, not taken from
campaign_report.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

import selorax_analytics as sa
from selorax_analytics.analytics.campaigns.records import campaign_from_record
from tests.analytics.test_campaigns import _record

VERDICT = (
    "Effect detected at 95% confidence: conversion 19.2% in the target against 10.5% in the "
    "hold-out, 8.7 points more (interval +5.2 to +12.2 points)."
)


def hand_groups() -> pd.DataFrame:
    groups = pd.DataFrame(
        {
            "people": [793, 794],
            "buyers": [152, 83],
            "orders": [167, 91],
            "revenue": [643319.92, 310157.27],
            "conversion": [152 / 793, 83 / 794],  # 0.191677, 0.104534
            "orders_per_person": [167 / 793, 91 / 794],
            "revenue_per_person": [643319.92 / 793, 310157.27 / 794],  # 811.248, 390.626
            "conversion_low": [0.165793, 0.085123],
            "conversion_high": [0.220534, 0.127753],
            "orders_per_person_low": [0.179, 0.0907],
            "orders_per_person_high": [0.245, 0.14],
            "revenue_per_person_low": [640.6, 272.4],
            "revenue_per_person_high": [990.9, 529.6],
        },
        index=pd.Index(["target", "holdout"], name="group"),
    )
    groups.attrs["confidence"] = 0.95
    return groups


def hand_effects() -> pd.DataFrame:
    columns = ["target", "holdout", "difference", "low", "high", "relative", "relative_low",
               "relative_high", "p_value"]  # fmt: skip
    effects = pd.DataFrame(
        [
            [0.191677, 0.104534, 0.087143, 0.052371, 0.121921, 0.833635, 0.429832, 1.351476, 1e-6],
            [0.210593, 0.114610, 0.095983, 0.056910, 0.136327, 0.837479, 0.436118, 1.420985, 0.0123],
            [811.248323, 390.626285, 420.622038, 191.473049, 637.086845, 1.076789, 0.399872,
             2.146821, 0.00018],
            [643319.92, 309766.64, 333553.28, 151838.13, 505209.87, 1.076789, 0.399872, 2.146821,
             0.00018],
        ],
        columns=columns,
        index=["conversion", "orders_per_person", "revenue_per_person", "incremental_revenue"],
    )  # fmt: skip
    effects["method"] = pd.array(
        ["Newcombe hybrid score interval; pooled two-proportion z-test",
         "percentile bootstrap, 2000 resamples; Welch t-test",
         "percentile bootstrap, 2000 resamples; Welch t-test",
         "revenue per person difference x targeted people"],
        dtype="str",
    )  # fmt: skip
    effects.attrs["confidence"] = 0.95
    return effects


def hand_report(*, people_needed: int = 3654, verdict: str = VERDICT) -> sa.CampaignReport:
    sent = pd.Timestamp("2026-07-01T10:00:00+00:00")
    return sa.CampaignReport(
        campaign_from_record(_record(3, 1)), sent, sent + pd.Timedelta(days=30), 0.95, 0.2,
        hand_groups(), hand_effects(), people_needed, verdict,
    )  # fmt: skip


def test_sample_size_and_methods_are_sentences():
    report = hand_report()
    assert report.sample_size == (
        "To detect a 20% relative lift in conversion at 80% power and 95% confidence, each "
        "group needs about 3,654 people; this test had 793 targeted and 794 held out."
    )
    assert report.methods == (
        "Methods: conversion by the Newcombe hybrid score interval and a pooled two-proportion "
        "z-test (each group's own: Wilson); orders and revenue per person by a percentile "
        "bootstrap of 2,000 resamples and Welch's t-test; incremental revenue is the "
        "revenue-per-person difference times the 793 targeted people."
    )


def test_nobody_bought_says_the_size_cannot_be_told():
    report = hand_report(people_needed=0, verdict="Groups too small to tell: nobody bought.")
    assert report.sample_size == (
        "Nobody bought in either group, so the people a test needs cannot be sized; this test "
        "had 793 targeted and 794 held out."
    )


def test_summary_str_repr_and_html():
    report = hand_report(verdict="Effect <detected> & more.")
    assert str(report).splitlines() == [report.verdict, report.sample_size, report.methods]
    assert repr(report) == (
        "<CampaignReport At Risk by sms: 793 targeted, 794 held out. Effect <detected> & more.>"
    )
    html = report._repr_html_()
    assert html.startswith("<p>Effect &lt;detected&gt; &amp; more.</p><p>To detect a 20%")
    assert html.count("<p>") == 3


def test_a_campaign_reads_as_one_line(tmp_path):
    campaign = campaign_from_record(_record(3, 1))  # 3 targeted, 1 held out: 1 of 4 is 25 %
    assert str(campaign) == "At Risk by sms: 3 people targeted, 1 held out (25%), seed 1"
    assert (
        repr(campaign) == "<Campaign At Risk by sms: 3 people targeted, 1 held out (25%), seed 1>"
    )
    path = tmp_path / "at_risk.sms.csv.campaign.json"
    path.write_text(json.dumps(_record(3, 1)), encoding="utf-8")
    read = sa.read_campaign(path)
    assert read.record == path
    assert read.summary() == (
        "At Risk by sms: 3 people targeted, 1 held out (25%), seed 1, "
        "record at_risk.sms.csv.campaign.json"
    )
    assert read._repr_html_() == f"<p>{read.summary()}</p>"
    assert "campaign_id" not in repr(read) and "2026" not in repr(read)  # no run-to-run values


def test_the_report_of_real_orders_reads_the_same_way():
    from tests.analytics.test_campaigns import _orders

    # 30 of 200 targeted bought, 15 of 200 held out; the power calculation at a base of
    # 7.5 % sizes each group at thousands of people, more than the 200 here.
    orders = _orders([*range(1, 31), *range(10001, 10016)])
    report = sa.campaign_report(campaign_from_record(_record(200, 200)), orders)
    assert report.sample_size.endswith("this test had 200 targeted and 200 held out.")
    assert f"{report.people_needed:,} people;" in report.sample_size
    assert report.groups.attrs["confidence"] == report.effects.attrs["confidence"] == 0.95
    assert report.groups["conversion"].tolist() == pytest.approx([0.15, 0.075])  # still numbers
