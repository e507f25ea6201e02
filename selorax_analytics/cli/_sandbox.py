"""``selorax-analytics sandbox``: its options, each checked when parsed, and the call that serves.

A bad value is refused by argparse in one line naming the option, the value and what is
accepted (exit 2); the checked values go to :func:`selorax_analytics.sandbox.command.run`.
"""

from __future__ import annotations

import argparse
import functools
import math
import sys
from pathlib import Path
from typing import Any, TextIO

from selorax_analytics._files import refuse_existing, write_file
from selorax_analytics.exceptions import OutputExistsError, SeloraxError
from selorax_analytics.sandbox import Faults
from selorax_analytics.sandbox import command as sandbox_command
from selorax_analytics.sandbox.fleet import (
    FLEET_MAX_CUSTOMERS,
    FLEET_MAX_STORES,
    FLEET_MIN_CUSTOMERS,
)
from selorax_analytics.sandbox.generator import DEFAULT_CUSTOMERS, DEFAULT_SEED
from selorax_analytics.sandbox.server import DEFAULT_HOST, DEFAULT_PORT, Sandbox

#: The most latency or jitter the command adds to a request, in milliseconds (one minute).
MAX_LATENCY_MS = 60_000
#: The largest demo store the command generates (it is built in memory, about 1 s per 5,000).
MAX_CUSTOMERS = 1_000_000
#: The longest rate-limit window, in seconds.
MAX_RATE_WINDOW = 3600.0
_MAX_SQLITE_INTEGER = 2**63 - 1


# --- option types ------------------------------------------------------------------------------


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


def fraction(text: str) -> float:
    return float(_in_range(text, float, 0, 1, "a fraction"))


def milliseconds(text: str) -> float:
    """Milliseconds on the command line, seconds in the returned value."""
    return float(_in_range(text, float, 0, MAX_LATENCY_MS, "milliseconds")) / 1000


def port(text: str) -> int:
    return int(_in_range(text, int, 0, 65535, "a port", " (0 picks a free one)"))


def customers(text: str) -> int:
    return int(_in_range(text, int, 1, MAX_CUSTOMERS, "a number of people"))


def stores(text: str) -> int:
    return int(_in_range(text, int, 1, FLEET_MAX_STORES, "a number of stores"))


def requests(text: str) -> int:
    return int(_in_range(text, int, 1, _MAX_SQLITE_INTEGER, "a number of requests"))


def seed(text: str) -> int:
    # The second store is generated from seed + 1.
    return int(_in_range(text, int, 0, _MAX_SQLITE_INTEGER - 1, "a whole number"))


def window(text: str) -> float:
    value = float(_in_range(text, float, 0, MAX_RATE_WINDOW, "seconds", ", more than 0"))
    if value == 0:
        raise argparse.ArgumentTypeError(
            f"{text!r} is out of range; give seconds from 0 to {MAX_RATE_WINDOW:g}, more than 0"
        )
    return value


