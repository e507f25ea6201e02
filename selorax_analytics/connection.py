"""Which store a user works on: the configured one, or the embedded demo store.

>>> import selorax_analytics as sa
>>> client = sa.connect()            # SELORAX_* settings, or the embedded demo store
>>> client.list_customers(limit=5).total

This is the one place that starts a sandbox for a user: :func:`connect` with nothing configured
serves the demo store from a sandbox in a background thread (once per process), and
:func:`demo_environment` serves a fresh one for notebook kernels. The command line and the
report ask :func:`is_demo_store` and :func:`default_as_of` rather than looking at credentials
or folder names themselves; the command line reads the demo store's fresh cache through
:func:`demo_cache_client`, which starts nothing, and calls :func:`connect` only to load.

The sandbox is imported inside the functions that start one, so that loading a real store never
pays for importing the server.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from typing import Any

import pandas as pd

from selorax_analytics.api.client import Client
from selorax_analytics.exceptions import AuthenticationError

#: The time zone whose calendar day "today" means for a real store.
STORE_TIMEZONE = "Asia/Dhaka"

_EMBEDDED: dict[str, Any] = {}
_EMBEDDED_LOCK = threading.Lock()
_CREDENTIALS = ("token", "client_id", "client_secret")
#: The base URL of :func:`demo_cache_client`: a reserved name that never resolves.
_OFFLINE_DEMO_URL = "http://embedded-sandbox.invalid"


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def _embedded_sandbox() -> str:
    """The base URL of this process's embedded demo sandbox, started on first use."""
    with _EMBEDDED_LOCK:
        if "url" not in _EMBEDDED:
            from selorax_analytics.sandbox import Sandbox

            sandbox = Sandbox()
            _EMBEDDED["url"] = sandbox.start()
            _EMBEDDED["sandbox"] = sandbox
            print(
                "selorax-analytics: no SELORAX_TOKEN or client credentials set; serving the demo "
                f"store from an embedded sandbox at {_EMBEDDED['url']}.",
                file=sys.stderr,
            )
        return str(_EMBEDDED["url"])


def connect(**options: Any) -> Client:
    """A :class:`~selorax_analytics.Client` for the configured store, or for the demo store.

    With ``SELORAX_TOKEN`` (or client credentials) set, the client uses them and
    ``SELORAX_BASE_URL``. With nothing set, a sandbox serving the demo store starts in a
    background thread (once per process), one line on stderr says so, and the client uses it;
    its ``embedded_demo`` is then true, its ``demo_data`` the fingerprint of the demo data and its
    ``store_id`` the demo store's (22), so its cache folder is named without a request.

    Parameters
    ----------
    **options
        Passed to :class:`~selorax_analytics.Client` (``timeout``, ``max_concurrency``, ...).

    Returns
    -------
    Client

    Raises
    ------
    AuthenticationError
        ``SELORAX_BASE_URL`` (or ``base_url=``) is set without credentials, or the credentials
        given are incomplete.

    Examples
    --------
    >>> client = connect()  # doctest: +SKIP
    >>> customers = load_customers(client)  # doctest: +SKIP
    """
    configured = any(options.get(k) for k in _CREDENTIALS) or any(
        _env(f"SELORAX_{k.upper()}") for k in _CREDENTIALS
    )
    if configured:
        return Client(**options)
    if _env("SELORAX_BASE_URL") or options.get("base_url"):
        raise AuthenticationError(
            "SELORAX_BASE_URL is set but no credentials are: set SELORAX_TOKEN (or "
            "SELORAX_CLIENT_ID, SELORAX_CLIENT_SECRET and SELORAX_STORE_ID)."
        )
    from selorax_analytics.sandbox import DEMO_STORE_ID, DEMO_TOKEN

    # The store is given, so the cache folder (embedded-sandbox-<fp>/store-22) needs no request.
    options.setdefault("store_id", DEMO_STORE_ID)
    return mark_embedded_demo(Client(_embedded_sandbox(), token=DEMO_TOKEN, **options))


def mark_embedded_demo(client: Client) -> Client:
    """Flag ``client`` as the embedded demo store's, with the fingerprint of its demo data.

    Its cache folder is then ``embedded-sandbox-<fingerprint>/store-22`` (whatever port the
    sandbox listens on), and demo data of another release never share it
    (:func:`selorax_analytics.sandbox.fingerprint.demo_data_fingerprint`).
    """
    from selorax_analytics.sandbox.fingerprint import demo_data_fingerprint

    client.embedded_demo = True
    client.demo_data = demo_data_fingerprint()
    return client


def is_configured(**options: Any) -> bool:
    """Whether :func:`connect` would use configured credentials rather than the demo store."""
    given = any(options.get(k) for k in _CREDENTIALS) or options.get("base_url")
    return bool(given) or any(_env(f"SELORAX_{k.upper()}") for k in (*_CREDENTIALS, "base_url"))


def demo_cache_client() -> Client:
    """A client that names the embedded demo store's cache folder and starts no sandbox.

    Only for offline loads (``refresh="never"``): its base URL is a placeholder that never
    answers. The command line reads a fresh cache through it, and calls :func:`connect` only
    when the cache is missing or too old.
    """
    from selorax_analytics.sandbox import DEMO_STORE_ID, DEMO_TOKEN

    return mark_embedded_demo(Client(_OFFLINE_DEMO_URL, token=DEMO_TOKEN, store_id=DEMO_STORE_ID))


def is_demo_store(client: Client) -> bool:
    """Whether ``client`` works on the demo store.

    True for the embedded demo store :func:`connect` starts, and for any sandbox reached with
    the demo store's own credentials (``selorax-analytics sandbox`` prints them).
    """
    if client.embedded_demo:
        return True
    from selorax_analytics.sandbox import DEMO_CLIENT_ID, DEMO_TOKEN

    credentials = client.credentials
    return credentials.token == DEMO_TOKEN or credentials.client_id == DEMO_CLIENT_ID


def default_as_of(client: Client) -> str:
    """The last day to analyse when none is given, as ``YYYY-MM-DD``.

    The demo store's own day for the demo store (its data stops there), else today in
    Asia/Dhaka.
    """
    if is_demo_store(client):
        from selorax_analytics.sandbox import DEMO_AS_OF

        return str(DEMO_AS_OF)
    return pd.Timestamp.now(tz=STORE_TIMEZONE).strftime("%Y-%m-%d")


@contextlib.contextmanager
def demo_environment() -> Iterator[dict[str, str]]:
    """Serve a fresh demo store and yield the variables that point a kernel at it.

    The sandbox runs in a background thread of this process; the cache goes to a temporary
    folder, so every run loads the same demo data afresh. Both go away on exit. The variables
    are ``SELORAX_BASE_URL``, ``SELORAX_TOKEN`` and ``SELORAX_CACHE_DIR``.
    """
    from selorax_analytics.sandbox import DEMO_TOKEN, Sandbox

    with tempfile.TemporaryDirectory(prefix="selorax-cache-") as cache, Sandbox() as base_url:
        yield {
            "SELORAX_BASE_URL": base_url,
            "SELORAX_TOKEN": DEMO_TOKEN,
            "SELORAX_CACHE_DIR": cache,
        }


__all__ = ["connect", "default_as_of", "demo_environment", "is_demo_store"]
