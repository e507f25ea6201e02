"""Which store a load's cache folder belongs to: ``GET /store``, remembered in ``stores.json``.

A client with ``store_id`` names its folder (``<root>/<host>/store-<id>``) without a request. A
Bearer token implies its store, which is asked once from ``GET /api/apps/v1/store`` and
remembered by the cache (:func:`~selorax_analytics.loading.cache.remember_store`) under a hash of
the token, never the token. This is the only loading module that asks the API about the store;
the cache itself only reads and writes files.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from pathlib import Path

from selorax_analytics.api.client import Client
from selorax_analytics.exceptions import (
    ApiError,
    AuthenticationError,
    ConnectionFailedError,
    NotFoundError,
)
from selorax_analytics.loading.cache import cache_root, read_stores, remember_store

logger = logging.getLogger("selorax_analytics")

CacheOption = bool | str | os.PathLike[str]
#: The host folder of the embedded demo store (whatever port its sandbox listens on), before
#: the ``-<fingerprint>`` of its data (``Client.demo_data``).
EMBEDDED_DEMO_FOLDER = "embedded-sandbox"

#: One store lookup at a time per credential, so loads started together ask ``GET /store``
#: once; loads of other stores (an agency's many clients) do not wait for it.
_LOOKUPS: dict[str, threading.Lock] = {}
_LOOKUPS_LOCK = threading.Lock()


def _lookup_lock(key: str) -> threading.Lock:
    with _LOOKUPS_LOCK:
        return _LOOKUPS.setdefault(key, threading.Lock())


def host_dir(client: Client, cache: CacheOption = True) -> Path:
    """The folder under the cache root that holds the stores of ``client``'s API host.

    The embedded demo store's is ``embedded-sandbox-<fingerprint of its data>`` whatever port
    its sandbox listens on, so after an upgrade that changes the demo data the old cache is
    not read.
    """
    if client.embedded_demo:
        host = "-".join(filter(None, [EMBEDDED_DEMO_FOLDER, client.demo_data]))
    else:
        host = client.host
    return cache_root(cache) / host.replace(":", "_").replace("/", "_")


def _token_key(client: Client) -> str:
    """What ``stores.json`` files the token's store under: a hash, never the token."""
    text = f"{client.host}|{client.credentials.token or ''}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def store_known(client: Client, cache: CacheOption = True) -> bool:
    """Whether :func:`cache_dir_for` can name ``client``'s folder without a request."""
    if client.store_id is not None:
        return True
    return _token_key(client) in read_stores(host_dir(client, cache))[0]


def cache_dir_for(client: Client, cache: CacheOption = True, *, offline: bool = False) -> Path:
    """The folder holding ``client``'s store's cache.

    Parameters
    ----------
    client
        The store's client. With client credentials the store is its ``store_id``; a Bearer
        token's store is asked once from ``GET /api/apps/v1/store`` and remembered.
    cache
        ``True`` (``SELORAX_CACHE_DIR`` or the user cache) or a folder.
    offline
        Only the cache is wanted: a connection failure or a refused credential then names the
        folder by a hash of the token instead of raising.

    Returns
    -------
    Path
        ``<root>/<host>/store-<id>``; ``<root>/<host>/token-<hash>`` for this call only when the
        store cannot be told (the endpoint is missing or fails; the next call asks again).
    """
    hosts = host_dir(client, cache)
    if client.store_id is not None:
        return hosts / f"store-{client.store_id}"
    key = _token_key(client)
    with _lookup_lock(f"{hosts}|{key}"):
        known = read_stores(hosts)[0].get(key)
        if known is not None:
            return hosts / known
        store = _ask_store(client, offline)
        if store is None:
            return hosts / f"token-{key[:12]}"  # for this load only: the next one asks again
        remember_store(hosts, key, f"store-{store}")
        return hosts / f"store-{store}"


def _ask_store(client: Client, offline: bool) -> int | None:
    """The token's store from ``GET /store``, or ``None`` when it cannot be told.

    A connection failure or a refused credential is raised (the load's own requests would fail
    the same way), unless ``offline``: then only the cache is wanted, and a hash names it.
    """
    try:
        answer = client.get_store().get("store_id")
    except (ConnectionFailedError, AuthenticationError):
        if offline:
            return None
        raise
    except NotFoundError:
        logger.info("The API has no GET /store; the cache folder is named by a hash of the token.")
        return None
    except (ApiError, TypeError, ValueError, AttributeError) as exc:
        logger.warning(
            "GET /store failed (%s); this load's cache folder is named by a hash of the token, "
            "and the store is asked again next time.",
            exc,
        )
        return None
    text = str(answer)
    if isinstance(answer, bool) or not (text.isascii() and text.isdigit()) or int(text) < 1:
        logger.warning(
            "GET /store answered store_id %.40r, not a store id; this load's cache folder is "
            "named by a hash of the token, and the store is asked again next time.",
            answer,
        )
        return None
    return int(text)
