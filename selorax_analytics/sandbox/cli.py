"""``selorax-analytics sandbox``: serve the demo store (or replayed data) until stopped."""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import TextIO

from selorax_analytics.sandbox.auth import (
    CUSTOMERS_ONLY_TOKEN,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_TOKEN,
    SECOND_STORE_TOKEN,
    parse_token_option,
)
from selorax_analytics.sandbox.faults import Faults
from selorax_analytics.sandbox.generator import DEFAULT_CUSTOMERS, DEFAULT_SEED
from selorax_analytics.sandbox.server import DEFAULT_HOST, DEFAULT_PORT, Sandbox


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a fraction from 0 to 1")
    return value


def _milliseconds(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative; give milliseconds, 0 or more")
    return value / 1000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``sandbox`` subcommand's options."""
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help="address to bind (default %(default)s)"
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="port (default %(default)s; 0 picks one)"
    )
    parser.add_argument(
        "--db", help="SQLite file that persists across restarts (default: temporary)"
    )
    parser.add_argument(
        "--data", help="folder of customers and orders files (CSV or Parquet) to serve"
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="demo store seed (default %(default)s)"
    )
    parser.add_argument(
        "--customers",
        type=int,
        default=DEFAULT_CUSTOMERS,
        help="demo store size (default %(default)s)",
    )
    parser.add_argument("--money-as-strings", action="store_true", help='send amounts as "1460.00"')
    parser.add_argument(
        "--token",
        action="append",
        default=[],
        metavar="TOKEN:STORE[:SCOPES]",
        help="add a Bearer token, e.g. sx_at_mine:22:read:customers,read:orders (repeatable)",
    )
    stress = parser.add_argument_group("fault options (off by default)")
    stress.add_argument(
        "--latency", type=_milliseconds, default=0.0, metavar="MS", help="added latency per request"
    )
    stress.add_argument(
        "--jitter",
        type=_milliseconds,
        default=0.0,
        metavar="MS",
        help="extra random latency, up to MS",
    )
    stress.add_argument(
        "--rate-limit", type=int, metavar="N", help="requests per window per credential, then 429"
    )
    stress.add_argument(
        "--rate-window", type=float, default=1.0, metavar="S", help="rate-limit window in seconds"
    )
    stress.add_argument(
        "--error-rate",
        type=_fraction,
        default=0.0,
        metavar="F",
        help="fraction answering 500/502/503",
    )
    stress.add_argument(
        "--drop-rate",
        type=_fraction,
        default=0.0,
        metavar="F",
        help="fraction of responses cut off",
    )
    stress.add_argument("--fault-seed", type=int, default=0, help="seed of the fault draws")


def build(args: argparse.Namespace) -> Sandbox:
    tokens = dict(parse_token_option(t) for t in args.token)
    faults = Faults(
        latency=args.latency,
        jitter=args.jitter,
        rate_limit=args.rate_limit,
        rate_window=args.rate_window,
        error_rate=args.error_rate,
        drop_rate=args.drop_rate,
        seed=args.fault_seed,
    )
    return Sandbox(
        host=args.host,
        port=args.port,
        db=args.db,
        data=args.data,
        seed=args.seed,
        customers=args.customers,
        faults=faults,
        money_as_strings=args.money_as_strings,
        tokens=tokens,
    )


def banner(sandbox: Sandbox, base_url: str, out: TextIO) -> None:
    print(f"SeloraX sandbox serving store {sandbox.store_id} at {base_url}", file=out)
    print(f"  export SELORAX_BASE_URL={base_url}", file=out)
    print(f"  full access (Bearer):        {DEMO_TOKEN}", file=out)
    print(f"  client credentials:          X-Client-Id {DEMO_CLIENT_ID}", file=out)
    print(f"                               X-Client-Secret {DEMO_CLIENT_SECRET}", file=out)
    print(f"                               X-Store-Id {sandbox.store_id}", file=out)
    print(f"  read:customers only:         {CUSTOMERS_ONLY_TOKEN}", file=out)
    second = f"({sandbox.second_store_id}):"
    print(f"  second, smaller store {second:<7}{SECOND_STORE_TOKEN}", file=out)
    for token, credential in sandbox.state.tokens.items():
        if credential.label.startswith("token-"):
            print(
                f"  added ({credential.store_id}: {','.join(sorted(credential.scopes))}): {token}",
                file=out,
            )
    print("Press Ctrl-C to stop.", file=out, flush=True)


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    """Serve until interrupted; 0 on a clean stop, 2 when an option or a data file is bad."""
    try:
        sandbox = build(args)
    except (ValueError, FileNotFoundError) as exc:
        print(f"selorax-analytics sandbox: error: {exc}", file=sys.stderr)
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        sandbox.serve_forever(lambda url: banner(sandbox, url, out))
    return 0
