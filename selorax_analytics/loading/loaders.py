"""Pages -> typed, cached DataFrames: ``load_customers``, ``load_orders``, ``load_history``.

``load_store`` runs the first two at once.

Each loader walks the list endpoint (``limit=250``; page 1 for ``total``, the other pages
concurrently), checks the rows against ``total`` and repairs a walk the store changed under,
types the rows with :mod:`selorax_analytics.schema`, and keeps the frame in the cache
(:mod:`selorax_analytics.loading.cache`). ``frame.attrs["selorax"]`` describes the load: ``source``
(``"api"`` or ``"cache"``), ``refresh``, ``requests``, ``pages``, ``rows``, ``seconds``,
``cache_dir``, ``refreshed_at`` (when the data came from the API), ``mode``, ``repair`` and
``changes``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import pandas as pd

from selorax_analytics.api import params as check
from selorax_analytics.api.client import Client
from selorax_analytics.connection import connect
from selorax_analytics.loading._customers import CUSTOMER_DEFAULTS, customers_page, fetch_customers
from selorax_analytics.loading._orders import ORDER_DEFAULTS, fetch_orders, orders_page
from selorax_analytics.loading._pipeline import (
    DEFAULT_MAX_AGE,
    CacheOption,
    Plan,
    Refresh,
    check_options,
    run,
)
from selorax_analytics.loading._store import cache_dir_for
from selorax_analytics.loading.cache import empty_history, read_history


def load_customers(
    client: Client | None = None,
    *,
    include_guests: bool = True,
    since: Any = None,
    cache: CacheOption = True,
    refresh: Refresh = "auto",
    max_age: float = DEFAULT_MAX_AGE,
    progress: bool = True,
) -> pd.DataFrame:
    """The store's customers as a typed frame, from the cache or the API.

    Parameters
    ----------
    client
        A :class:`Client`; default :func:`connect` (the demo sandbox when nothing is set).
    include_guests
        Include guest-checkout customers (the API leaves them out unless asked).
    since
        Only customers created on or after this date or date-time (UTC when naive).
    cache
        ``True`` (``SELORAX_CACHE_DIR`` or the user cache), a folder, or ``False``.
    refresh
        ``"auto"``: serve the cache if younger than ``max_age``, else walk the list again,
        upsert changed rows, drop deleted ones and record changes in the history.
        ``"full"``: reload. ``"never"``: cache only; :class:`CacheError` if there is none.
    max_age
        Seconds (or a timedelta) the cache is served without any request.
    progress
        Show a progress bar.

    Returns
    -------
    DataFrame
        One row per customer, sorted by ``user_id``, columns and dtypes of
        :data:`selorax_analytics.schema.CUSTOMER_DTYPES` (unknown API fields kept after them).

    Raises
    ------
    ValidationError
        ``since`` is not a date (before any request).
    DataError
        ``refresh``, ``max_age`` or ``cache`` is not valid.
    CacheError, ApiError, ConnectionFailedError, IncompleteLoadError

    Example
    -------
    >>> customers = load_customers(connect())
    >>> customers.attrs["selorax"]["source"]
    'api'
    """
    max_age = check_options(refresh, max_age, cache)
    since_text = check.timestamp("since", since)
    guests = bool(include_guests)
    plan = Plan(
        kind="customers",
        params={"include_guests": guests, "since": since_text},
        defaults=CUSTOMER_DEFAULTS,
        cache=cache,
        refresh=refresh,
        max_age=max_age,
        progress=progress,
        first_page=partial(customers_page, include_guests=guests, since=since_text, page=1),
    )
    return run(plan, client if client is not None else connect(), fetch_customers)


def load_history(client: Client | None = None, *, cache: CacheOption = True) -> pd.DataFrame:
    """Changes to customers that cache refreshes have seen, oldest first.

    Each refresh of :func:`load_customers` compares the customers it reads with the cached ones
    and records every change of ``is_guest``, ``total_orders``, ``total_spent`` and
    ``updated_at``, so a guest who opens an account is never lost (``guest_conversion(...,
    history=...)`` takes this frame).

    Returns
    -------
    DataFrame
        Columns ``user_id`` (Int64), ``changed_at`` (UTC: the customer's new ``updated_at`` when
        it moved, else the time the refresh saw the change), ``field`` (str), ``old`` and ``new``
        (str, as the API sends them: ``is_guest`` ``"1"``/``"0"``, times ISO with ``Z``). Empty
        with these columns when nothing was recorded. No request is made beyond, at most, one
        ``GET /store`` to name the cache folder.
    """
    client = client if client is not None else connect()
    if cache is False:
        return empty_history()
    return read_history(cache_dir_for(client, cache))


def load_orders(
    client: Client | None = None,
    *,
    since: Any = None,
    until: Any = None,
    status: str | None = None,
    cache: CacheOption = True,
    refresh: Refresh = "auto",
    max_age: float = DEFAULT_MAX_AGE,
    progress: bool = True,
) -> pd.DataFrame:
    """The store's orders as a typed frame, from the cache or the API.

    Orders come from ``GET /orders`` when the credential has ``read:orders``. With only
    ``read:customers`` (403 on ``/orders``) they come from ``/customers/{user_id}/orders`` for the
    customers with ``total_orders > 0``, concurrently; both give identical frames.

    Parameters
    ----------
    client
        A :class:`Client`; default :func:`connect`.
    since, until
        Only orders created on or after ``since`` and on or before ``until`` (UTC when naive).
    status
        Only orders with this ``order_status``.
    cache, refresh, max_age, progress
        As in :func:`load_customers`. ``refresh="auto"`` past ``max_age`` reads only the orders
        updated since the cached watermark (minus :data:`ORDER_SAFETY_MARGIN`) by walking
        ``sort=updated_at:desc``; new orders are among them. In the per-customer mode it re-reads
        the orders of customers whose ``total_orders``, ``total_spent`` or ``updated_at`` moved.

    Returns
    -------
    DataFrame
        One row per order, sorted by ``order_id``, columns and dtypes of
        :data:`selorax_analytics.schema.ORDER_DTYPES`. ``attrs["selorax"]["mode"]`` is
        ``"orders"`` or ``"per-customer"``.

    Raises
    ------
    ValidationError, DataError, CacheError, ApiError, ConnectionFailedError, IncompleteLoadError

    Example
    -------
    >>> orders = load_orders(connect(), since="2026-01-01")
    """
    max_age = check_options(refresh, max_age, cache)
    params = {
        "since": check.timestamp("since", since),
        "until": check.timestamp("until", until),
        "status": check.status(status),
    }
    plan = Plan(
        kind="orders",
        params=params,
        defaults=ORDER_DEFAULTS,
        cache=cache,
        refresh=refresh,
        max_age=max_age,
        progress=progress,
        first_page=partial(orders_page, params=params, page=1),
    )
    return run(plan, client if client is not None else connect(), fetch_orders)


def load_store(
    client: Client | None = None,
    *,
    include_guests: bool = True,
    since: Any = None,
    cache: CacheOption = True,
    refresh: Refresh = "auto",
    max_age: float = DEFAULT_MAX_AGE,
    progress: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All customers and all orders, the two loads running at the same time.

    The same as ``(load_customers(client, ...), load_orders(client, ...))`` (identical frames,
    the same cache entries), but the two lists are walked concurrently over the client's
    connections, so their rounds of network latency overlap. When the cache folder needs the store
    looked up, it is looked up once, while page 1 of each list is already on its way.

    Parameters
    ----------
    client
        A :class:`Client`; default :func:`connect`.
    include_guests
        As in :func:`load_customers`.
    since
        Only customers, and orders, created on or after this date or date-time (UTC when naive).
    cache, refresh, max_age, progress
        As in :func:`load_customers` and :func:`load_orders`.

    Returns
    -------
    tuple of DataFrame
        ``(customers, orders)``. Both loads share one client, so ``attrs["selorax"]["requests"]``
        of each frame counts the requests of both loads while it ran, not of its list alone.

    Raises
    ------
    As :func:`load_customers` and :func:`load_orders`; when one load fails the other is left to
    finish (its cache is written) before the error is raised.

    Example
    -------
    >>> customers, orders = load_store(connect())
    """
    check_options(refresh, max_age, cache)
    check.timestamp("since", since)  # refused before any request
    client = client if client is not None else connect()
    options: dict[str, Any] = {
        "since": since,
        "cache": cache,
        "refresh": refresh,
        "max_age": max_age,
        "progress": progress,
    }
    with ThreadPoolExecutor(2, "selorax-load") as runner:
        customers = runner.submit(load_customers, client, include_guests=include_guests, **options)
        orders = runner.submit(load_orders, client, **options)
        return customers.result(), orders.result()


__all__ = ["DEFAULT_MAX_AGE", "load_customers", "load_history", "load_orders", "load_store"]
