"""``selorax-analytics fleet report``: the page comparing the stores of a fleet dataset.

``fleet report --dataset DIR --out OUT [--as-of D] [--scheduler ADDR] [--overwrite]
[--with-store-reports --fleet FILE]`` computes :func:`~selorax_analytics.fleet.compute.fleet_summary`
on Dask (an embedded cluster unless ``--scheduler`` or ``SELORAX_DASK_SCHEDULER`` names one) and
writes ``OUT/index.html`` and ``OUT/fleet_summary.csv``. Exit 1 when a store's figures could not
be computed (the page is written with the others and says why).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from selorax_analytics._files import refuse_existing
from selorax_analytics.cli import _options as options


def add_fleet_report(commands: Any) -> None:
    """Add ``report`` to the ``fleet`` command of ``commands`` (argparse subparsers)."""
    fleet = commands.choices["fleet"]
    actions = next(a for a in fleet._actions if isinstance(a, argparse._SubParsersAction))
    report = actions.add_parser(
        "report", help="one page comparing the stores of a fleet dataset (Dask)"
    )
    report.add_argument(
        "--dataset", required=True, type=options.path, metavar="DIR",
        help="the fleet dataset (fleet fetch --out)",
    )  # fmt: skip
    report.add_argument(
        "--out", required=True, type=options.path, metavar="OUT", help="the report's folder"
    )
    report.add_argument("--overwrite", action="store_true", help="replace an earlier page")
    report.add_argument(
        "--as-of", type=options.as_of_day, help="day of the analysis, YYYY-MM-DD (default: today)"
    )
    report.add_argument(
        "--scheduler",
        metavar="ADDR",
        help="a running Dask scheduler, e.g. tcp://host:8786 (env SELORAX_DASK_SCHEDULER; "
        "default: a local cluster of one worker process per core)",
    )
    report.add_argument(
        "--with-store-reports",
        action="store_true",
        help="also build each store's own report in OUT/stores/<id>/ (about 30 s a store; "
        "needs --fleet for the credentials)",
    )
    report.add_argument("--fleet", type=options.path, metavar="FILE", help="the fleet file")
    report.set_defaults(handler=fleet_report)


def fleet_report(args: argparse.Namespace) -> int:
    """Write the fleet report; 1 if a store's figures are missing, 2 for a usage error."""
    import pandas as pd

    from selorax_analytics.fleet.report import build_fleet_report, build_store_reports

    if args.with_store_reports and not args.fleet:
        print(
            "selorax-analytics fleet report: error: --with-store-reports needs --fleet FILE "
            "(the stores' credentials)",
            file=sys.stderr,
        )
        return 2
    out = Path(args.out)
    refuse_existing([out / "index.html", out / "fleet_summary.csv"], overwrite=args.overwrite)
    as_of = args.as_of or pd.Timestamp.now(tz="Asia/Dhaka").strftime("%Y-%m-%d")
    if args.with_store_reports:
        from selorax_analytics.fleet.config import read_fleet

        for name, problem in build_store_reports(
            read_fleet(args.fleet), args.dataset, out, as_of=as_of
        ).items():
            print(f"{'ok' if problem is None else 'FAILED':<7} store report {name}"
                  + ("" if problem is None else f": {problem}"))  # fmt: skip
    page = build_fleet_report(
        args.dataset, out, as_of=as_of, scheduler=args.scheduler, overwrite=args.overwrite
    )
    summary = pd.read_csv(out / "fleet_summary.csv", index_col="store_id")
    failed = summary[summary["buyers"].isna()]
    print(f"{len(summary)} stores as of {as_of}: {page}")
    for store_id, row in failed.iterrows():
        print(f"FAILED  store {store_id}: {row['error']}", file=sys.stderr)
    return 1 if len(failed) else 0
