"""The command line's text tables read like the notebooks': taka, percentages, blank censored
cells, the running period marked; ``--csv`` and ``--json`` keep the raw numbers.

Expected strings are written with the rules spelled out here (``৳`` then whole taka with
commas, one-decimal percentages), not with the package's own formatting functions.
"""

from __future__ import annotations

import csv
import json

import pytest

from selorax_analytics.cli._main import main

AS_OF = "2026-06-15"  # June 2026 is the running month


@pytest.fixture(scope="module")
def store_env(sandbox_factory, tmp_path_factory):
    from selorax_analytics.sandbox import DEMO_TOKEN

    server = sandbox_factory(customers=400)
    return {
        "SELORAX_BASE_URL": server.base_url,
        "SELORAX_TOKEN": DEMO_TOKEN,
        "SELORAX_CACHE_DIR": str(tmp_path_factory.mktemp("cli-tables-cache")),
    }


@pytest.fixture
def cli(store_env, monkeypatch, capsys):
    for name, value in store_env.items():
        monkeypatch.setenv(name, value)

    def run(*args: str) -> str:
        code = main([*args, "--as-of", AS_OF, "--no-progress"])
        out, err = capsys.readouterr()
        assert code == 0, err
        return out

    return run


def test_rfm_summary_text_in_taka_and_percent(cli):
    summary = {r["segment"]: r for r in json.loads(cli("rfm", "--json"))}
    text = cli("rfm")
    assert "nan" not in text.lower()
    header = text.splitlines()[0].split()
    assert header[:5] == ["segment", "customers", "customer_share", "revenue", "revenue_share"]
    lines = [" ".join(line.split()) for line in text.splitlines()[1 : 1 + len(summary)]]
    assert len(lines) == len(summary)
    for segment, raw in summary.items():
        expected = (
            f"{segment} {raw['customers']:,} {raw['customer_share'] * 100:.1f}% "
            f"৳ {raw['revenue']:,.0f} {raw['revenue_share'] * 100:.1f}%"
        )
        assert any(line.startswith(expected + " ") for line in lines), (expected, text)


def test_rfm_csv_keeps_raw_numbers(cli):
    text = cli("rfm", "--csv")
    rows = list(csv.DictReader(text.splitlines()))
    assert "৳" not in text and "%" not in text
    shares = [float(r["customer_share"]) for r in rows]
    assert sum(shares) == pytest.approx(1.0)
    assert any(len(r["customer_share"].split(".")[-1]) > 3 for r in rows)  # not rounded
    assert all(float(r["revenue"]) > 0 for r in rows)


def test_cohorts_text_blank_censored_cells_and_marked_running_month(cli):
    text = cli("cohorts", "--all")
    assert "nan" not in text.lower() and "NaN" not in text
    lines = text.splitlines()
    header = lines[0].split()
    assert header[:3] == ["cohort", "cohort_size", "0"]
    body = [line for line in lines if line[:4].isdigit() and line[4] == "-"]
    assert body, text
    for line in body:
        cells = line.split()
        cohort, offsets = cells[0], cells[2:]
        # the running month June 2026 is offset (2026 - y) * 12 + 6 - m of the cohort y-m:
        # the row's last filled cell; every later period is blank (the line simply ends)
        year, month = map(int, cohort.split("-"))
        running = (2026 - year) * 12 + 6 - month
        assert len(offsets) == running + 1, line
        assert offsets[-1].endswith("%*"), line
        assert all(c.endswith("%") for c in offsets[:-1]), line
    assert "Blank: periods the cohort has not reached by as_of (censored)." in lines
    assert "* running period 2026-06: partial, counted up to 2026-06-15 only." in lines


def test_cohorts_csv_keeps_raw_numbers_and_empty_censored_cells(cli):
    text = cli("cohorts", "--csv")
    rows = list(csv.DictReader(text.splitlines()))
    assert all(float(r["0"]) == 1.0 for r in rows)
    last = rows[-1]
    assert last["cohort"] == "2026-06" and last["1"] == ""
    assert "*" not in text and "%" not in text


def test_cohorts_default_fits_100_columns(cli):
    text = cli("cohorts", "--metric", "ltv")
    assert max(len(line) for line in text.splitlines()) <= 100
    assert "৳ " in text


def test_guests_text_shares_as_percentages(cli):
    text = cli("guests")
    groups = text.split("\n\n")[0]
    assert "groups" in groups and "%" in groups and "৳ " in groups
    raw = json.loads(cli("guests", "--json"))
    share = raw["funnel"][1]["share"]
    assert f"{share * 100:.1f}%" in text
    assert isinstance(share, float) and "%" not in json.dumps(raw)


def test_export_summary_text_counts_the_files(cli, tmp_path):
    text = cli("export", "--all", "--out", str(tmp_path))
    lines = text.splitlines()
    assert lines[0].split()[-5:] == ["format", "rows", "skipped_people", "skipped_values", "path"]
    for line in lines[1:]:
        if not line.strip() or line.startswith("as of"):
            continue
        path = line.split()[-1]
        with open(path, encoding="utf-8", newline="") as f:
            people = len(list(csv.DictReader(f)))
        assert line.split()[-4] == f"{people:,}", line
