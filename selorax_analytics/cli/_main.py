"""The ``selorax-analytics`` command line: ``main(argv) -> int``.

A thin shell over the public functions: each subcommand loads data with the loaders, calls one
analytics function and prints a readable table (or ``--json`` / ``--csv`` for scripts).

Exit codes: 0 success, 1 an API, data or file error (one line on stderr, no traceback),
2 a usage error: an unknown option, a bad option value (one line naming the option, the value
and the accepted form), or an ``--out`` path that exists without ``--overwrite``. Dates are ISO
8601 only (``2026-07-01``), never guessed. Credentials come from the environment
(``SELORAX_TOKEN``, ...) or options and are never printed.

One parser, built here: the analytics subcommands are here, the store options and the
command's client in ``_client``, ``report`` and ``notebooks`` in ``_report`` and ``sandbox`` in
``_sandbox``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from selorax_analytics import __version__
from selorax_analytics._files import refuse_existing
from selorax_analytics.cli import _options as options
from selorax_analytics.cli._campaign import add_campaign, add_holdout_options, holdout_options
from selorax_analytics.cli._client import command_client, load_fresh, store_options
from selorax_analytics.cli._fleet import add_fleet
from selorax_analytics.cli._output import emit, table_text
from selorax_analytics.cli._report import add_notebooks, add_report
from selorax_analytics.cli._sandbox import add_sandbox
from selorax_analytics.connection import default_as_of
from selorax_analytics.exceptions import OutputExistsError, SeloraxError

FORMATS = ("csv", "xlsx", "sms", "meta", "google", "mailchimp")
SEGMENT_MAPS = ("default", "with-lost")
#: The width a readable ``cohorts`` table fits without ``--all``, and its most recent cohorts.
TERMINAL_WIDTH = 100
RECENT_COHORTS = 12


# --- option groups -----------------------------------------------------------------------------


def _out_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--out", type=options.path, help=f"write {what} to this file, not the terminal"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out file")


def _output_options(parser: argparse.ArgumentParser, *, as_of: bool = True) -> None:
    if as_of:
        parser.add_argument(
            "--as-of",
            type=options.as_of_day,
            help="last day of the analysis, ISO 8601: YYYY-MM-DD, or a date-time such as "
            "2026-07-01T10:00:00+06:00 (default: today; the demo store's own)",
        )
    shape = parser.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="print JSON for scripts")
    shape.add_argument("--csv", action="store_true", help="print CSV for scripts")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = options.Parser(
        prog="selorax-analytics",
        description="Customer analytics for SeloraX stores.",
        epilog="Files are never replaced without --overwrite, and are written whole or not at all.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_sandbox(commands)

    fetch = commands.add_parser("fetch", help="load customers and orders into the local cache")
    store_options(fetch)
    _output_options(fetch, as_of=False)
    fetch.add_argument(
        "--since",
        type=options.since,
        help="only records created since this ISO 8601 date or date-time",
    )
    fetch.set_defaults(handler=_fetch)

    rfm = commands.add_parser("rfm", help="RFM segments: a summary, or one row per customer")
    store_options(rfm)
    _output_options(rfm)
    rfm.add_argument("--segments", choices=SEGMENT_MAPS, default="default", help="segment map")
    rfm.add_argument("--customers", action="store_true", help="one row per customer")
    _out_option(rfm, "the table")
    rfm.set_defaults(handler=_rfm)

    cohorts = commands.add_parser("cohorts", help="cohort retention, revenue, orders or LTV")
    store_options(cohorts)
    _output_options(cohorts)
    cohorts.add_argument("--period", choices=("M", "W", "Q"), default="M", help="cohort period")
    cohorts.add_argument("--by", choices=("first_order", "signup"), default="first_order")
    cohorts.add_argument(
        "--metric", choices=("customers", "revenue", "orders", "ltv"), default="customers"
    )
    cohorts.add_argument(
        "--all",
        action="store_true",
        help=f"print every cohort and period (default: what fits {TERMINAL_WIDTH} columns; "
        "--csv and --json always hold all)",
    )
    _out_option(cohorts, "the table")
    cohorts.set_defaults(handler=_cohorts)

    guests = commands.add_parser("guests", help="guest checkouts and their conversion")
    store_options(guests)
    _output_options(guests)
    guests.add_argument(
        "--window-days",
        type=options.window_days,
        default=90,
        help="conversion window in days (0 or more)",
    )
    guests.add_argument("--people", action="store_true", help="also one row per buying person")
    _out_option(guests, "the tables")
    guests.set_defaults(handler=_guests)

    _add_export(commands)
    add_campaign(commands, _output_options)
    add_report(commands)
    add_notebooks(commands)
    add_fleet(commands)
    return parser


def _add_export(commands: Any) -> None:
    export = commands.add_parser(
        "export",
        help="write a segment's people for a spreadsheet, SMS gateway or ad platform",
        description="Write the people of an RFM segment (or of every segment with --all).",
    )
    export.add_argument("segment", nargs="?", help='segment name, e.g. "At Risk"')
    export.add_argument("--all", action="store_true", help="every segment, one file each")
    export.add_argument("--format", choices=FORMATS, default="csv", help="file format")
    export.add_argument(
        "--out",
        type=options.path,
        help="file to write (with --all: a folder); default: named after the segment",
    )
    export.add_argument("--overwrite", action="store_true", help="replace existing files")
    export.add_argument(
        "--region",
        type=options.region,
        default="BD",
        help="region of local phone numbers (ISO 3166)",
    )
    export.add_argument("--segments", choices=SEGMENT_MAPS, default="default", help="segment map")
    add_holdout_options(export)
    export.add_argument(
        "--exclude-risk-above",
        type=options.risk_threshold,
        metavar="RISK",
        help="leave out people whose cash-on-delivery risk is above RISK (0-1, such as 0.4)",
    )
    store_options(export)
    _output_options(export)
    export.set_defaults(handler=_export)


# --- data --------------------------------------------------------------------------------------


def _load(args: argparse.Namespace, *, orders_only: bool = False) -> tuple[Any, pd.DataFrame]:
    import selorax_analytics as sa

    progress = not args.no_progress

    def load(client: Any, refresh: Any) -> tuple[pd.DataFrame, ...]:
        if orders_only:
            return (sa.load_orders(client, refresh=refresh, progress=progress),)
        return sa.load_store(client, refresh=refresh, progress=progress)

    frames = load_fresh(args, load)
    return (None, frames[0]) if orders_only else (frames[0], frames[1])


def _as_of(args: argparse.Namespace) -> str:
    """``--as-of``; by default the demo store's own last day for the demo, else today."""
    if args.as_of:
        return str(args.as_of)
    return default_as_of(command_client(args))


