"""Hold-out groups of campaign exports: stratified, reproducible, recorded beside the file."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import selorax_analytics as sa
from selorax_analytics.exports._holdout import draw_holdout

AS_OF = "2026-07-01"


@pytest.fixture(scope="module")
def store(demo_frames):
    customers, orders = demo_frames
    rfm = sa.rfm_segments(orders, as_of=AS_OF)
    rfm.attrs["as_of"] = AS_OF
    return rfm, customers


def _export(store, path, **options):
    rfm, customers = store
    return sa.export_segment(rfm, "Hibernating", path, customers=customers, **options)


def _record(result):
    return json.loads(result.campaign.read_text(encoding="utf-8"))


def test_hold_out_is_kept_out_of_the_file_and_recorded(store, tmp_path):
    everyone = _export(store, tmp_path / "all.csv")
    result = _export(store, tmp_path / "h.csv", holdout=0.1, seed=11)
    record = _record(result)
    target, held = record["groups"]["target"], record["groups"]["holdout"]
    # Both groups together are the people the file without a hold-out holds.
    written_all = set(pd.read_csv(everyone.path)["user_id"])
    written = set(pd.read_csv(result.path)["user_id"])
    held_users = {u for p in held for u in p["user_ids"]}
    target_users = {u for p in target for u in p["user_ids"]}
    assert written.isdisjoint(held_users)
    assert written <= target_users
    assert len(target) + len(held) == everyone.rows
    assert len(target) == result.rows == len(written)
    assert written_all - held_users == written
    # round(1587 * 0.1) with the rounding rule "half up", whatever the store's size is:
    assert len(held) == math.floor(everyone.rows * 0.1 + 0.5)
    assert record["seed"] == 11 and record["holdout"] == 0.1 and record["segment"] == "Hibernating"
    assert record["as_of"].startswith(AS_OF) and record["sent_at"].endswith("+00:00")
    manifest = json.loads(result.manifest_path.read_text())
    assert manifest["campaign"] == {"record": result.campaign.name, "held_out": len(held)}
    assert manifest["counts"]["skipped_people"] == 0  # held out is not "skipped"
    assert result.campaign.stat().st_mode & 0o777 == 0o600


def test_record_maps_every_record_of_a_person_back(store, tmp_path):
    customers = store[1]
    result = _export(store, tmp_path / "h.csv", holdout=0.2, seed=3)
    people = [*_record(result)["groups"]["target"], *_record(result)["groups"]["holdout"]]
    linked = sa.identities(customers)
    by_identity = linked.groupby("identity_id")["user_id"].apply(lambda s: sorted(s.astype(int)))
    for person in people:
        assert person["user_ids"] == by_identity[person["identity_id"]]
    assert any(len(p["user_ids"]) > 1 for p in people)  # the demo store plants duplicates
    assert all(p["phones"] or p["emails"] for p in people)


def test_each_rfm_cell_holds_out_within_one_person_of_its_share(store, tmp_path):
    result = _export(store, tmp_path / "h.csv", holdout=0.15, seed=5)
    groups = _record(result)["groups"]
    cells = pd.DataFrame(
        [(p["rfm_cell"], g) for g in ("target", "holdout") for p in groups[g]],
        columns=["cell", "group"],
    )
    table = pd.crosstab(cells["cell"], cells["group"])
    size = table.sum(axis=1)
    assert len(table) > 5
    assert ((table["holdout"] - 0.15 * size).abs() < 1).all()


def test_same_seed_same_groups_other_seed_other_groups(store, tmp_path):
    first = _record(_export(store, tmp_path / "a.csv", holdout=0.1, seed=42))
    again = _record(_export(store, tmp_path / "b.csv", holdout=0.1, seed=42))
    other = _record(_export(store, tmp_path / "c.csv", holdout=0.1, seed=43))
    ids = lambda r: [p["identity_id"] for p in r["groups"]["holdout"]]  # noqa: E731
    assert ids(first) == ids(again)
    assert ids(first) != ids(other)
    assert first["campaign_id"] != again["campaign_id"]


def test_without_a_seed_a_fresh_one_is_recorded(store, tmp_path):
    record = _record(_export(store, tmp_path / "a.csv", holdout=0.1))
    assert isinstance(record["seed"], int) and record["seed"] >= 0


def test_without_holdout_nothing_changes(store, tmp_path):
    result = _export(store, tmp_path / "a.csv")
    assert result.campaign is None
    assert not (tmp_path / "a.csv.campaign.json").exists()
    assert "campaign" not in json.loads(result.manifest_path.read_text())


def test_every_segment_gets_its_own_record(store, tmp_path):
    rfm, customers = store
    results = sa.export_segments(rfm, tmp_path, customers=customers, format="sms", holdout=0.5,
                                 seed=1)  # fmt: skip
    assert all(r.campaign and r.campaign.exists() for r in results.values())
    record = _record(results["Champions"])
    assert record["segment"] == "Champions" and record["format"] == "sms"


@pytest.mark.parametrize("holdout", [0, 1, -0.1, 1.5, float("nan"), "0.1", True])
def test_bad_holdout_is_named(store, tmp_path, holdout):
    with pytest.raises(sa.DataError, match="`holdout` must be a share strictly between 0 and 1"):
        _export(store, tmp_path / "x.csv", holdout=holdout)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("seed", [-1, 1.5, "7", 2**60])
def test_bad_seed_is_named(store, tmp_path, seed):
    with pytest.raises(sa.DataError, match=f"`seed` must be a whole number.*got {seed!r}"):
        _export(store, tmp_path / "x.csv", holdout=0.1, seed=seed)


def test_an_existing_record_is_refused(store, tmp_path):
    (tmp_path / "h.csv.campaign.json").write_text("{}")
    with pytest.raises(sa.OutputExistsError, match=r"campaign\.json"):
        _export(store, tmp_path / "h.csv", holdout=0.1, seed=1)
    assert not (tmp_path / "h.csv").exists()


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 30), min_size=1, max_size=8),
    holdout=st.floats(0.01, 0.99),
    seed=st.integers(0, 2**32),
)
def test_draw_keeps_every_stratum_within_one_person(sizes, holdout, seed):
    cells = pd.Series(
        [f"c{i}" for i, n in enumerate(sizes) for _ in range(n)],
        index=pd.Index(range(100, 100 + sum(sizes)), dtype="int64"),
    )
    held = draw_holdout(cells, holdout, seed)
    assert len(held) == math.floor(len(cells) * holdout + 0.5)
    counts = cells.loc[held].value_counts().reindex(cells.unique(), fill_value=0)
    share = cells.value_counts() * holdout
    assert ((counts - share.reindex(counts.index)).abs() < 1).all()
    assert held.equals(draw_holdout(cells, holdout, seed))


def test_risky_people_leave_before_the_hold_out_is_drawn(store, demo_frames, tmp_path):
    customers, orders = demo_frames
    risk = sa.delivery_risk(customers, orders, as_of=AS_OF)
    everyone = _export(store, tmp_path / "all.csv")
    safe = _export(store, tmp_path / "safe.csv", risk=risk, exclude_risk_above=0.2)
    both = _export(
        store, tmp_path / "both.csv", holdout=0.1, seed=3, risk=risk, exclude_risk_above=0.2
    )
    record = _record(both)
    groups = record["groups"]["target"] + record["groups"]["holdout"]
    # Neither group holds a risky person: the draw is among the people the safe file holds.
    assert len(groups) == safe.rows < everyone.rows
    assert len(record["groups"]["holdout"]) == math.floor(safe.rows * 0.1 + 0.5)
    manifest = json.loads(both.manifest_path.read_text())
    excluded = manifest["delivery_risk"]["excluded_people"]
    assert (
        excluded == json.loads(safe.manifest_path.read_text())["delivery_risk"]["excluded_people"]
    )
    assert excluded > 0 and manifest["campaign"]["held_out"] == len(record["groups"]["holdout"])
