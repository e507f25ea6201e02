"""Typing API records into frames: ``to_frame`` against the implementation it replaced.

Run: ``.venv/bin/python bench/bench_typing.py [--repeat N] [--scale K]``

The records are those the sandbox's list endpoints send for the demo store (5,065 customers with
guests, 7,020 orders), fetched once over HTTP; then the same records repeated ``--scale`` times
(100 by default) with fresh ids. For each kind it prints the CPU time (best of ``--repeat``) of
the baseline (a copy, below, of ``to_frame`` as it was before the one-pass typing) and of
``to_frame``, their ratio, and checks the two frames are equal.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx
import numpy as np
import pandas as pd

from selorax_analytics.loading._frames import to_frame
from selorax_analytics.sandbox import DEMO_TOKEN, Sandbox

# --- baseline: to_frame and coerce_* as they were, records -> from_records -> per column -------

_DATETIME = "datetime64[us, UTC]"
_CUSTOMERS = {
    "user_id": "Int64",
    "store_id": "Int64",
    "name": "str",
    "email": "str",
    "phone": "str",
    "address_json": "str",
    "address": "str",
    "city": "str",
    "area": "str",
    "is_guest": "bool",
    "created_at": _DATETIME,
    "updated_at": _DATETIME,
    "total_orders": "Int64",
    "total_spent": "float64",
}
_ORDERS = {
    "order_id": "Int64",
    "store_id": "Int64",
    "user_id": "Int64",
    "order_status": "category",
    "financial_status": "category",
    "fulfillment_status": "category",
    "sub_total": "float64",
    "tax": "float64",
    "shipping": "float64",
    "discount": "float64",
    "grand_total": "float64",
    "payment_method": "category",
    "note": "str",
    "created_at": _DATETIME,
    "updated_at": _DATETIME,
}


def _address_field(value: object, field: str) -> object:
    if isinstance(value, Mapping):
        found = value.get(field)
    elif isinstance(value, str) and value:
        try:
            parsed = json.loads(value)
        except ValueError:
            return None
        found = parsed.get(field) if isinstance(parsed, Mapping) else None
    else:
        return None
    return None if found is None else str(found)


def _text(values: pd.Series) -> pd.Series:
    return values.astype("str").where(values.notna(), None).astype("str")


def _address_text(value: object) -> object:
    if isinstance(value, Mapping):
        return json.dumps(value, ensure_ascii=False)
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return str(value)


def _baseline_customers(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    if "address_json" not in out:
        out["address_json"] = None
    raw = out["address_json"].astype(object)
    out["address_json"] = raw.map(_address_text)
    for field in ("address", "city", "area"):
        out[field] = raw.map(lambda v, f=field: _address_field(v, f))
    for column in ("total_orders", "total_spent", "email"):
        if column not in out:
            out[column] = None
    return _coerce(out, _CUSTOMERS)


def _baseline_orders(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    if "note" not in out:
        out["note"] = None
    return _coerce(out, _ORDERS)


def _coerce(frame: pd.DataFrame, dtypes: Mapping[str, str]) -> pd.DataFrame:
    missing = [c for c in dtypes if c not in frame]
    if missing:
        raise KeyError(f"Records lack the field(s) {missing}; every record needs {list(dtypes)}.")
    columns: dict[str, pd.Series] = {}
    for name, dtype in dtypes.items():
        values = frame[name]
        if dtype == _DATETIME:
            stamps = pd.to_datetime(values, utc=True, format="ISO8601")
            columns[name] = stamps.astype("datetime64[us, UTC]")
        elif dtype == "str":
            columns[name] = _text(values)
        elif dtype == "bool":
            columns[name] = pd.to_numeric(values).astype("int64").astype(bool)
        elif dtype == "float64":
            columns[name] = pd.to_numeric(values, errors="raise").astype("float64")
        elif dtype == "Int64":
            columns[name] = pd.to_numeric(values).astype("Int64")
        else:
            columns[name] = _text(values).astype(pd.CategoricalDtype())
    extra = [c for c in frame.columns if c not in dtypes]
    out = pd.DataFrame(columns, index=pd.RangeIndex(len(frame)))
    for name in extra:
        out[name] = frame[name].to_numpy()
    return out


def _plain(value: object) -> object:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


_BASELINE: dict[str, tuple[str, dict[str, str], Callable[[pd.DataFrame], pd.DataFrame]]] = {
    "customers": ("user_id", _CUSTOMERS, _baseline_customers),
    "orders": ("order_id", _ORDERS, _baseline_orders),
}


def baseline_to_frame(records: Sequence[dict[str, Any]], kind: str) -> pd.DataFrame:
    """``to_frame`` before the one-pass typing."""
    id_field, dtypes, coerce = _BASELINE[kind]
    frame = (
        pd.DataFrame.from_records(list(records))
        if records
        else pd.DataFrame({c: pd.Series([], dtype=object) for c in dtypes})
    )
    typed = coerce(frame)
    for column in typed.columns.difference(list(dtypes), sort=False):
        typed[column] = pd.Series([_plain(v) for v in typed[column]], index=typed.index)
    return typed.sort_values(id_field, kind="stable").reset_index(drop=True)


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
    id_field = _BASELINE[kind][0]
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
    args = parser.parse_args()
    records = fetch_records()
    print(f"{'input':<44}{'baseline ms':>12}{'to_frame ms':>12}{'ratio':>8}")
    for label, times, repeat in (("demo store", 1, args.repeat), (f"x{args.scale}", args.scale, 3)):
        for kind, sent in records.items():
            rows = scaled(sent, kind, times) if times > 1 else sent
            forms = {
                "as sent": rows,
                "money as text" if kind == "orders" else "address as text": None,
            }
            for form in forms:
                data = forms[form] or as_text(rows, kind)
                pd.testing.assert_frame_equal(
                    to_frame(data, kind), baseline_to_frame(data, kind), check_exact=True
                )
                before = cpu_ms(lambda r=data, k=kind: baseline_to_frame(r, k), repeat)
                after = cpu_ms(lambda r=data, k=kind: to_frame(r, k), repeat)
                name = f"{kind} {label} ({len(data):,}), {form}"
                print(f"{name:<44}{before:>12.1f}{after:>12.1f}{before / after:>7.1f}x", flush=True)
                del data
            del rows, forms


if __name__ == "__main__":
    main()
