"""The store a command talks to: the ``--base-url``/``--token``/... options and its one client.

Every store-reading subcommand takes the same options; with none given (and no ``SELORAX_*``
credentials), :func:`selorax_analytics.connect` serves the embedded demo store. The client is
made on first use and kept on the parsed arguments, so :func:`~selorax_analytics.cli.main`
closes it whatever the subcommand did.

:func:`load_fresh` reads the embedded demo store's cache without starting its sandbox when the
cache is fresh (within the loaders' ``max_age``), and says on stderr how old the data are.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

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

    _use_cache_dir(args)
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


def _use_cache_dir(args: argparse.Namespace) -> None:
    if args.cache_dir:
        os.environ["SELORAX_CACHE_DIR"] = str(Path(args.cache_dir).expanduser())


def _given(args: argparse.Namespace) -> bool:
    """Whether the options name a store (else the environment, or the embedded demo store)."""
    chosen = (args.base_url, args.token, args.client_id, args.client_secret, args.store_id)
    return any(v is not None for v in chosen)


Frames = tuple[pd.DataFrame, ...]


def load_fresh(args: argparse.Namespace, load: Callable[[Any, str], Frames]) -> Frames:
    """``load(client, refresh)``'s frames, then one stderr line saying how old they are.

    For the embedded demo store with ``--refresh auto``, the cache is read offline first
    (``refresh="never"``, then the loaders' ``max_age``): a fresh cache is served without
    starting the sandbox or sending a request, and ``--refresh never`` never starts it.
    :func:`selorax_analytics.connect` is called only when the cache is missing, unusable or too
    old, so it keeps starting the sandbox as documented for Python users.
    """
    from selorax_analytics.connection import demo_cache_client, is_configured
    from selorax_analytics.exceptions import CacheError
    from selorax_analytics.loading._pipeline import DEFAULT_MAX_AGE

    _use_cache_dir(args)
    frames: Frames | None = None
    demo = getattr(args, "client", None) is None and not _given(args) and not is_configured()
    if demo and args.refresh == "never":  # offline: the sandbox is never needed
        args.client = demo_cache_client()
        frames = load(args.client, "never")
    elif demo and args.refresh == "auto":
        client = demo_cache_client()
        try:
            frames = load(client, "never")
        except CacheError:
            frames = None
        if frames is not None and data_age(frames) < DEFAULT_MAX_AGE:
            args.client = client
        else:
            frames = None
            client.close()
    if frames is None:
        frames = load(command_client(args), args.refresh)
    print(age_line(frames), file=sys.stderr)
    return frames


def data_age(frames: Frames) -> float:
    """Seconds since the oldest of ``frames`` came from the API."""
    stamps = [pd.Timestamp(f.attrs["selorax"]["refreshed_at"]) for f in frames]
    return (pd.Timestamp.now(tz="UTC") - min(stamps)).total_seconds()


def age_line(frames: Frames) -> str:
    """``data from the cache, 3 minutes old`` or ``data loaded from the API just now``."""
    if all(f.attrs["selorax"]["source"] == "api" for f in frames):
        return "data loaded from the API just now"
    return f"data from the cache, {_duration(data_age(frames))} old"


def _duration(seconds: float) -> str:
    seconds = max(seconds, 0.0)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return "less than a minute"
