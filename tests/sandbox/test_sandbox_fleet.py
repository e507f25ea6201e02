"""``Sandbox(stores=N)`` and ``sandbox --stores N``: many seeded stores, each with its own token."""

from __future__ import annotations

import io
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from selorax_analytics.cli._main import main
from selorax_analytics.fleet.dataset import dataset_stores
from selorax_analytics.sandbox import Faults, Sandbox
from selorax_analytics.sandbox.command import banner, build
from selorax_analytics.sandbox.errors import SetupError
from selorax_analytics.sandbox.fleet import (
    FLEET_FIRST_STORE_ID,
    FLEET_MAX_CUSTOMERS,
    FLEET_MIN_CUSTOMERS,
    fleet_specs,
)
from tests._sandbox_helpers import PREFIX


@pytest.fixture(scope="module")
def fleet():
    server = Sandbox(stores=3)
    server.start()
    yield server
    server.stop()


def test_stores_are_seeded_and_the_same_whatever_their_number():
    three, five = fleet_specs(3, seed=1), fleet_specs(5, seed=1)
    assert three == five[:3] and three == fleet_specs(3, seed=1)
    assert [s.store_id for s in five] == list(range(FLEET_FIRST_STORE_ID, FLEET_FIRST_STORE_ID + 5))
    assert len({s.token for s in five}) == 5 and all(s.token.startswith("sx_at_") for s in five)
    assert fleet_specs(3, seed=2)[0].token != three[0].token
    sizes = [s.customers for s in fleet_specs(40, seed=1)]
    assert all(FLEET_MIN_CUSTOMERS <= n <= FLEET_MAX_CUSTOMERS for n in sizes)
    assert max(sizes) > 4 * min(sizes)  # varied, a few hundred to a few thousand
    assert len({s.rate_scale for s in fleet_specs(40, seed=1)}) > 1
    with pytest.raises(ValueError, match="from 1 to"):
        fleet_specs(0, seed=1)


def test_each_token_reaches_its_own_store_only(fleet):
    served = fleet.db.query("SELECT store_id, name FROM stores ORDER BY store_id")
    assert served == [{"store_id": s.store_id, "name": s.name} for s in fleet.fleet]
    for spec in fleet.fleet:
        headers = {"Authorization": f"Bearer {spec.token}"}
        with httpx.Client(base_url=fleet.base_url + PREFIX, headers=headers) as api:
            assert api.get("/store").json()["data"]["store_id"] == spec.store_id
            body = api.get("/orders", params={"limit": 100}).json()
            assert {o["store_id"] for o in body["data"]} == {spec.store_id}
            expected = fleet.db.scalar(
                "SELECT COUNT(*) FROM orders WHERE store_id = ?", [spec.store_id]
            )
            assert body["pagination"]["total"] == expected
    # the demo credentials are not served by a fleet sandbox
    with httpx.Client(base_url=fleet.base_url + PREFIX) as api:
        answer = api.get("/store", headers={"Authorization": "Bearer sx_at_demo22fullaccess7f3a9c"})
        assert answer.status_code == 401


def test_the_fleet_file_names_variables_and_the_mapping_holds_the_tokens(fleet, tmp_path):
    path = tmp_path / "fleet.toml"
    env = fleet.write_fleet_file(path, max_in_flight=5)
    text = path.read_text()
    assert env == {f"SELORAX_FLEET_TOKEN_{s.store_id}": s.token for s in fleet.fleet}
    assert text.startswith("max_in_flight = 5\n") and text.count("[[store]]") == 3
    assert f'base_url = "{fleet.base_url}"' in text
    assert not any(token in text for token in env.values())