def host(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError(
            f"{text!r} is empty; give an address such as 127.0.0.1 or ::1"
        )
    return text.strip()


# --- the subcommand ----------------------------------------------------------------------------


def add_sandbox(commands: Any) -> None:
    """Add the ``sandbox`` subcommand to ``commands`` (argparse subparsers)."""
    parser = commands.add_parser(
        "sandbox", help="serve the demo store on a local SeloraX-compatible API"
    )
    parser.add_argument(
        "--host", type=host, default=DEFAULT_HOST, help="address to bind (default %(default)s)"
    )
    parser.add_argument(
        "--port", type=port, default=DEFAULT_PORT, help="port (default %(default)s; 0 picks one)"
    )
    parser.add_argument(
        "--db", help="SQLite file that persists across restarts (default: temporary)"
    )
    parser.add_argument(
        "--data", help="folder of customers and orders files (CSV or Parquet) to serve"
    )
    parser.add_argument(
        "--seed", type=seed, default=DEFAULT_SEED, help="demo store seed (default %(default)s)"
    )
    parser.add_argument(
        "--customers",
        type=customers,
        default=DEFAULT_CUSTOMERS,
        help="demo store size (default %(default)s)",
    )
    parser.add_argument(
        "--stores",
        type=stores,
        metavar="N",
        help=f"serve N synthetic stores of varied sizes ({FLEET_MIN_CUSTOMERS:,} to "
        f"{FLEET_MAX_CUSTOMERS:,} people), each with its own token, instead of the demo store",
    )
    parser.add_argument(
        "--fleet-file",
        metavar="FILE",
        help="with --stores: write the fleet file naming one environment variable per store "
        "(no token in it) and print the export lines that set them",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --fleet-file")
    parser.add_argument("--money-as-strings", action="store_true", help='send amounts as "1460.00"')
    parser.add_argument(
        "--token",
        action="append",
        default=[],
        metavar="TOKEN:STORE[:SCOPES]",
        help="add a Bearer token, e.g. sx_at_mine:22:read:customers,read:orders (repeatable)",
    )
    _add_fault_options(parser.add_argument_group("fault options (off by default)"))
    parser.set_defaults(handler=serve)


def _add_fault_options(stress: Any) -> None:
    stress.add_argument(
        "--latency", type=milliseconds, default=0.0, metavar="MS", help="added latency per request"
    )
    stress.add_argument(
        "--jitter",
        type=milliseconds,
        default=0.0,
        metavar="MS",
        help="extra random latency, up to MS",
    )
    stress.add_argument(
        "--rate-limit",
        type=requests,
        metavar="N",
        help="requests per window per credential, then 429",
    )
    stress.add_argument(
        "--rate-window", type=window, default=1.0, metavar="S", help="rate-limit window in seconds"
    )
    stress.add_argument(
        "--error-rate",
        type=fraction,
        default=0.0,
        metavar="F",
        help="fraction answering 500/502/503",
    )
    stress.add_argument(
        "--drop-rate", type=fraction, default=0.0, metavar="F", help="fraction of responses cut off"
    )
    stress.add_argument("--fault-seed", type=int, default=0, help="seed of the fault draws")


def serve(args: argparse.Namespace) -> int:
    """Serve the sandbox the parsed options describe until stopped; the exit status."""
    faults = Faults(
        latency=args.latency,
        jitter=args.jitter,
        rate_limit=args.rate_limit,
        rate_window=args.rate_window,
        error_rate=args.error_rate,
        drop_rate=args.drop_rate,
        seed=args.fault_seed,
    )
    on_ready = None
    if args.fleet_file is not None:
        if args.stores is None:
            print(
                "selorax-analytics sandbox: error: --fleet-file needs --stores N (the demo "
                "store has no fleet file)",
                file=sys.stderr,
            )
            return 2
        path = Path(args.fleet_file).expanduser()
        refuse_existing([path], overwrite=args.overwrite)  # before the stores are generated
        on_ready = functools.partial(write_fleet, path, overwrite=args.overwrite, out=sys.stdout)
    return sandbox_command.run(
        on_ready=on_ready,
        host=args.host,
        port=args.port,
        db=args.db,
        data=args.data,
        seed=args.seed,
        customers=args.customers,
        money_as_strings=args.money_as_strings,
        tokens=args.token,
        faults=faults,
        stores=args.stores,
    )


def write_fleet(
    path: Path, sandbox: Sandbox, base_url: str, *, overwrite: bool, out: TextIO
) -> None:
    """Write the fleet file of the started fleet ``sandbox`` at ``path``; print the exports.

    The file names one environment variable per store, never a token
    (:meth:`~selorax_analytics.sandbox.Sandbox.write_fleet_file`), written as every file the
    command line writes (:func:`~selorax_analytics._files.write_file`: refused if it exists
    unless ``overwrite``, never half-written). The ``export VARIABLE=token`` lines printed are
    what a shell needs before ``selorax-analytics fleet fetch --fleet FILE``.
    """
    variables: dict[str, str] = {}
    try:
        write_file(
            path, lambda tmp: variables.update(sandbox.write_fleet_file(tmp)), overwrite=overwrite
        )
    except OSError as exc:
        if isinstance(exc, OutputExistsError):
            raise
        raise SeloraxError(
            f"Cannot write the fleet file {str(path)!r} ({exc.strerror or exc}); give a "
            "writable path with --fleet-file."
        ) from None
    print(
        f"Fleet file {path} names {len(variables)} stores at {base_url}; set them with:", file=out
    )
    for name, token in variables.items():
        print(f"export {name}={token}", file=out)
    print(f"then: selorax-analytics fleet fetch --fleet {path}", file=out)
