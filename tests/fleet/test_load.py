"""Loading a fleet over real HTTP from a multi-store sandbox: per store exactly a single load,
failures kept to their store, one budget of requests in flight, and ``fleet fetch``."""

from __future__ import annotations

import dataclasses
import json
import socket

import duckdb
import pandas as pd
import pytest

import selorax_analytics as sa
from selorax_analytics.cli._main import main
from selorax_analytics.fleet.dataset import dataset_stores, read_manifest, read_store_frame
from selorax_analytics.fleet.load import _close
from selorax_analytics.sandbox import Faults, Sandbox

STORES = 4


@pytest.fixture(scope="module")
def fleet_sandbox():
    server = Sandbox(stores=STORES)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fleet_file(fleet_sandbox, tmp_path, monkeypatch):
    """A fleet file naming the sandbox's stores, their tokens set in the environment."""
    path = tmp_path / "fleet.toml"
    for name, token in fleet_sandbox.write_fleet_file(path).items():
        monkeypatch.setenv(name, token)
    return path


def sql_count(sandbox: Sandbox, table: str, store_id: int, where: str = "1") -> int:
    return int(
        sandbox.db.scalar(
            f"SELECT COUNT(*) FROM {table} WHERE store_id = ? AND {where}", [store_id]
        )
    )


def test_each_store_in_the_dataset_equals_loading_that_store_alone(
    fleet_sandbox, fleet_file, tmp_path
):
    out = tmp_path / "data"
    result = sa.load_fleet(fleet_file, out=out, progress=False)
    assert result.ok and [o.name for o in result.outcomes] == [s.name for s in fleet_sandbox.fleet]
    assert dataset_stores(out) == [s.store_id for s in fleet_sandbox.fleet]
    for spec, outcome in zip(fleet_sandbox.fleet, result.outcomes, strict=True):
        with sa.Client(fleet_sandbox.base_url, token=spec.token) as client:
            customers, orders = sa.load_store(client, cache=False, progress=False)
        pd.testing.assert_frame_equal(read_store_frame(out, "customers", spec.store_id), customers)
        pd.testing.assert_frame_equal(read_store_frame(out, "orders", spec.store_id), orders)
        # counted independently, in the sandbox's database
        assert outcome.store_id == spec.store_id
        assert outcome.customers == sql_count(fleet_sandbox, "customers", spec.store_id)
        assert outcome.orders == sql_count(fleet_sandbox, "orders", spec.store_id)
    manifest = read_manifest(out)
    assert [(s["name"], s["customers"]) for s in manifest["stores"]] == [
        (o.name, o.customers) for o in result.outcomes
    ]
    text = (out / "fleet.json").read_text()
    assert all(spec.token not in text for spec in fleet_sandbox.fleet)


def test_duckdb_counts_per_store_equal_the_sandbox(fleet_sandbox, fleet_file, tmp_path):
    out = tmp_path / "data"
    sa.load_fleet(fleet_file, out=out, progress=False)
    counted = duckdb.sql(
        f"SELECT store_id, count(*) FROM read_parquet('{out}/orders/*/*.parquet', "
        "hive_partitioning=true) GROUP BY store_id ORDER BY store_id"
    ).fetchall()
    assert counted == [
        (s.store_id, sql_count(fleet_sandbox, "orders", s.store_id)) for s in fleet_sandbox.fleet
    ]


def test_a_wrong_credential_fails_its_store_alone(fleet_sandbox, fleet_file, tmp_path, monkeypatch):
    bad = fleet_sandbox.fleet[1]
    monkeypatch.setenv(bad.env_name, "sx_at_notavalidtoken1234")
    out = tmp_path / "data"
    result = sa.load_fleet(fleet_file, out=out, progress=False)
    assert [o.name for o in result.failed] == [bad.name]
    error = result.failed[0].error
    assert error.startswith("AuthenticationError: ") and "\n" not in error
    assert "notavalidtoken" not in error
    # the hint names the store's own variable from the fleet file, not the single-store one
    assert f"Set {bad.env_name} (the store's token_env)" in error and "SELORAX_TOKEN" not in error
    assert dataset_stores(out) == [s.store_id for s in fleet_sandbox.fleet if s is not bad]
    assert bad.store_id not in [s["store_id"] for s in read_manifest(out)["stores"]]


def test_a_stopped_server_fails_its_store_alone(fleet_sandbox, fleet_file, tmp_path):
    with socket.socket() as probe:  # a port where nothing listens any more
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    fleet = sa.read_fleet(fleet_file)
    down = dataclasses.replace(fleet.stores[2], base_url=f"http://127.0.0.1:{port}", max_retries=0)
    fleet = dataclasses.replace(fleet, stores=(*fleet.stores[:2], down, *fleet.stores[3:]))
    result = sa.load_fleet(fleet, out=tmp_path / "data", progress=False)
    assert [o.name for o in result.failed] == [down.name]
    assert result.failed[0].error.startswith("ConnectionFailedError: ")
    assert "the store's base_url in the fleet file" in result.failed[0].error
    assert [o.ok for o in result.outcomes] == [True, True, False, True]
    assert len(dataset_stores(tmp_path / "data")) == STORES - 1


