"""``selorax-analytics fleet report``: the page comparing the stores of a fleet.

``fleet report --fleet FILE --out OUT [--dataset DIR]`` first loads the fleet into the dataset
(default ``fleet-data``) as ``fleet fetch`` does (``--refresh auto``: fresh caches are served
without a request), then computes :func:`~selorax_analytics.fleet.compute.fleet_summary` over
the stores that loaded on Dask (an embedded cluster unless ``--scheduler`` or
``SELORAX_DASK_SCHEDULER`` names one) and writes ``OUT/index.html`` and
``OUT/fleet_summary.csv``. ``fleet report --dataset DIR --out OUT`` (no ``--fleet``) reports an
existing dataset without any request. Exit 1 when a store failed to load or its figures could
not be computed (the page is written with the others and says why), 2 for a usage error.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from selorax_analytics._files import refuse_existing
from selorax_analytics.cli import _fleet
from selorax_analytics.cli import _options as options

PROG = "selorax-analytics fleet report"


def add_report(actions: Any) -> None:
    """Add ``report`` to ``actions``, the subparsers of the ``fleet`` command."""
    report = actions.add_parser(
        "report",
        help="load the fleet, then one page comparing its stores (Dask)",
        description="Load the fleet file's stores into the dataset (as fleet fetch), then write "
        "one page comparing them. With --dataset and no --fleet, report an existing dataset "
        "without any request.",
    )
    _fleet.fleet_file_option(report, required=False)
    report.add_argument(
        "--out", required=True, type=options.path, metavar="OUT", help="the report's folder"
    )
    report.add_argument(
        "--dataset",
        type=options.path,
        metavar="DIR",
        help=f"the fleet dataset (default with --fleet: {_fleet.DEFAULT_DATASET})",
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
    _fleet.load_options(report)
    report.set_defaults(handler=fleet_report)


def fleet_report(args: argparse.Namespace) -> int:
    """Load (with ``--fleet``) and write the fleet report; 1 if a store is missing, 2 for usage."""
    import pandas as pd

    from selorax_analytics.fleet.cluster import SCHEDULER_ENV, check_scheduler_address
    from selorax_analytics.fleet.report import build_fleet_report

    problem = _usage_problem(args)
    if problem:
        print(f"{PROG}: error: {problem}", file=sys.stderr)
        return 2
    address = args.scheduler or os.environ.get(SCHEDULER_ENV)
    if address:  # a malformed address is refused before the fleet is loaded
        check_scheduler_address(address)
    out = Path(args.out)
    refuse_existing([out / "index.html", out / "fleet_summary.csv"], overwrite=args.overwrite)
    dataset = args.dataset or _fleet.DEFAULT_DATASET
    as_of = args.as_of or pd.Timestamp.now(tz="Asia/Dhaka").strftime("%Y-%m-%d")
    stores, not_loaded = None, {}
    if args.fleet:
        loaded = _fleet.run_load(args, dataset)
        for line in _fleet.summary_lines(loaded):
            print(line)
        not_loaded = {o.name: str(o.error) for o in loaded.failed}
        stores = [int(o.store_id) for o in loaded.outcomes if o.ok]
        if not stores:
            print(f"error: no store of {args.fleet} loaded; no page written.", file=sys.stderr)
            return 1
        if args.with_store_reports:
            _store_reports(args, dataset, out, as_of)
    page = build_fleet_report(
        dataset,
        out,
        as_of=as_of,
        scheduler=args.scheduler,
        overwrite=args.overwrite,
        stores=stores,
        not_loaded=not_loaded,
    )
    return _print_outcome(out, page, as_of, not_loaded)


def _usage_problem(args: argparse.Namespace) -> str | None:
    if not args.fleet and not args.dataset:
        return "give --fleet FILE (load, then report) or --dataset DIR (report a loaded dataset)"
    if args.with_store_reports and not args.fleet:
        return "--with-store-reports needs --fleet FILE (the stores' credentials)"
    return None


def _store_reports(args: argparse.Namespace, dataset: str, out: Path, as_of: str) -> None:
    from selorax_analytics.fleet.config import read_fleet
    from selorax_analytics.fleet.report import build_store_reports

    reports = build_store_reports(read_fleet(args.fleet), dataset, out, as_of=as_of)
    for name, problem in reports.items():
        print(f"{'ok' if problem is None else 'FAILED':<7} store report {name}"
              + ("" if problem is None else f": {problem}"))  # fmt: skip


def _print_outcome(out: Path, page: Path, as_of: str, not_loaded: dict[str, str]) -> int:
    import pandas as pd

    summary = pd.read_csv(out / "fleet_summary.csv", index_col="store_id")
    failed = summary[summary["buyers"].isna()]
    print(f"{len(summary)} stores as of {as_of}: {page}")
    for store_id, row in failed.iterrows():
        print(f"FAILED  store {store_id}: {row['error']}", file=sys.stderr)
    for name, error in not_loaded.items():
        print(f"FAILED  {name} (not loaded, not on the page): {error}", file=sys.stderr)
    return 1 if len(failed) or not_loaded else 0
