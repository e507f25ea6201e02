"""Typing API records into frames: ``to_frame`` (the fast path) against the general path.

Run: ``.venv/bin/python bench/bench_typing.py [--repeat N] [--scale K]``

The records are those the sandbox's list endpoints send for the demo store (5,065 customers with
guests, 7,020 orders), fetched once over HTTP; then the same records repeated ``--scale`` times
(100 by default) with fresh ids. For each kind and form it checks that the fast path takes the
records and that ``to_frame`` and the general path give equal frames, then prints the CPU time
(best of ``--repeat``) of the general path (``DataFrame.from_records`` typed by
``coerce_customers`` / ``coerce_orders``, what ``to_frame`` falls back to) and of ``to_frame``,
and their ratio. Both are imported from the typing module, never copied here.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pandas as pd
from _common import add_smoke_flag, emit, machine_line

from selorax_analytics.loading._typing import KINDS, fast_frame, general_frame, to_frame
from selorax_analytics.sandbox import DEMO_TOKEN, Sandbox

# --- the run -------------------------------------------------------------------------------------

MONEY = ("sub_total", "tax", "shipping", "discount", "grand_total")
PATHS = {
    "customers": "/api/apps/v1/customers?include_guests=true&limit=250&page={}",
    "orders": "/api/apps/v1/orders?limit=250&page={}",
}


def fetch_records() -> dict[str, list[dict[str, Any]]]:
    """Every record of the demo store's list endpoints, as the sandbox sends them."""
    out: dict[str, list[dict[str, Any]]] = {}
    with Sandbox() as url:
        headers = {"Authorization": f"Bearer {DEMO_TOKEN}"}
        with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
            for kind, path in PATHS.items():
                rows: list[dict[str, Any]] = []
                page = 1
                while data := http.get(path.format(page)).raise_for_status().json()["data"]:
                    rows += data
                    page += 1
                out[kind] = rows
    return out


def scaled(rows: list[dict[str, Any]], kind: str, times: int) -> list[dict[str, Any]]:
    """``rows`` repeated ``times`` times, ids shifted so each copy has its own."""
    id_field = KINDS[kind].id_field
    step = max(r[id_field] for r in rows)
    return [{**r, id_field: r[id_field] + k * step} for k in range(times) for r in rows]


def as_text(rows: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """The other forms the API may send: money as text (``"1460.00"``), ``address_json`` as text."""
    if kind == "orders":
        return [{**r, **{c: f"{r[c]:.2f}" for c in MONEY}} for r in rows]
    return [
        {**r, "address_json": None if r["address_json"] is None else json.dumps(r["address_json"])}
        for r in rows
    ]


def cpu_ms(func: Callable[[], object], repeat: int) -> float:
    """Best CPU time of ``repeat`` runs, in milliseconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        func()
        best = min(best, time.process_time() - start)
    return best * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--scale", type=int, default=100)
    add_smoke_flag(parser)
    args = parser.parse_args()
    if args.smoke:  # both sizes and every form, one run each
        args.repeat, args.scale = 1, 2
    print(machine_line())
    records = fetch_records()
    print(f"{'input':<44}{'general ms':>12}{'to_frame ms':>12}{'ratio':>8}")
    runs = ((1, args.repeat), (args.scale, 1 if args.smoke else 3))
    for times, repeat in runs:
        label = "demo store" if times == 1 else f"x{times}"
        for kind, sent in records.items():
            rows = scaled(sent, kind, times) if times > 1 else sent
            forms = {
                "as sent": rows,
                "money as text" if kind == "orders" else "address as text": None,
            }
            for form in forms:
                data = forms[form] or as_text(rows, kind)
                if fast_frame(data, kind) is None:
                    raise SystemExit(f"the fast path does not take the {kind}, {form}")
                pd.testing.assert_frame_equal(
                    to_frame(data, kind), general_frame(data, kind), check_exact=True
                )
                before = cpu_ms(lambda r=data, k=kind: general_frame(r, k), repeat)
                after = cpu_ms(lambda r=data, k=kind: to_frame(r, k), repeat)
                name = f"{kind} {label} ({len(data):,}), {form}"
                print(f"{name:<44}{before:>12.1f}{after:>12.1f}{before / after:>7.1f}x", flush=True)
                key = f"to_frame_{kind}_x{times}_{form.replace(' ', '_')}"
                emit(
                    key, after, "ms", baseline="general_path", baseline_value=before, rows=len(data)
                )
                del data
            del rows, forms


if __name__ == "__main__":
    main()
