"""A command on a fresh cache starts no sandbox and sends no request; an old one is reloaded.

The embedded demo store's cache (``embedded-sandbox-<fingerprint>/store-22``) is written here
through a small sandbox of 300 people, so a command that read it rather than loading the
5,000-person demo store is told by its numbers.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

import selorax_analytics as sa

PEOPLE = 300
AS_OF = "2026-06-15"
SANDBOX_LINE = "serving the demo store from an embedded sandbox"


def _cli(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "selorax_analytics.cli", *args, "--no-progress"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _environment(cache: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SELORAX_")}
    return env | {"SELORAX_CACHE_DIR": str(cache), **settings}


def _buyers(orders: pd.DataFrame) -> int:
    """People with a valid order up to AS_OF, counted in SQL from the generated store."""
    frame = orders[["user_id", "order_status", "created_at"]].astype({"order_status": "str"})
    con = duckdb.connect()
    con.register("orders", frame)
    return con.execute(
        f"""
        SELECT count(DISTINCT user_id) FROM orders
        WHERE order_status NOT IN ('cancelled', 'returned', 'failed')
          AND CAST(timezone('Asia/Dhaka', created_at) AS DATE) <= DATE '{AS_OF}'
        """
    ).fetchone()[0]


@pytest.fixture(scope="module")
def small_store(sandbox_factory):
    from selorax_analytics.sandbox import api_frames, generate_store

    server = sandbox_factory(customers=PEOPLE)
    _, orders = api_frames(generate_store(customers=PEOPLE))
    return server, _buyers(orders)


def _fill_demo_cache(server, cache: Path, demo_data: str | None = None) -> Path:
    """Load the small store into the embedded demo store's cache folder; that folder.

    ``demo_data`` stands for the fingerprint of other demo data (another release's).
    """
    from selorax_analytics.connection import mark_embedded_demo
    from selorax_analytics.sandbox import DEMO_STORE_ID, DEMO_TOKEN

    with sa.Client(server.base_url, token=DEMO_TOKEN, store_id=DEMO_STORE_ID) as client:
        mark_embedded_demo(client)
        if demo_data is not None:
            client.demo_data = demo_data
        sa.load_store(client, cache=cache, progress=False)
    name = "-".join(filter(None, ["embedded-sandbox", client.demo_data]))
    folder = cache / name / f"store-{DEMO_STORE_ID}"
    assert (folder / "orders.json").exists()
    return folder


def _rfm_buyers(result: subprocess.CompletedProcess) -> int:
    assert result.returncode == 0, result.stderr
    return sum(row["customers"] for row in json.loads(result.stdout))


def test_fresh_demo_cache_is_read_without_a_sandbox(small_store, tmp_path):
    server, buyers = small_store
    _fill_demo_cache(server, tmp_path / "cache")
    server.reset_counts()
    result = _cli(_environment(tmp_path / "cache"), "rfm", "--json", "--as-of", AS_OF)
    assert _rfm_buyers(result) == buyers  # the cached 300-person store, not the demo store
    assert result.stderr.splitlines()[0] == "data from the cache, less than a minute old"
    assert SANDBOX_LINE not in result.stderr
    assert server.request_counts() == {}


def test_old_demo_cache_is_loaded_again(small_store, tmp_path):
    server, buyers = small_store
    folder = _fill_demo_cache(server, tmp_path / "cache")
    meta_path = folder / "orders.json"
    meta = json.loads(meta_path.read_text())
    meta["refreshed_at"] = (pd.Timestamp.now(tz="UTC") - pd.Timedelta(hours=2)).isoformat()
    meta_path.write_text(json.dumps(meta))
    result = _cli(_environment(tmp_path / "cache"), "rfm", "--json", "--as-of", AS_OF)
    assert _rfm_buyers(result) > PEOPLE > buyers  # the embedded 5,000-person demo store
    lines = result.stderr.splitlines()
    assert SANDBOX_LINE in lines[0]
    assert lines[1] == "data loaded from the API just now"
    refreshed = pd.Timestamp(json.loads(meta_path.read_text())["refreshed_at"])
    assert pd.Timestamp.now(tz="UTC") - refreshed < pd.Timedelta(minutes=5)


def test_configured_store_warm_sends_no_request(small_store, tmp_path):
    from selorax_analytics.sandbox import DEMO_TOKEN

    server, buyers = small_store
    env = _environment(
        tmp_path / "cache", SELORAX_BASE_URL=server.base_url, SELORAX_TOKEN=DEMO_TOKEN
    )
    first = _cli(env, "rfm", "--json", "--as-of", AS_OF)
    assert _rfm_buyers(first) == buyers
    assert first.stderr.splitlines()[0] == "data loaded from the API just now"
    server.reset_counts()
    second = _cli(env, "rfm", "--json", "--as-of", AS_OF)
    assert _rfm_buyers(second) == buyers
    assert second.stderr.splitlines()[0] == "data from the cache, less than a minute old"
    assert server.request_counts() == {}


def test_cohorts_fit_100_columns_unless_all(small_store, tmp_path):
    server, _ = small_store
    _fill_demo_cache(server, tmp_path / "cache")
    env = _environment(tmp_path / "cache")
    every = _cli(env, "cohorts", "--all", "--as-of", AS_OF)
    fitted = _cli(env, "cohorts", "--as-of", AS_OF)
    as_csv = _cli(env, "cohorts", "--csv", "--as-of", AS_OF)
    for result in (every, fitted, as_csv):
        assert result.returncode == 0, result.stderr
    assert max(len(line) for line in every.stdout.splitlines()) > 100
    assert max(len(line) for line in fitted.stdout.splitlines()) <= 100
    assert "--all prints everything" in fitted.stdout
    cohorts = pd.read_csv(io.StringIO(as_csv.stdout))
    table_rows = [line for line in every.stdout.splitlines() if line[:4].isdigit()]
    assert len(cohorts) == len(table_rows) > 12
    assert cohorts.shape[1] - 2 == len(every.stdout.splitlines()[0].split()) - 2
    fitted_rows = [line for line in fitted.stdout.splitlines() if line[:4].isdigit()]
    assert [row.split()[0] for row in fitted_rows] == [str(c) for c in cohorts["cohort"][-12:]]


@pytest.mark.parametrize(
    ("age", "said"),
    [
        (pd.Timedelta(minutes=3, seconds=10), "3 minutes"),
        (pd.Timedelta(minutes=1, seconds=5), "1 minute"),
        (pd.Timedelta(minutes=59, seconds=30), "59 minutes"),
    ],
)
def test_the_age_line_says_how_old_the_cache_is(small_store, tmp_path, age, said):
    server, buyers = small_store
    meta_path = _fill_demo_cache(server, tmp_path / "cache") / "orders.json"
    meta = json.loads(meta_path.read_text())
    meta["refreshed_at"] = (pd.Timestamp.now(tz="UTC") - age).isoformat()
    meta_path.write_text(json.dumps(meta))
    result = _cli(_environment(tmp_path / "cache"), "rfm", "--json", "--as-of", AS_OF)
    assert _rfm_buyers(result) == buyers
    assert result.stderr.splitlines() == [f"data from the cache, {said} old"]


def test_offline_demo_command_serves_an_old_cache_without_a_sandbox(small_store, tmp_path):
    server, buyers = small_store
    meta_path = _fill_demo_cache(server, tmp_path / "cache") / "orders.json"
    meta = json.loads(meta_path.read_text())
    meta["refreshed_at"] = (pd.Timestamp.now(tz="UTC") - pd.Timedelta(hours=2)).isoformat()
    meta_path.write_text(json.dumps(meta))
    env = _environment(tmp_path / "cache")
    result = _cli(env, "rfm", "--json", "--as-of", AS_OF, "--refresh", "never")
    assert _rfm_buyers(result) == buyers
    assert result.stderr.splitlines() == ["data from the cache, 2 hours old"]
    empty = _cli(_environment(tmp_path / "empty"), "rfm", "--refresh", "never")
    assert empty.returncode == 1
    assert len(empty.stderr.splitlines()) == 1 and "refresh='never'" in empty.stderr
    assert SANDBOX_LINE not in empty.stderr


@pytest.mark.parametrize("other", ["", "0123456789ab"])
def test_a_cache_of_other_demo_data_is_not_read(small_store, tmp_path, other):
    # A fresh cache left by a release whose demo data differ ("" is the folder name from before
    # the fingerprint: embedded-sandbox/store-22) is not this release's demo store.
    server, buyers = small_store
    _fill_demo_cache(server, tmp_path / "cache", demo_data=other)
    result = _cli(_environment(tmp_path / "cache"), "rfm", "--refresh", "never")
    assert result.returncode == 1, result.stdout
    assert len(result.stderr.splitlines()) == 1 and "refresh='never'" in result.stderr
    _fill_demo_cache(server, tmp_path / "cache")  # this release's: read
    again = _cli(_environment(tmp_path / "cache"), "rfm", "--json", "--as-of", AS_OF)
    assert _rfm_buyers(again) == buyers