def _segment_map(name: str) -> Any:
    import selorax_analytics as sa

    return sa.RFM_SEGMENTS_WITH_LOST if name == "with-lost" else sa.DEFAULT_RFM_SEGMENTS


# --- subcommands -------------------------------------------------------------------------------


def _fetch(args: argparse.Namespace) -> int:
    import selorax_analytics as sa
    from selorax_analytics.loading._store import cache_dir_for

    start = time.perf_counter()
    client = command_client(args)
    options = {"refresh": args.refresh, "progress": not args.no_progress, "since": args.since}
    customers, orders = sa.load_store(client, **options)
    seconds = time.perf_counter() - start
    cache = str(cache_dir_for(client))
    summary = {
        "customers": len(customers),
        "guests": int(customers["is_guest"].sum()),
        "orders": len(orders),
        "seconds": round(seconds, 2),
        "cache_dir": cache,
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    elif args.csv:
        print(pd.DataFrame([summary]).to_csv(index=False), end="")
    else:
        print(
            f"{summary['customers']:,} customers ({summary['guests']:,} guests) and "
            f"{summary['orders']:,} orders in {seconds:.1f} s; cache: {cache}"
        )
    return 0


def _rfm(args: argparse.Namespace) -> int:
    import selorax_analytics as sa

    _, orders = _load(args, orders_only=True)
    as_of = _as_of(args)
    rfm = sa.rfm_segments(orders, as_of=as_of, segment_map=_segment_map(args.segments))
    table = rfm if args.customers else sa.segment_summary(rfm)
    notes = [f"as of {as_of}: {len(rfm):,} customers with a valid order"]
    emit(args, {"rfm": table}, notes)
    return 0


def _cohorts(args: argparse.Namespace) -> int:
    import selorax_analytics as sa

    customers, orders = _load(args, orders_only=args.by != "signup")
    as_of = _as_of(args)
    table = sa.cohort_table(
        orders, as_of=as_of, period=args.period, by=args.by, metric=args.metric,
        customers=customers,
    )  # fmt: skip
    notes = [f"{args.metric} by {args.by} cohort, period {args.period}, as of {as_of}"]
    if not (args.all or args.json or args.csv):
        table, shown = _fit_width(table, TERMINAL_WIDTH)
        notes.extend(shown)
    emit(args, {"cohorts": table}, notes)
    return 0


def _fit_width(table: pd.DataFrame, width: int) -> tuple[pd.DataFrame, list[str]]:
    """The recent cohorts and the first periods whose table fits ``width`` characters."""
    periods = [c for c in table.columns if c != "cohort_size"]
    other = [c for c in table.columns if c not in periods]
    recent = table.tail(RECENT_COHORTS)
    filled = [i + 1 for i, c in enumerate(periods) if recent[c].notna().any()]
    keep = max(filled, default=len(periods))
    while keep > 1:
        text = table_text(recent[[*other, *periods[:keep]]])
        if max(len(line) for line in text.splitlines()) <= width:
            break
        keep -= 1
    if not periods or (len(recent) == len(table) and keep == len(periods)):
        return table, []
    note = (
        f"showing the last {len(recent)} of {len(table)} cohorts and periods "
        f"{periods[0]}-{periods[keep - 1]} of {periods[0]}-{periods[-1]}; --all prints everything"
    )
    return recent[[*other, *periods[:keep]]], [note]


def _guests(args: argparse.Namespace) -> int:
    import selorax_analytics as sa

    customers, orders = _load(args)
    as_of = _as_of(args)
    history = sa.load_history(command_client(args))
    result = sa.guest_conversion(
        customers, orders, as_of=as_of, window_days=args.window_days, history=history
    )
    names = ["groups", "cohorts", "funnel", *(["people"] if args.people else [])]
    tables = {n: getattr(result, n) for n in names}
    emit(args, tables, [f"as of {as_of}, conversion window {args.window_days} days"])
    return 0


def _export(args: argparse.Namespace) -> int:
    import selorax_analytics as sa

    if bool(args.segment) == bool(args.all):
        raise _UsageError("export needs a segment name or --all (not both)")
    if args.seed is not None and args.holdout is None:
        raise _UsageError("--seed needs --holdout")
    from selorax_analytics.exports.segments import FORMAT_SUFFIXES, segment_file_stem

    path = args.out or segment_file_stem(args.segment or "") + FORMAT_SUFFIXES[args.format]
    if not (args.all or Path(path).is_dir()):  # refused before the store is loaded
        refuse_existing([Path(path)], overwrite=args.overwrite)
    customers, orders = _load(args)
    as_of = _as_of(args)
    rfm = sa.rfm_segments(orders, as_of=as_of, segment_map=_segment_map(args.segments))
    rfm.attrs["as_of"] = as_of
    options = {"format": args.format, "region": args.region, "overwrite": args.overwrite}
    options.update(holdout_options(args))
    if args.exclude_risk_above is not None:
        risk = sa.delivery_risk(customers, orders, as_of=as_of)
        options |= {"risk": risk, "exclude_risk_above": args.exclude_risk_above}
    if args.all:
        results = sa.export_segments(rfm, args.out or ".", customers=customers, **options)
    else:
        results = {args.segment: sa.export_segment(rfm, args.segment, path, customers=customers,
                                                   **options)}  # fmt: skip
    rows = [
        {
            "segment": r.segment,
            "format": r.format,
            "rows": r.rows,
            "skipped_people": r.skipped_people,
            "skipped_values": len(r.skipped) - r.skipped_people,
            **({"left_out_for_risk": r.risk_excluded} if r.risk_threshold is not None else {}),
            "path": str(r.path),
            **({"campaign": str(r.campaign)} if r.campaign else {}),
        }
        for r in results.values()
    ]
    emit(_without_out(args), {"export": pd.DataFrame(rows)}, [f"as of {as_of}"])
    return 0


def _without_out(args: argparse.Namespace) -> argparse.Namespace:
    return argparse.Namespace(**{**vars(args), "out": None})


# --- entry point -------------------------------------------------------------------------------


class _UsageError(Exception):
    """A combination of options argparse cannot check by itself."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (0 ok, 1 error, 2 usage)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else 2
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        if args.command in ("rfm", "cohorts", "guests") and args.out:
            # an --out file that would be refused is refused before the store is loaded
            refuse_existing([Path(args.out)], overwrite=args.overwrite)
        return int(handler(args))
    except _UsageError as exc:
        prog = f"selorax-analytics {args.command}"
        print(f"{prog}: error: {exc} (see {prog} --help)", file=sys.stderr)
        return 2
    except OutputExistsError as exc:  # the user's choice of path: a usage error
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except (SeloraxError, OSError) as exc:
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        client = getattr(args, "client", None)
        if client is not None:
            client.close()


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


if __name__ == "__main__":
    sys.exit(main())