def test_the_peak_of_requests_in_flight_is_counted(fleet):
    fleet.faults = Faults(latency=0.2)
    fleet.reset_counts()
    barrier = threading.Barrier(4)
    token = fleet.fleet[0].token

    def ask() -> None:
        barrier.wait()
        httpx.get(f"{fleet.base_url}{PREFIX}/store", headers={"Authorization": f"Bearer {token}"})

    try:
        threads = [threading.Thread(target=ask) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        fleet.faults = Faults()
    # four requests each held 0.2 s by the server, sent at once: all four in flight together
    assert fleet.peak_in_flight() == 4
    fleet.reset_counts()  # every answer is in: nothing in flight any more
    assert fleet.peak_in_flight() == 0


def test_the_banner_prints_each_store_and_its_token():
    server = build(stores=2, port=0)
    try:
        out = io.StringIO()
        banner(server, "http://127.0.0.1:1", out)
    finally:
        server.db.close()
    text = out.getvalue()
    assert text.startswith("SeloraX sandbox serving 2 stores at http://127.0.0.1:1\n")
    for spec in server.fleet:
        assert f"export SELORAX_FLEET_TOKEN_{spec.store_id}={spec.token}" in text
        assert f"store {spec.store_id} {spec.name}" in text


def test_a_reused_database_of_other_stores_and_data_are_refused(tmp_path):
    db = tmp_path / "one.sqlite3"
    Sandbox(stores=1, db=db).db.close()
    with pytest.raises(SetupError, match="not the 2 fleet stores"):
        Sandbox(stores=2, db=db)
    with pytest.raises(SetupError, match="generates its stores"):
        Sandbox(stores=1, data=tmp_path)


@pytest.mark.parametrize("value", ["0", "x", "10001"])
def test_a_bad_number_of_stores_is_a_usage_error(value, capsys):
    assert main(["sandbox", "--stores", value]) == 2
    assert "--stores" in capsys.readouterr().err


@contextmanager
def fleet_command(*options: str) -> Iterator[str]:
    """``sandbox --port 0 *options`` in its own process; what it printed up to Ctrl-C's line."""
    command = [sys.executable, "-m", "selorax_analytics.cli._main", "sandbox", "--port", "0"]
    process = subprocess.Popen(
        [*command, *options], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stderr is not None
    printed = ""
    try:
        while "Ctrl-C" not in printed:
            line = process.stdout.readline()
            assert line, f"no banner; stderr: {process.stderr.read()}"
            printed += line
        yield printed
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=30)
        process.stdout.close()
        process.stderr.close()
    assert code == 0


def test_the_written_fleet_file_and_the_printed_exports_load_every_store(
    tmp_path, monkeypatch, capsys
):
    path = tmp_path / "fleet.toml"
    with fleet_command("--stores", "2", "--fleet-file", str(path)) as printed:
        exports = dict(re.findall(r"^export (\w+)=(\S+)$", printed, flags=re.MULTILINE))
        text = path.read_text()
        # one variable per store, named in the file; the tokens only on the screen
        assert sorted(exports) == ["SELORAX_FLEET_TOKEN_1001", "SELORAX_FLEET_TOKEN_1002"]
        assert all(f'token_env = "{name}"' in text for name in exports)
        assert not any(token in text for token in exports.values())
        assert path.stat().st_mode & 0o777 == 0o600
        for name, token in exports.items():
            monkeypatch.setenv(name, token)
        out = tmp_path / "data"
        argv = ["fleet", "fetch", "--fleet", str(path), "--out", str(out), "--no-progress"]
        assert main(argv) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith(f"2 of 2 stores in {out}")
    assert dataset_stores(out) == [FLEET_FIRST_STORE_ID, FLEET_FIRST_STORE_ID + 1]


def test_an_existing_fleet_file_or_one_without_stores_is_refused_before_serving(tmp_path, capsys):
    path = tmp_path / "fleet.toml"
    path.write_text("mine")
    assert main(["sandbox", "--stores", "2", "--fleet-file", str(path)]) == 2
    assert "Refusing to overwrite" in capsys.readouterr().err and path.read_text() == "mine"
    assert main(["sandbox", "--fleet-file", str(tmp_path / "new.toml")]) == 2
    assert "--fleet-file needs --stores N" in capsys.readouterr().err
    assert not (tmp_path / "new.toml").exists()
