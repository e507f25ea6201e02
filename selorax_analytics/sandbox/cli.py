"""``selorax-analytics sandbox``: serve the demo store (or replayed data) until stopped."""

from __future__ import annotations

import argparse
import contextlib
import errno
import math
import socket
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
from selorax_analytics.sandbox.errors import SetupError
from selorax_analytics.sandbox.faults import Faults
from selorax_analytics.sandbox.generator import DEFAULT_CUSTOMERS, DEFAULT_SEED
from selorax_analytics.sandbox.server import DEFAULT_HOST, DEFAULT_PORT, Sandbox

#: The most latency or jitter the command adds to a request, in milliseconds (one minute).
MAX_LATENCY_MS = 60_000
#: The largest demo store the command generates (it is built in memory, about 1 s per 5,000).
MAX_CUSTOMERS = 1_000_000
MAX_RATE_WINDOW = 3600.0
_MAX_SQLITE_INTEGER = 2**63 - 1


def _number(text: str, kind: type[int] | type[float], accepted: str) -> float:
    """``text`` as a finite number of ``kind``, else the usage error saying what is accepted."""
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not accepted; give {accepted}")
    return value


def _shown(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() else f"{bound:g}"


def _in_range(
    text: str, kind: type[int] | type[float], low: float, high: float, unit: str, note: str = ""
) -> float:
    accepted = f"{unit} from {_shown(low)} to {_shown(high)}{note}"
    value = _number(text, kind, accepted)
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"{text!r} is out of range; give {accepted}")
    return value


def _fraction(text: str) -> float:
    return float(_in_range(text, float, 0, 1, "a fraction"))


def _milliseconds(text: str) -> float:
    return float(_in_range(text, float, 0, MAX_LATENCY_MS, "milliseconds")) / 1000


def _port(text: str) -> int:
    return int(_in_range(text, int, 0, 65535, "a port", " (0 picks a free one)"))


def _customers(text: str) -> int:
    return int(_in_range(text, int, 1, MAX_CUSTOMERS, "a number of people"))


def _requests(text: str) -> int:
    return int(_in_range(text, int, 1, _MAX_SQLITE_INTEGER, "a number of requests"))


def _seed(text: str) -> int:
    # The second store is generated from seed + 1.
    return int(_in_range(text, int, 0, _MAX_SQLITE_INTEGER - 1, "a whole number"))


def _window(text: str) -> float:
    value = float(_in_range(text, float, 0, MAX_RATE_WINDOW, "seconds", ", more than 0"))
    if value == 0:
        raise argparse.ArgumentTypeError(
            f"{text!r} is out of range; give seconds from 0 to {MAX_RATE_WINDOW:g}, more than 0"
        )
    return value


def _host(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError(
            f"{text!r} is empty; give an address such as 127.0.0.1 or ::1"
        )
    return text.strip()


_PROG = "selorax-analytics sandbox"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``sandbox`` subcommand's options."""
    parser.add_argument(
        "--host", type=_host, default=DEFAULT_HOST, help="address to bind (default %(default)s)"
    )
    parser.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, help="port (default %(default)s; 0 picks one)"
    )
    parser.add_argument(
        "--db", help="SQLite file that persists across restarts (default: temporary)"
    )
    parser.add_argument(
        "--data", help="folder of customers and orders files (CSV or Parquet) to serve"
    )
    parser.add_argument(
        "--seed", type=_seed, default=DEFAULT_SEED, help="demo store seed (default %(default)s)"
    )
    parser.add_argument(
        "--customers",
        type=_customers,
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
        "--rate-limit",
        type=_requests,
        metavar="N",
        help="requests per window per credential, then 429",
    )
    stress.add_argument(
        "--rate-window", type=_window, default=1.0, metavar="S", help="rate-limit window in seconds"
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


def _cannot_listen(args: argparse.Namespace, exc: OSError) -> tuple[str, int]:
    """The one line (and exit status) for an address the server cannot bind."""
    where = f"--host {args.host} --port {args.port}"
    if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
        return (
            f"--host {args.host!r}: not an address of this machine; give one such as 127.0.0.1",
            2,
        )
    if exc.errno == errno.EADDRINUSE:
        return (
            f"--port {args.port}: already in use on {args.host}; stop the other server or "
            "give another port (0 picks a free one)",
            1,
        )
    if exc.errno == errno.EACCES:
        return f"{where}: permission denied; give a port from 1024 up (0 picks a free one)", 1
    return f"{where}: cannot listen there ({exc.strerror or exc})", 1


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    """Serve until interrupted: 0 on a clean stop, 2 when an option or a data file is bad, 1
    when the address cannot be bound (a port in use)."""
    try:
        sandbox = build(args)
    except SetupError as exc:
        print(f"{_PROG}: error: --{exc.option} {str(exc.value)!r}: {exc.reason}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"{_PROG}: error: {exc}", file=sys.stderr)
        return 2
    try:
        with contextlib.suppress(KeyboardInterrupt):
            sandbox.serve_forever(lambda url: banner(sandbox, url, out))
    except OSError as exc:
        message, status = _cannot_listen(args, exc)
        print(f"{_PROG}: error: {message}", file=sys.stderr)
        return status
    return 0
