"""What every benchmark script shares: the ``--smoke`` switch and the machine-readable lines.

Each figure a benchmark reports is printed once for people (its table) and once as a line

    BENCH {"name": "rfm_segments", "value": 2.61, "unit": "s", "baseline": "duckdb",
           "baseline_value": 1.9, "ratio": 1.37}

(one line of JSON after ``BENCH``; ``baseline``, ``baseline_value`` and ``ratio`` are ``null``
for a figure measured against nothing; ``ratio`` is ``value / baseline_value``; a script may add
``"smoke": true`` and other keys). :func:`parse_bench_lines` reads them back.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
from typing import Any

PREFIX = "BENCH "
#: Keys every machine-readable line carries.
KEYS = ("name", "value", "unit", "baseline", "baseline_value", "ratio")


def add_smoke_flag(parser: argparse.ArgumentParser) -> None:
    """``--smoke``: every code path of the full run, sized down to seconds, no speed asserted."""
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="a small store and one repeat: checks that the benchmark runs, not how fast",
    )


def _number(value: float | int | None) -> float | int | None:
    """JSON has no NaN or infinity: a figure that could not be measured is ``null``."""
    if value is None or isinstance(value, int):
        return value
    value = float(value)
    return float(f"{value:.7g}") if math.isfinite(value) else None  # 7 significant digits


def bench_line(
    name: str,
    value: float | int | None,
    unit: str,
    *,
    baseline: str | None = None,
    baseline_value: float | int | None = None,
    **extra: Any,
) -> str:
    """The machine-readable line of one figure (``ratio`` computed here, never by hand)."""
    ratio = None
    if value is not None and baseline_value:
        ratio = float(value) / float(baseline_value)
    record = {
        "name": name,
        "value": _number(value),
        "unit": unit,
        "baseline": baseline,
        "baseline_value": _number(baseline_value),
        "ratio": _number(ratio),
        **extra,
    }
    return PREFIX + json.dumps(record, allow_nan=False)


def emit(name: str, value: float | int | None, unit: str, **kwargs: Any) -> None:
    """Print :func:`bench_line` (flushed, so a later failure keeps the lines printed so far)."""
    print(bench_line(name, value, unit, **kwargs), flush=True)


def parse_bench_lines(text: str) -> list[dict[str, Any]]:
    """Every ``BENCH`` line of a benchmark's output, parsed; ``ValueError`` if one is malformed."""
    records = []
    for line in text.splitlines():
        if not line.startswith(PREFIX):
            continue
        record = json.loads(line[len(PREFIX) :])
        missing = [key for key in KEYS if key not in record]
        if missing or not isinstance(record["name"], str):
            raise ValueError(f"a BENCH line lacks {missing or 'a name'}: {line}")
        records.append(record)
    return records


def machine_line() -> str:
    """Cores, memory and Python of this machine, for the head of a benchmark's output."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"machine: {os.cpu_count()} cores, {memory:.0f} GiB, Python {platform.python_version()}"
