"""A campaign's response simulated in the sandbox over HTTP, and measured by campaign_report."""

from __future__ import annotations

import json

import httpx
import pytest

import selorax_analytics as sa
from selorax_analytics.sandbox import DEMO_TOKEN

AS_OF = "2026-07-01"
ROUTE = "/_sandbox/campaigns/response"


@pytest.fixture(scope="module")
def store(sandbox_factory, tmp_path_factory):
    """A 6,000-customer store and a Hibernating campaign with half its people held out."""
    server = sandbox_factory(customers=6000)
    client = sa.Client(server.base_url, token=DEMO_TOKEN)
    customers, orders = sa.load_store(client, progress=False, refresh="full")
    rfm = sa.rfm_segments(orders, as_of=AS_OF)
    folder = tmp_path_factory.mktemp("campaign")
    result = sa.export_segment(rfm, "Hibernating", folder / "h.sms.csv", customers=customers,
                               format="sms", holdout=0.5, seed=2026)  # fmt: skip
    yield server, client, result, folder
    client.close()


def _simulate(server, record, **body):
    answer = httpx.post(server.base_url + ROUTE, json={"record": record, **body}, timeout=30)
    assert answer.status_code == 201, answer.text
    return answer.json()["data"]


def test_planted_lift_is_recovered_inside_its_interval(store):
    server, client, result, _ = store
    record = json.loads(result.campaign.read_text(encoding="utf-8"))
    people = record["counts"]["target"] + record["counts"]["holdout"]
    assert people > 1800  # about 2,000 people, half held out
    made = _simulate(server, record, target_rate=0.2, holdout_rate=0.1, days=20, seed=8)
    customers, orders = sa.load_store(client, progress=False)
    report = sa.campaign_report(result.campaign, orders, customers=customers, window_days=30)
    # The report finds every buyer and order the sandbox says it created, in each group.
    for group in ("target", "holdout"):
        assert report.groups.at[group, "buyers"] == made[group]["buyers"]
        assert report.groups.at[group, "orders"] == made[group]["orders"]
        assert report.groups.at[group, "revenue"] == pytest.approx(made[group]["revenue"])
    conversion = report.effects.loc["conversion"]
    assert conversion["low"] < 0.10 < conversion["high"]  # the planted 20 % - 10 %
    assert conversion["low"] > 0
    assert report.effects.loc["incremental_revenue", "low"] > 0
    assert report.verdict.startswith("Effect detected at 95% confidence")


def test_no_lift_reads_no_effect_detected(store):
    server, client, result, folder = store
    record = json.loads(result.campaign.read_text(encoding="utf-8"))
    # A second campaign to the same people, 60 days later, that changes nothing.
    record["sent_at"] = "2027-03-01T00:00:00+00:00"
    path = folder / "again.campaign.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    _simulate(server, record, target_rate=0.1, holdout_rate=0.1, days=20, seed=9)
    customers, orders = sa.load_store(client, progress=False)
    report = sa.campaign_report(path, orders, customers=customers, detectable_lift=0.5)
    conversion = report.effects.loc["conversion"]
    assert conversion["low"] < 0 < conversion["high"]
    assert report.verdict.startswith("No effect detected at 95% confidence")
    small = sa.campaign_report(path, orders, customers=customers)  # a 20 % lift needs more
    assert small.verdict.startswith("Groups too small to tell")


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"target_rate": 1.5, "holdout_rate": 0.1}, "target_rate"),
        ({"target_rate": 0.1, "holdout_rate": "x"}, "holdout_rate"),
        ({"target_rate": 0.1, "holdout_rate": 0.1, "days": 0}, "days"),
        ({"target_rate": 0.1, "holdout_rate": 0.1, "start": "soon"}, "start"),
    ],
)
def test_bad_requests_name_the_field(store, body, named):
    server, _, result, _ = store
    record = json.loads(result.campaign.read_text(encoding="utf-8"))
    answer = httpx.post(server.base_url + ROUTE, json={"record": record, **body}, timeout=30)
    assert answer.status_code == 400
    assert named in answer.json()["message"]


def test_a_body_without_a_record_is_refused(store):
    server = store[0]
    answer = httpx.post(server.base_url + ROUTE, json={"target_rate": 0.1}, timeout=30)
    assert answer.status_code == 400
    assert "record" in answer.json()["message"]


def test_the_public_helper_asks_the_demo_store_and_refuses_a_real_one(store, tmp_path):
    server, client, result, _ = store
    before = _order_count(server)
    made = sa.simulate_campaign_response(client, result.campaign, target_rate=0.05,
                                         holdout_rate=0.05, days=5, seed=4)  # fmt: skip
    after = _order_count(server)
    created = made["target"]["orders"] + made["holdout"]["orders"]
    assert created > 0
    assert after - before == created
    real = sa.Client("https://api.selorax.io", token="sx_at_notarealtoken0000")
    with pytest.raises(sa.DataError, match="Only the demo store can simulate"):
        sa.simulate_campaign_response(real, result.campaign, target_rate=0.1, holdout_rate=0.1)
    real.close()
    with pytest.raises(sa.DataError, match="refused the simulation: 'target_rate'"):
        sa.simulate_campaign_response(client, result.campaign, target_rate=2, holdout_rate=0.1)
    with pytest.raises(sa.DataError, match="Cannot read the campaign record"):
        sa.simulate_campaign_response(client, tmp_path / "none.json", target_rate=0.1,
                                      holdout_rate=0.1)  # fmt: skip


def _order_count(server) -> int:
    """The store's order count as the orders list reports it (``pagination.total``)."""
    page = httpx.get(
        server.base_url + "/api/apps/v1/orders",
        headers={"Authorization": f"Bearer {DEMO_TOKEN}"},
        params={"limit": 1},
        timeout=30,
    ).json()
    return int(page["pagination"]["total"])


def test_an_embedded_demo_store_that_played_a_response_is_cached_apart(sandbox_factory, tmp_path):
    # The embedded demo store is the same in every process, so its cache is shared; once it has
    # simulated orders, what it loads must never be served to another process as the demo data.
    from selorax_analytics.connection import mark_embedded_demo

    server = sandbox_factory(customers=400)
    client = mark_embedded_demo(sa.Client(server.base_url, token=DEMO_TOKEN))
    try:
        customers, orders = sa.load_store(client, progress=False, cache=tmp_path)
        rfm = sa.rfm_segments(orders, as_of=AS_OF)
        rfm.attrs["as_of"] = AS_OF
        sent = sa.export_segment(rfm, "Hibernating", tmp_path / "h.csv", customers=customers,
                                 holdout=0.5, seed=1)  # fmt: skip
        canonical = orders.attrs["selorax"]["cache_dir"]
        sa.simulate_campaign_response(client, sent.campaign, target_rate=0.5, holdout_rate=0.5,
                                      days=5, seed=2)  # fmt: skip
        _, played = sa.load_store(client, progress=False, cache=tmp_path, refresh="full")
        assert len(played) == _order_count(server) > len(orders)
        assert played.attrs["selorax"]["cache_dir"] != canonical
        # A fresh demo client (another process) reads the demo store's own data from the cache.
        other = mark_embedded_demo(sa.Client(server.base_url, token=DEMO_TOKEN))
        cached = sa.load_orders(other, progress=False, cache=tmp_path, refresh="never")
        other.close()
        assert len(cached) == len(orders)
    finally:
        client.close()
