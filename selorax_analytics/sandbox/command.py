"""Serving a sandbox in the foreground until stopped, as ``selorax-analytics sandbox`` does.

Takes plain values (the command line in :mod:`selorax_analytics.cli` parses and checks them):
builds the :class:`Sandbox`, prints its address and credentials, serves until Ctrl-C or
SIGTERM, and turns a bad setting or an address it cannot bind into one line on stderr and an
exit status.
"""

from __future__ import annotations

import contextlib
import errno
import socket
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

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

_PROG = "selorax-analytics sandbox"


def build(
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    db: str | None = None,
    data: str | None = None,
    seed: int = DEFAULT_SEED,
    customers: int = DEFAULT_CUSTOMERS,
    money_as_strings: bool = False,
    tokens: Sequence[str] = (),
    faults: Faults | None = None,
    stores: int | None = None,
) -> Sandbox:
    """The sandbox these settings describe, not yet started.

    ``tokens`` are extra Bearer tokens as ``TOKEN:STORE_ID[:SCOPES]``. Raises
    :class:`~selorax_analytics.sandbox.errors.SetupError` for a bad ``db`` or ``data``, and
    ``ValueError`` for a bad token. ``stores`` serves that many synthetic stores instead of the
    demo store (each with its own token).
    """
    return Sandbox(
        host=host,
        port=port,
        db=db,
        data=data,
        seed=seed,
        customers=customers,
        faults=faults or Faults(),
        money_as_strings=money_as_strings,
        tokens=dict(parse_token_option(t) for t in tokens),
        stores=stores,
    )


def banner(sandbox: Sandbox, base_url: str, out: TextIO) -> None:
    if sandbox.fleet:
        fleet_banner(sandbox, base_url, out)
        return
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


def fleet_banner(sandbox: Sandbox, base_url: str, out: TextIO) -> None:
    """What a fleet sandbox serves: one line per store with its Bearer token."""
    print(f"SeloraX sandbox serving {len(sandbox.fleet)} stores at {base_url}", file=out)
    print(f"  export SELORAX_BASE_URL={base_url}", file=out)
    width = max(len(spec.name) for spec in sandbox.fleet)
    for spec in sandbox.fleet:
        print(
            f"  store {spec.store_id} {spec.name:<{width}} {spec.customers:>6} people  "
            f"export {spec.env_name}={spec.token}",
            file=out,
        )
    print(
        "A fleet file names each store's variable: [[store]] name, base_url, token_env.",
        file=out,
    )
    print("Press Ctrl-C to stop.", file=out, flush=True)


def _ready(
    sandbox: Sandbox, url: str, out: TextIO, on_ready: Callable[[Sandbox, str], None] | None
) -> None:
    if on_ready is not None:
        on_ready(sandbox, url)
    banner(sandbox, url, out)


def _cannot_listen(host: str, port: int, exc: OSError) -> tuple[str, int]:
    """The one line (and exit status) for an address the server cannot bind."""
    where = f"--host {host} --port {port}"
    if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
        return (
            f"--host {host!r}: not an address of this machine; give one such as 127.0.0.1",
            2,
        )
    if exc.errno == errno.EADDRINUSE:
        return (
            f"--port {port}: already in use on {host}; stop the other server or "
            "give another port (0 picks a free one)",
            1,
        )
    if exc.errno == errno.EACCES:
        return f"{where}: permission denied; give a port from 1024 up (0 picks a free one)", 1
    return f"{where}: cannot listen there ({exc.strerror or exc})", 1


def run(
    *,
    out: TextIO | None = None,
    on_ready: Callable[[Sandbox, str], None] | None = None,
    **settings: Any,
) -> int:
    """Serve until interrupted; the exit status.

    0 on a clean stop, 2 when a setting or a data file is bad, 1 when the address cannot be
    bound (a port in use). ``settings`` are :func:`build`'s; the banner goes to ``out``
    (default stdout). ``on_ready(sandbox, base_url)`` runs once the address is bound, before
    the banner; what it raises stops the sandbox and propagates.
    """
    shown = out if out is not None else sys.stdout
    try:
        sandbox = build(**settings)
    except SetupError as exc:
        print(f"{_PROG}: error: --{exc.option} {str(exc.value)!r}: {exc.reason}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"{_PROG}: error: {exc}", file=sys.stderr)
        return 2
    try:
        with contextlib.suppress(KeyboardInterrupt):
            sandbox.serve_forever(lambda url: _ready(sandbox, url, shown, on_ready))
    except OSError as exc:
        message, status = _cannot_listen(sandbox.host, sandbox.port, exc)
        print(f"{_PROG}: error: {message}", file=sys.stderr)
        return status
    return 0