def test_the_global_budget_of_requests_in_flight_is_never_exceeded(
    fleet_sandbox, fleet_file, tmp_path
):
    fleet_sandbox.faults = Faults(latency=0.01)  # so that requests overlap
    fleet_sandbox.reset_counts()
    try:
        result = sa.load_fleet(
            fleet_file, out=tmp_path / "data", max_in_flight=3, refresh="full", progress=False
        )
        peak = fleet_sandbox.peak_in_flight()
    finally:
        fleet_sandbox.faults = Faults()
    assert result.ok
    # the server saw at most 3 at once, and the budget was used to the full
    assert peak == 3
    assert result.peak_in_flight == 3 and result.max_in_flight == 3


def test_each_store_is_paced_by_its_own_rate_limit(fleet_sandbox, fleet_file, tmp_path):
    # 10 requests per 0.1 s window per credential: each store has a window of its own, and
    # without pacing by its headers a store's 30-odd concurrent pages would end in 429s
    fleet_sandbox.faults = Faults(rate_limit=10, rate_window=0.1)
    try:
        result = sa.load_fleet(fleet_file, out=tmp_path / "data", refresh="full", progress=False)
    finally:
        fleet_sandbox.faults = Faults()
    assert result.ok
    assert [o.orders for o in result.outcomes] == [
        sql_count(fleet_sandbox, "orders", s.store_id) for s in fleet_sandbox.fleet
    ]


def test_fleet_fetch_prints_a_line_per_store_and_exits_1_when_one_failed(
    fleet_sandbox, fleet_file, tmp_path, monkeypatch, capsys
):
    out = tmp_path / "data"
    assert (
        main(["fleet", "fetch", "--fleet", str(fleet_file), "--out", str(out), "--no-progress"])
        == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in lines[:STORES]] == [
        ["ok", s.name] for s in fleet_sandbox.fleet
    ]
    assert lines[-1].startswith(f"{STORES} of {STORES} stores in {out}")

    bad = fleet_sandbox.fleet[0]
    monkeypatch.setenv(bad.env_name, "sx_at_revoked00000000")
    argv = ["fleet", "fetch", "--fleet", str(fleet_file), "--out", str(out), "--no-progress"]
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0].split()[:3] == ["FAILED", bad.name, "AuthenticationError:"]
    assert captured.err == (
        f"error: 1 of {STORES} stores failed ({bad.name}); the others are in the dataset. "
        "Fix them and run fleet fetch again.\n"
    )
    assert "revoked" not in captured.out + captured.err
    # the earlier load of the failed store stays in the dataset
    assert len(dataset_stores(out)) == STORES

    assert main([*argv, "--json"]) == 1
    stores = json.loads(capsys.readouterr().out)["stores"]
    assert [(s["name"], s["error"] is None) for s in stores][:2] == [
        (bad.name, False),
        (fleet_sandbox.fleet[1].name, True),
    ]


def test_fleet_fetch_refuses_a_bad_fleet_file_in_one_line(tmp_path, capsys):
    path = tmp_path / "fleet.toml"
    path.write_text(
        '[[store]]\nname = "a"\nbase_url = "https://x.io"\ntoken_env = "sx_at_pasted99"\n'
    )
    assert main(["fleet", "fetch", "--fleet", str(path), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "store 'a': token_env" in err and "pasted99" not in err
    assert main(["fleet", "fetch", "--fleet", str(path), "--max-in-flight", "0"]) == 2


def test_a_bad_budget_or_an_out_that_is_a_file_is_refused_before_loading(fleet_file, tmp_path):
    with pytest.raises(sa.ValidationError, match=r"max_in_flight .* at least 1, got 0"):
        sa.load_fleet(fleet_file, out=tmp_path / "data", max_in_flight=0, progress=False)
    taken = tmp_path / "taken"
    taken.write_text("mine")
    with pytest.raises(sa.CacheError, match="is a file; give a folder"):
        sa.load_fleet(fleet_file, out=taken, progress=False)
    assert taken.read_text() == "mine"


def test_a_store_client_is_closed_only_after_its_running_requests(fleet_sandbox):
    # the socket a 401 once left open: page 1 still running in the client's threads when the
    # failed load closed the client. Closing must wait for it, then let every socket go.
    spec = fleet_sandbox.fleet[0]
    fleet_sandbox.faults = Faults(latency=0.2)
    try:
        client = sa.Client(fleet_sandbox.base_url, token=spec.token)
        running = client.pool.submit(client.get_store)
        _close(client)
        assert running.done() and running.result()["store_id"] == spec.store_id
    finally:
        fleet_sandbox.faults = Faults()
    with pytest.raises(RuntimeError, match="closed"):
        client.get_store()
