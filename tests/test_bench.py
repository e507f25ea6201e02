"""Every benchmark in bench/ runs in its smoke mode and prints its machine-readable lines.

A change that breaks a benchmark (a renamed entry point, a changed signature) fails here, not
months later when someone reruns it. Speed is never asserted: the smoke runs are sized to
seconds and the machine is shared. All scripts start at once (one subprocess each) when the
first test of this module asks for them; each test then waits for its own.
"""

from __future__ import annotations

import importlib.util
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"

#: Each smoke run, and figures it must report (besides any others).
RUNS: dict[str, tuple[list[str], set[str]]] = {
    "analytics": (
        ["bench_analytics.py", "--smoke"],
        {"rfm_segments", "cohort_table", "guest_conversion", "rfm_segments_peak"},
    ),
    "cli": (["bench_cli.py", "--smoke"], {"cli_rfm_warm", "cli_export_warm"}),
    "clv": (["bench_clv.py", "--smoke"], {"fit_bgnbd", "clv_score", "loglik_and_gradient"}),
    "fleet": (
        ["bench_fleet.py", "--smoke"],
        {
            "fleet_load_http",
            "fleet_summary_sequential",
            "fleet_summary_dask",
            "fleet_task_overhead",
        },
    ),
    "loader": (
        ["bench_loader.py", "--smoke"],
        {
            "load_store_in_process",
            "load_store_own_process_vs_hand",
            "incremental_refresh",
            "per_customer_fallback",
            "cached_load",
            "cached_load_peak_rss",
        },
    ),
    "loader_big_only": (
        ["bench_loader.py", "--big-only", "--smoke"],
        {"cached_load", "cached_load_cpu", "cached_load_peak_rss"},
    ),
    "sandbox": (
        ["bench_sandbox.py", "--smoke"],
        {"sandbox_wall_limit250_latency0ms", "sandbox_bodies_identical_latency5ms"},
    ),
    "typing": (
        ["bench_typing.py", "--smoke"],
        {"to_frame_customers_x1_as_sent", "to_frame_orders_x2_money_as_text"},
    ),
}


def _common():
    """``bench/_common.py``, imported by path (bench/ is scripts, not a package)."""
    spec = importlib.util.spec_from_file_location("bench_common", BENCH / "_common.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def smoke_runs(tmp_path_factory) -> dict[str, subprocess.Popen]:
    """Every smoke run started at once, each with its own cache and temp folders."""
    started = {}
    for name, (argv, _) in RUNS.items():
        folder = tmp_path_factory.mktemp(f"bench-{name}")
        env = {k: v for k, v in os.environ.items() if not k.startswith("SELORAX_")}
        env |= {"SELORAX_CACHE_DIR": str(folder / "cache"), "TMPDIR": str(folder)}
        # output to files, not pipes: a server a script leaves behind cannot hold the test up
        with open(folder / "stdout", "w") as out, open(folder / "stderr", "w") as err:
            started[name] = subprocess.Popen(
                [sys.executable, str(BENCH / argv[0]), *argv[1:]],
                cwd=folder,
                env=env,
                stdout=out,
                stderr=err,
            )
        started[name].folder = folder  # type: ignore[attr-defined]
    yield started
    for process in started.values():
        if process.poll() is None:
            process.kill()
            process.wait()


def _finished(smoke_runs, name: str) -> list[dict]:
    process = smoke_runs[name]
    process.wait(timeout=300)
    stdout = (process.folder / "stdout").read_text()
    stderr = (process.folder / "stderr").read_text()
    assert process.returncode == 0, f"{RUNS[name][0]} failed:\n{stdout[-2000:]}\n{stderr[-3000:]}"
    records = _common().parse_bench_lines(stdout)
    missing = RUNS[name][1] - {r["name"] for r in records}
    assert not missing, f"{RUNS[name][0]} printed no BENCH line for {sorted(missing)}"
    return records


def _check_ratios(records: list[dict]) -> None:
    """Every line's ratio is its value over its baseline's, whenever both were measured."""
    for record in records:
        assert isinstance(record["value"], (int, float)) or record["value"] is None
        if record["value"] is not None and record["baseline_value"]:
            expected = record["value"] / record["baseline_value"]
            assert math.isclose(record["ratio"], expected, rel_tol=1e-4, abs_tol=1e-6), record


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(RUNS))
def test_benchmark_smoke_run_prints_its_figures(smoke_runs, name):
    records = _finished(smoke_runs, name)
    _check_ratios(records)
    figures = [(r["name"], r["baseline"]) for r in records]
    assert len(figures) == len(set(figures)), f"a figure printed twice: {figures}"


@pytest.mark.slow
def test_cached_load_reads_every_generated_row_from_the_cache(smoke_runs):
    records = {r["name"]: r for r in _finished(smoke_runs, "loader_big_only")}
    load = records["cached_load"]
    # 20,000 people make at least 20,000 customers (guests are added) and, at rate_scale 20,
    # about ten orders each; the child process asserts it sent no request
    assert load["rows"] > 20_000 * 5
    assert load["value"] > 0
    assert records["cached_load_peak_rss"]["baseline"] == "orders_frame"


def test_bench_line_round_trips_and_computes_the_ratio():
    common = _common()
    line = common.bench_line("rfm_segments", 2.61, "s", baseline="duckdb", baseline_value=1.9)
    assert line.startswith("BENCH {")
    (record,) = common.parse_bench_lines(f"a table line\n{line}\n")
    # 2.61 / 1.9 = 1.373684...
    assert record == {
        "name": "rfm_segments",
        "value": 2.61,
        "unit": "s",
        "baseline": "duckdb",
        "baseline_value": 1.9,
        "ratio": pytest.approx(1.373684, abs=1e-6),
    }


def test_bench_line_writes_an_unmeasured_figure_as_null():
    common = _common()
    (record,) = common.parse_bench_lines(
        common.bench_line("load_vs_dlt", 0.4, "s", baseline="dlt", baseline_value=float("nan"))
    )
    assert record["baseline_value"] is None and record["ratio"] is None


def test_parse_bench_lines_rejects_a_line_without_its_keys():
    with pytest.raises(ValueError, match="lacks"):
        _common().parse_bench_lines('BENCH {"name": "x", "value": 1}')
