"""``export --holdout`` and ``campaign report`` on the command line, against a sandbox over HTTP."""

from __future__ import annotations

import json

import pytest

from selorax_analytics.cli._main import main
from selorax_analytics.sandbox import DEMO_TOKEN

CUSTOMERS = 1500


@pytest.fixture(scope="module")
def store(sandbox_factory, tmp_path_factory):
    server = sandbox_factory(customers=CUSTOMERS)
    cache = tmp_path_factory.mktemp("campaign-cli-cache")
    return server, {"SELORAX_BASE_URL": server.base_url, "SELORAX_TOKEN": DEMO_TOKEN,
                    "SELORAX_CACHE_DIR": str(cache)}  # fmt: skip


def run_here(store, monkeypatch, capsys, *args):
    for name, value in store[1].items():
        monkeypatch.setenv(name, value)
    code = main([*args, "--no-progress"])
    out, err = capsys.readouterr()
    return code, out, err


def test_export_with_holdout_then_report(store, monkeypatch, capsys, tmp_path):
    server = store[0]
    path = tmp_path / "hib.sms.csv"
    code, out, err = run_here(store, monkeypatch, capsys, "export", "Hibernating", "--format",
                              "sms", "--holdout", "0.5", "--seed", "9", "--out", str(path),
                              "--as-of", "2026-07-01", "--json")  # fmt: skip
    assert code == 0, err
    [row] = json.loads(out)
    record_path = tmp_path / "hib.sms.csv.campaign.json"
    assert row["campaign"] == str(record_path)
    record = json.loads(record_path.read_text(encoding="utf-8"))
    assert record["seed"] == 9 and record["holdout"] == 0.5
    assert row["rows"] == record["counts"]["target"]
    made = server.simulate_response(record, target_rate=0.3, holdout_rate=0.1, seed=1, days=10)
    code, out, err = run_here(store, monkeypatch, capsys, "campaign", "report", str(record_path),
                              "--refresh", "full", "--json")  # fmt: skip
    assert code == 0, err
    groups = {g["group"]: g for g in json.loads(out)["groups"]}
    assert groups["target"]["buyers"] == made["target"]["buyers"]
    assert groups["holdout"]["people"] == record["counts"]["holdout"]
    code, out, err = run_here(store, monkeypatch, capsys, "campaign", "report", str(record_path))
    assert code == 0, err
    assert "conversion" in out and "%" in out and "৳" in out
    assert "Effect detected at 95% confidence" in out  # 30 % against 10 %


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["export", "Hibernating", "--holdout", "1.5"], "argument --holdout: got '1.5'"),
        (["export", "Hibernating", "--holdout", "abc"], "argument --holdout: got 'abc'"),
        (["export", "Hibernating", "--holdout", "0.1", "--seed", "-3"], "argument --seed"),
        (["export", "Hibernating", "--seed", "3"], "--seed needs --holdout"),
        (["campaign", "report", "x.json", "--window-days", "0"], "argument --window-days"),
        (["campaign", "report", "x.json", "--confidence", "95"], "argument --confidence"),
        (["campaign"], "required: ACTION"),
    ],
)
def test_usage_errors_are_one_line_exit_2(argv, says, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert says in err
    assert len(err.strip().splitlines()) == 1


def test_a_missing_or_foreign_record_is_one_line_exit_1(capsys, tmp_path):
    assert main(["campaign", "report", str(tmp_path / "none.json"), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: No campaign record at") and len(err.strip().splitlines()) == 1
    foreign = tmp_path / "manifest.json"
    foreign.write_text('{"file": "x.csv"}', encoding="utf-8")
    assert main(["campaign", "report", str(foreign), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "is not a campaign record" in err and len(err.strip().splitlines()) == 1
