"""The store a command talks to: the ``--base-url``/``--token``/... options and its one client.

Every store-reading subcommand takes the same options; with none given (and no ``SELORAX_*``
credentials), :func:`selorax_analytics.connect` serves the embedded demo store. The client is
made on first use and kept on the parsed arguments, so :func:`~selorax_analytics.cli.main`
closes it whatever the subcommand did.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from selorax_analytics.cli import _options as options


def store_options(parser: argparse.ArgumentParser) -> None:
    """Add the options that choose the store, its cache and how fresh the data must be."""
    group = parser.add_argument_group(
        "store (default: the environment; with nothing set, the embedded demo store)"
    )
    group.add_argument("--base-url", help="API base URL (env SELORAX_BASE_URL)")
    group.add_argument("--token", help="access token (env SELORAX_TOKEN); prefer the environment")
    group.add_argument("--client-id", help="app client id (env SELORAX_CLIENT_ID)")
    group.add_argument("--client-secret", help="app client secret (env SELORAX_CLIENT_SECRET)")
    group.add_argument("--store-id", type=options.store_id, help="store id (env SELORAX_STORE_ID)")
    group.add_argument(
        "--cache-dir", type=options.path, help="cache folder (env SELORAX_CACHE_DIR)"
    )
    group.add_argument(
        "--refresh",
        choices=("auto", "full", "never"),
        default="auto",
        help="auto: serve a fresh cache, else update it; full: reload; never: offline",
    )
    group.add_argument("--no-progress", action="store_true", help="hide progress bars")


def command_client(args: argparse.Namespace) -> Any:
    """The command's one client, made on first use; :func:`main` closes it."""
    if getattr(args, "client", None) is None:
        args.client = _new_client(args)
    return args.client


def _new_client(args: argparse.Namespace) -> Any:
    import selorax_analytics as sa

    if args.cache_dir:
        os.environ["SELORAX_CACHE_DIR"] = str(Path(args.cache_dir).expanduser())
    given = {
        "token": args.token,
        "client_id": args.client_id,
        "client_secret": args.client_secret,
        "store_id": args.store_id,
    }
    if args.base_url or any(v is not None for v in given.values()):
        chosen = {k: v for k, v in given.items() if v is not None}
        return sa.Client(args.base_url, **chosen)
    return sa.connect()
