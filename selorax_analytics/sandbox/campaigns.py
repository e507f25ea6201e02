"""A campaign's response, simulated in the sandbox: orders for targeted and held-out people.

Given a campaign record (the JSON an export with ``holdout=`` wrote beside its file), each person
of the target buys with probability ``target_rate`` and each held-out person with probability
``holdout_rate``, independently, drawn by ``numpy.random.default_rng(seed)``. A buyer places one
order (with probability ``repeat_rate`` a second one) under the first of their recorded
``user_id`` that this store holds, at a moment drawn uniformly over the ``days`` days from
``start`` (the record's ``sent_at`` unless given). Orders are delivered cash-on-delivery orders
(``order_status="delivered"``, ``financial_status="paid"``) whose amounts are drawn as the demo
store's are (1 to 6 line items from the catalogue, shipping inside or outside Dhaka, sometimes a
discount). ``updated_at`` is the moment of insertion, so incremental loads see the orders.

Also ``POST /_sandbox/campaigns/response`` with ``{"record": {...}, "target_rate",
"holdout_rate", "days"?, "seed"?, "start"?, "repeat_rate"?}``; the answer counts, per group,
people, buyers, orders and revenue (taka) created.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from selorax_analytics.sandbox.body import json_object
from selorax_analytics.sandbox.db import Database, now_text, utc_text
from selorax_analytics.sandbox.money import draw_money
from selorax_analytics.sandbox.params import ApiProblem

GROUPS = ("target", "holdout")
#: The longest response the sandbox simulates, in days.
MAX_DAYS = 366


def _rate(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ApiProblem(
            400, f"'{name}' must be a share from 0 to 1, got {value!r}.", "validation_error"
        )
    return float(value)


def _people(record: Any) -> dict[str, list[list[int]]]:
    """Per group, each person's recorded ``user_id``, from a campaign record."""
    try:
        groups = record["groups"]
        return {g: [[int(u) for u in p["user_ids"]] for p in groups[g]] for g in GROUPS}
    except (TypeError, KeyError, ValueError) as exc:
        raise ApiProblem(
            400,
            f"'record' is not a campaign record ({exc!r} missing or wrong).",
            "validation_error",
        ) from None


def _start(record: Any, start: object) -> pd.Timestamp:
    value = start if start is not None else record.get("sent_at")
    stamp = pd.to_datetime(value, utc=True, errors="coerce") if isinstance(value, str) else None
    if not isinstance(stamp, pd.Timestamp):
        raise ApiProblem(
            400, f"'start' must be an ISO 8601 date-time, got {value!r}.", "validation_error"
        )
    return stamp


def simulate_response(
    db: Database,
    record: dict[str, Any],
    *,
    target_rate: float,
    holdout_rate: float,
    days: int = 30,
    seed: int = 0,
    start: str | None = None,
    repeat_rate: float = 0.1,
) -> dict[str, dict[str, float]]:
    """Create the orders of a simulated response; per group, what was created (see the module)."""
    rates = {
        "target": _rate(target_rate, "target_rate"),
        "holdout": _rate(holdout_rate, "holdout_rate"),
    }
    repeat = _rate(repeat_rate, "repeat_rate")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise ApiProblem(
            400,
            f"'days' must be a whole number from 1 to {MAX_DAYS}, got {days!r}.",
            "validation_error",
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ApiProblem(
            400, f"'seed' must be a whole number, 0 or more, got {seed!r}.", "validation_error"
        )
    people, begin = _people(record), _start(record, start)
    customers = db.query("SELECT user_id, store_id FROM customers")
    known = {int(r["user_id"]): int(r["store_id"]) for r in customers}
    rng = np.random.default_rng(seed)
    summary: dict[str, dict[str, float]] = {}
    rows: list[tuple[Any, ...]] = []
    for group in GROUPS:
        buyers = [next((u for u in ids if u in known), None) for ids in people[group]]
        bought = rng.uniform(size=len(buyers)) < rates[group]
        chosen = [u for u, b in zip(buyers, bought, strict=True) if b and u is not None]
        orders = [u for u in chosen for _ in range(1 + int(rng.uniform() < repeat))]
        offsets = rng.uniform(0, days * 86400, size=len(orders))
        _, money = draw_money(rng, len(orders), 0, with_items=False)
        totals = money.to_numpy(dtype="int64")
        for user, offset, amounts in zip(orders, offsets, totals, strict=True):
            created = utc_text(begin + pd.Timedelta(seconds=float(offset)))
            rows.append((known[user], user, *amounts.tolist(), created))
        revenue = float(money["grand_total_paisa"].sum()) / 100
        summary[group] = {"people": len(buyers), "buyers": len(chosen), "orders": len(orders),
                          "revenue": revenue}  # fmt: skip
    _insert(db, rows)
    return summary


def _insert(db: Database, rows: list[tuple[Any, ...]]) -> None:
    stamp = now_text()
    with db.transaction() as conn:
        conn.executemany(
            "INSERT INTO orders (store_id, user_id, order_status, financial_status, "
            "fulfillment_status, sub_total_paisa, tax_paisa, shipping_paisa, discount_paisa, "
            "grand_total_paisa, payment_method, note, created_at, updated_at) "
            "VALUES (?, ?, 'delivered', 'paid', 'fulfilled', ?, ?, ?, ?, ?, 'cod', NULL, ?, ?)",
            [(*row, stamp) for row in rows],
        )


async def _response(request: Request) -> JSONResponse:
    body = json_object(await request.body())
    if not isinstance(body.get("record"), dict):
        raise ApiProblem(
            400, "'record' must be the campaign record (a JSON object).", "validation_error"
        )
    options = {k: body[k] for k in ("days", "seed", "start", "repeat_rate") if k in body}
    summary = simulate_response(
        request.app.state.sandbox.db,
        body["record"],
        target_rate=body.get("target_rate"),  # type: ignore[arg-type]
        holdout_rate=body.get("holdout_rate"),  # type: ignore[arg-type]
        **options,
    )
    return JSONResponse({"data": summary, "status": 201}, status_code=201)


def routes() -> list[Route]:
    return [Route("/_sandbox/campaigns/response", _response, methods=["POST"])]
