"""``selorax-analytics campaign report RECORD`` and the hold-out options of ``export``."""

from __future__ import annotations

import argparse
from typing import Any

import pandas as pd

from selorax_analytics.cli._client import load_fresh, store_options
from selorax_analytics.cli._options import MAX_WINDOW_DAYS, _fraction, _whole_number
from selorax_analytics.cli._output import emit

#: Largest ``--seed`` (campaign records are JSON; readers keep integers exact up to 2**53).
MAX_SEED = 2**53 - 1


def share(text: str) -> float:
    """``--holdout``: a share strictly between 0 and 1."""
    return _fraction(text, what="a share", example="0.1")


def confidence(text: str) -> float:
    """``--confidence``: a level strictly between 0 and 1."""
    return _fraction(text, what="a level", example="0.95")


def seed(text: str) -> int:
    return _whole_number(text, minimum=0, maximum=MAX_SEED, expected="a whole number, 0 or more")


def window(text: str) -> int:
    expected = f"a whole number of days from 1 to {MAX_WINDOW_DAYS:,}, such as 30"
    return _whole_number(text, minimum=1, maximum=MAX_WINDOW_DAYS, expected=expected)


def add_holdout_options(export: argparse.ArgumentParser) -> None:
    """``export --holdout SHARE [--seed S]``."""
    export.add_argument(
        "--holdout",
        type=share,
        help="keep this share of the people out of the file (drawn within RFM cells) and write "
        "a campaign record beside it, e.g. 0.1",
    )
    export.add_argument("--seed", type=seed, help="seed of the hold-out draw (default: fresh)")


def holdout_options(args: argparse.Namespace) -> dict[str, Any]:
    """The keywords of ``export_segment`` the hold-out options give (none without --holdout)."""
    if args.holdout is None:
        return {}
    return {"holdout": args.holdout, "seed": args.seed}


def add_campaign(commands: Any, output_options: Any) -> None:
    """``campaign report RECORD``."""
    campaign = commands.add_parser("campaign", help="measure a campaign sent with a hold-out")
    actions = campaign.add_subparsers(dest="action", required=True, metavar="ACTION")
    report = actions.add_parser(
        "report",
        help="targeted against held-out people over the days after the send",
        description="Compare the people a campaign targeted with those it held out: "
        "conversion, orders and revenue per person, intervals, p-values and a verdict.",
    )
    report.add_argument("record", help="the <file>.campaign.json an export with --holdout wrote")
    report.add_argument("--window-days", type=window, default=30, help="days after the send")
    report.add_argument("--confidence", type=confidence, default=0.95, help="interval level")
    report.add_argument(
        "--lift",
        type=share,
        default=0.2,
        help="relative lift in conversion the group-size calculation is for (default 0.2)",
    )
    store_options(report)
    output_options(report, as_of=False)
    report.set_defaults(handler=_report)


def _report(args: argparse.Namespace) -> int:
    import selorax_analytics as sa

    campaign = sa.read_campaign(args.record)  # a bad record is refused before loading
    progress = not args.no_progress
    customers, orders = load_fresh(
        args, lambda client, refresh: sa.load_store(client, refresh=refresh, progress=progress)
    )
    report = sa.campaign_report(
        campaign, orders, customers=customers, window_days=args.window_days,
        confidence=args.confidence, detectable_lift=args.lift,
    )  # fmt: skip
    notes = [
        f"campaign {campaign.campaign_id}: {campaign.segment} by {campaign.format}, "
        f"window {report.window_start:%Y-%m-%d %H:%M} UTC + {args.window_days} days",
        report.verdict,
    ]
    if args.json or args.csv:
        tables = {"groups": report.groups, "effects": report.effects.drop(columns="method")}
    else:
        tables = readable_tables(report)
    emit(args, tables, notes)
    return 0


def readable_tables(report: Any) -> dict[str, pd.DataFrame]:
    """The report's numbers as people read them: shares in %, money in taka, counts."""
    from selorax_analytics.presentation import numbers as n

    g = report.groups
    groups = pd.DataFrame(
        {
            "people": g["people"].map(n.count),
            "buyers": g["buyers"].map(n.count),
            "conversion": g["conversion"].map(n.percent),
            "interval": [f"{n.percent(lo)} to {n.percent(hi)}"
                         for lo, hi in zip(g["conversion_low"], g["conversion_high"], strict=True)],
            "orders/person": g["orders_per_person"].map(lambda v: n.number(v, 3)),
            "revenue/person": g["revenue_per_person"].map(n.taka_precise),
            "revenue": g["revenue"].map(n.taka),
        },
        index=g.index,
    )  # fmt: skip
    e = report.effects
    shown = {
        "conversion": lambda v: n.number(v * 100, 1) + " pts" if not n.missing(v) else "",
        "orders_per_person": lambda v: n.number(v, 3),
        "revenue_per_person": n.taka_precise,
        "incremental_revenue": n.taka,
    }
    effects = pd.DataFrame(
        {
            "difference": [shown[m](e.at[m, "difference"]) for m in e.index],
            "interval": [
                f"{shown[m](e.at[m, 'low'])} to {shown[m](e.at[m, 'high'])}" for m in e.index
            ],
            "relative": e["relative"].map(n.percent),
            "p_value": e["p_value"].map(lambda v: n.number(v, 4)),
        },
        index=pd.Index(list(e.index), name="measure"),
    )
    return {"groups": groups, "effects": effects}
