"""``selorax-analytics export ... --exclude-risk-above``: risky people leave the file."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import selorax_analytics as sa
from selorax_analytics.cli._main import main

CUSTOMERS = 600
AS_OF = "2026-06-15"
#: Above the store's rate (about 14% on this store) and below its riskiest people.
THRESHOLD = 0.2


@pytest.fixture(scope="module")
def store(sandbox_factory, tmp_path_factory):
    from selorax_analytics.sandbox import DEMO_TOKEN, api_frames, generate_store

    server = sandbox_factory(customers=CUSTOMERS)
    customers, orders = api_frames(generate_store(customers=CUSTOMERS))
    env = {
        "SELORAX_BASE_URL": server.base_url,
        "SELORAX_TOKEN": DEMO_TOKEN,
        "SELORAX_CACHE_DIR": str(tmp_path_factory.mktemp("risk-cache")),
    }
    return env, customers, orders


def _run(monkeypatch, capsys, env: dict[str, str], *args: str) -> tuple[int, str, str]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code = main([*args, "--no-progress"])
    out, err = capsys.readouterr()
    return code, out, err


def _user_ids(folder: Path) -> dict[str, set[int]]:
    out = {}
    for path in folder.glob("*.csv"):
        with open(path, encoding="utf-8", newline="") as f:
            out[path.name] = {int(row["user_id"]) for row in csv.DictReader(f)}
    return out


def test_exclude_risk_above_leaves_risky_people_out_and_counts_them(
    store, monkeypatch, capsys, tmp_path
):
    env, customers, orders = store
    export = ("export", "--all", "--as-of", AS_OF, "--out")
    code, _, err = _run(monkeypatch, capsys, env, *export, str(tmp_path / "all"))
    assert code == 0, err
    code, out, err = _run(
        monkeypatch,
        capsys,
        env,
        *export,
        str(tmp_path / "safe"),
        "--exclude-risk-above",
        str(THRESHOLD),
        "--json",
    )
    assert code == 0, err
    printed = {row["segment"]: row["left_out_for_risk"] for row in json.loads(out)}
    # Who is risky, from the risk frame and the records' people (not from the export).
    people = sa.delivery_risk(customers, orders, as_of=AS_OF).people
    risky = set(people.loc[people["risk"] > THRESHOLD, "identity_id"])
    person = sa.identities(customers).set_index("user_id")["identity_id"]
    everyone, kept = _user_ids(tmp_path / "all"), _user_ids(tmp_path / "safe")
    assert everyone.keys() == kept.keys()
    total = 0
    for name, users in everyone.items():
        left = {u for u in users if person[u] in risky}
        assert kept[name] == users - left
        manifest = json.loads((tmp_path / "safe" / f"{name}.manifest.json").read_text())
        assert manifest["delivery_risk"] == {
            "exclude_risk_above": THRESHOLD,
            "excluded_people": len(left),
        }
        assert manifest["counts"]["rows"] == len(kept[name])
        assert printed[manifest["segment"]] == len(left)  # the command's own table says it too
        total += len(left)
    assert total > 0  # the threshold bites on this store
    plain = json.loads(next((tmp_path / "all").glob("*.manifest.json")).read_text())
    assert "delivery_risk" not in plain


@pytest.mark.parametrize("value", ["1.5", "-0.1", "nan", "forty", "", "40%"])
def test_bad_thresholds_exit_2_in_one_line(value, capsys):
    assert main(["export", "Champions", f"--exclude-risk-above={value}"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1, err
    assert f"argument --exclude-risk-above: got {value!r}" in err
    assert "between 0 and 1, such as 0.4" in err


def test_a_bad_threshold_gives_no_traceback_from_the_real_command(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SELORAX_")}
    env["SELORAX_CACHE_DIR"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "selorax_analytics.cli", "export", "Champions",
         "--exclude-risk-above", "2"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stdout == "" and len(done.stderr.splitlines()) == 1
    assert "Traceback" not in done.stderr and "'2'" in done.stderr
