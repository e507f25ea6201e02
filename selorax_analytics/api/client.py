"""The SeloraX Apps API v1 client: one method per endpoint, retries, errors, concurrency.

>>> import selorax_analytics as sa
>>> client = sa.Client("https://api.selorax.io", token="sx_at_...")
>>> client.list_customers(limit=5).total

:func:`selorax_analytics.connect` (in :mod:`selorax_analytics.connection`) makes one from the
environment, or for the embedded demo store.

Credentials come from arguments or ``SELORAX_TOKEN`` / ``SELORAX_CLIENT_ID`` +
``SELORAX_CLIENT_SECRET`` + ``SELORAX_STORE_ID``; they are sent in headers only and are shown
masked (``sx_at_...abcd``) in ``repr``, logs and errors.
"""

from __future__ import annotations

import os
import re
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from selorax_analytics._version import __version__
from selorax_analytics.api import params as check
from selorax_analytics.api._credentials import Credentials, check_credential, mask
from selorax_analytics.api._transport import Sender
from selorax_analytics.api.paginators import Page
from selorax_analytics.exceptions import AuthenticationError, ValidationError

DEFAULT_BASE_URL = "https://api.selorax.io"
API_PREFIX = "/api/apps/v1"
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_CONCURRENCY = 32
DEFAULT_MAX_RETRIES = 8
DEFAULT_MAX_RETRY_WAIT = 120.0
CUSTOMER_SORTS = ("created_at", "updated_at", "name")
ORDER_SORTS = ("created_at", "updated_at", "grand_total")


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def _base_url(value: object) -> str:
    """The API root without a trailing slash; :class:`ValidationError` if it is not a URL."""
    if value is None or value == "":
        return DEFAULT_BASE_URL

    def refuse(why: str) -> ValidationError:
        shown = re.sub(r"//[^/@]*@", "//***@", repr(value))  # never echo a password
        shown = shown if len(shown) <= 120 else shown[:117] + "..."
        return ValidationError(
            f"`base_url` (or SELORAX_BASE_URL) must be an http:// or https:// URL of the API "
            f"root, such as {DEFAULT_BASE_URL} or http://127.0.0.1:8765; got {shown} ({why})."
        )

    if not isinstance(value, str):
        raise refuse(f"a {type(value).__name__}, not text")
    text = value.strip().rstrip("/")
    if any(c.isspace() or ord(c) < 32 for c in text):
        raise refuse("it holds spaces or control characters")
    try:
        url = httpx.URL(text)
        port = url.port
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        raise refuse(str(exc).rstrip(".") or "not a URL") from None
    if url.scheme not in ("http", "https"):
        raise refuse("the scheme must be http or https")
    if not url.host:
        raise refuse("no host")
    if url.query or url.fragment or url.userinfo:
        raise refuse("no query, fragment or user name belongs in it")
    if port is not None and not 0 < port < 65536:
        raise refuse("the port must be 1 to 65535")
    return text


def _store_id(value: object) -> int | None:
    if value is None:
        return None
    try:
        store = int(str(value).strip())
    except ValueError:
        raise ValidationError(
            f"`store_id` (or SELORAX_STORE_ID) must be a positive integer; got {value!r}."
        ) from None
    if store < 1:
        raise ValidationError(f"`store_id` must be a positive integer; got {value!r}.")
    return store


def _credentials(
    token: str | None, client_id: str | None, secret: str | None, store_id: int | None
) -> Credentials:
    token = check_credential("SELORAX_TOKEN (or token=)", token or _env("SELORAX_TOKEN"))
    client_id = check_credential(
        "SELORAX_CLIENT_ID (or client_id=)", client_id or _env("SELORAX_CLIENT_ID")
    )
    secret = check_credential(
        "SELORAX_CLIENT_SECRET (or client_secret=)", secret or _env("SELORAX_CLIENT_SECRET")
    )
    if token:
        return Credentials(token=token, store_id=store_id)
    if client_id or secret:
        if not (client_id and secret):
            lacking = "SELORAX_CLIENT_SECRET" if client_id else "SELORAX_CLIENT_ID"
            raise AuthenticationError(
                f"Client credentials need both an id and a secret; {lacking} is not set. "
                "Set it (or pass client_id=/client_secret=), or use SELORAX_TOKEN instead."
            )
        if store_id is None:
            raise AuthenticationError(
                "Client credentials need the store: set SELORAX_STORE_ID (or pass store_id=)."
            )
        return Credentials(client_id=client_id, client_secret=secret, store_id=store_id)
    raise AuthenticationError(
        "No credentials: set SELORAX_TOKEN (or pass token=), or SELORAX_CLIENT_ID, "
        "SELORAX_CLIENT_SECRET and SELORAX_STORE_ID. selorax_analytics.connect() with nothing "
        "set serves the demo store instead."
    )


class Client:
    """A client for one store of the SeloraX Apps API v1.

    Parameters
    ----------
    base_url
        API root such as ``https://api.selorax.io`` (default: ``SELORAX_BASE_URL``, else
        production).
    token
        Bearer token (default ``SELORAX_TOKEN``); the store is implied by it.
    client_id, client_secret, store_id
        Client credentials (defaults ``SELORAX_CLIENT_ID``, ``SELORAX_CLIENT_SECRET``,
        ``SELORAX_STORE_ID``), used when no token is given.
    timeout
        Seconds per request.
    max_concurrency
        Requests in flight at once during loads.
    max_retries, max_retry_wait
        Bounds on retries of one request: attempts after the first, and seconds spent waiting.
    transport
        An ``httpx.BaseTransport`` to send through (for tests and proxies).

    Raises
    ------
    AuthenticationError
        When no usable credentials are given or configured.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        token: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        store_id: int | str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        url = _base_url(base_url or _env("SELORAX_BASE_URL"))
        check.positive_int("max_concurrency", max_concurrency)
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise check.refuse("max_retries", max_retries, "an integer of at least 0")
        store = _store_id(store_id if store_id is not None else _env("SELORAX_STORE_ID"))
        self.credentials = _credentials(token, client_id, client_secret, store)
        self.base_url = url
        self.store_id = store
        self.max_concurrency = max_concurrency
        #: True for the embedded demo store :func:`selorax_analytics.connect` starts.
        self.embedded_demo = False
        #: The embedded demo store's data fingerprint: its cache folder's name carries it, so a
        #: cache of other demo data is never read (set by :mod:`selorax_analytics.connection`).
        self.demo_data = ""
        limits = httpx.Limits(
            max_connections=max_concurrency, max_keepalive_connections=max_concurrency
        )
        http = httpx.Client(
            base_url=url + API_PREFIX,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            limits=limits,
            transport=transport,
            headers={"User-Agent": f"selorax-analytics/{__version__}"},
        )
        self._sender = Sender(
            http, self.credentials, max_retries=max_retries, max_retry_wait=max_retry_wait
        )
        self._pool: ThreadPoolExecutor | None = None
        self._pools: list[ThreadPoolExecutor] = []
        self._pool_lock = threading.Lock()
        # a client dropped without close() still releases its sockets and threads
        self._finalizer = weakref.finalize(self, _release, http, self._pools)

    def __repr__(self) -> str:
        return f"Client({self.base_url!r}, {self.credentials.describe()}, store_id={self.store_id})"

    # -- plumbing -------------------------------------------------------------------------
    @property
    def host(self) -> str:
        """``host`` or ``host:port`` of the API, as cache folders are named."""
        url = httpx.URL(self.base_url)
        return url.host if url.port is None else f"{url.host}:{url.port}"

    @property
    def requests_sent(self) -> int:
        """Requests sent so far, retries included."""
        return self._sender.requests

    @property
    def pool(self) -> ThreadPoolExecutor:
        """The worker threads used for concurrent pages (created on first use)."""
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.max_concurrency, "selorax-client")
                self._pools.append(self._pool)
            return self._pool

    def close(self) -> None:
        """Close connections and worker threads."""
        with self._pool_lock:
            self._pool = None
            self._finalizer()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        scope: str | None = None,
    ) -> dict[str, Any]:
        """Send one request under ``/api/apps/v1`` with retries; the decoded JSON body."""
        return self._sender.request(method, path, params=params, json_body=json, scope=scope)

    # -- customers ------------------------------------------------------------------------
    def list_customers(
        self,
        *,
        page: int = 1,
        limit: int = 50,
        sort: str | None = None,
        since: Any = None,
        search: str | None = None,
        include_guests: bool = False,
        total_orders_min: int | None = None,
        total_spent_min: int | None = None,
    ) -> Page:
        """One page of ``GET /customers`` (``read:customers``)."""
        params = check.query(
            **check.paging(page, limit),
            sort=check.sort(sort, CUSTOMER_SORTS),
            since=check.timestamp("since", since),
            search=search,
            include_guests=bool(include_guests),
            total_orders_min=check.optional_min("total_orders_min", total_orders_min),
            total_spent_min=check.optional_min("total_spent_min", total_spent_min),
        )
        body = self.request("GET", "/customers", params=params, scope="read:customers")
        return Page.from_body(body, page, limit)

    def get_customer(self, user_id: int) -> dict[str, Any]:
        """``GET /customers/{user_id}``: one customer with verification flags."""
        path = f"/customers/{check.positive_int('user_id', user_id)}"
        return dict(self.request("GET", path, scope="read:customers").get("data") or {})

    def update_customer(
        self,
        user_id: int,
        *,
        name: str | None = None,
        email: str | None = None,
        phone: str | None = None,
        address_json: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """``PUT /customers/{user_id}`` with the fields given (at least one); the updated record."""
        path = f"/customers/{check.positive_int('user_id', user_id)}"
        body: dict[str, Any] = {}
        if name is not None:
            body["name"] = check.text("name", name, maximum=255)
        if email is not None:
            body["email"] = check.email(email)
        if phone is not None:
            body["phone"] = check.text("phone", phone, maximum=20)
        if address_json is not None:
            body["address_json"] = check.address("address_json", address_json)
        if not body:
            raise ValidationError(
                "update_customer needs at least one of `name`, `email`, `phone`, `address_json`."
            )
        answer = self.request("PUT", path, json=body, scope="write:customers")
        return dict(answer.get("data") or {})

    def create_customer(
        self,
        *,
        name: str,
        phone: str,
        email: str | None = None,
        address: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """``POST /customers``; the new record (with its ``user_id``)."""
        body: dict[str, Any] = {
            "name": check.text("name", name, maximum=255),
            "phone": check.text("phone", phone, maximum=20, minimum=10),
        }
        if email is not None:
            body["email"] = check.email(email)
        if address is not None:
            body["address"] = check.address("address", address)
        answer = self.request("POST", "/customers", json=body, scope="write:customers")
        return dict(answer.get("data") or {})

    def delete_customer(self, user_id: int) -> None:
        """``DELETE /customers/{user_id}`` (refused by the API when the customer has orders)."""
        path = f"/customers/{check.positive_int('user_id', user_id)}"
        self.request("DELETE", path, scope="write:customers")

    def customer_orders(
        self, user_id: int, *, page: int = 1, limit: int = 50, status: str | None = None
    ) -> Page:
        """One page of ``GET /customers/{user_id}/orders`` (``read:customers``)."""
        path = f"/customers/{check.positive_int('user_id', user_id)}/orders"
        params = check.query(**check.paging(page, limit), status=check.status(status))
        body = self.request("GET", path, params=params, scope="read:customers")
        return Page.from_body(body, page, limit)

    # -- orders and store -----------------------------------------------------------------
    def list_orders(
        self,
        *,
        page: int = 1,
        limit: int = 50,
        status: str | None = None,
        since: Any = None,
        until: Any = None,
        customer_id: int | None = None,
        sort: str | None = None,
    ) -> Page:
        """One page of ``GET /orders`` (``read:orders``); ``since``/``until`` bound ``created_at``."""
        params = check.query(
            **check.paging(page, limit),
            status=check.status(status),
            since=check.timestamp("since", since),
            until=check.timestamp("until", until),
            customer_id=None
            if customer_id is None
            else check.positive_int("customer_id", customer_id),
            sort=check.sort(sort, ORDER_SORTS),
        )
        body = self.request("GET", "/orders", params=params, scope="read:orders")
        return Page.from_body(body, page, limit)

    def get_order(self, order_id: int) -> dict[str, Any]:
        """``GET /orders/{order_id}``: one order with its line ``items``."""
        path = f"/orders/{check.positive_int('order_id', order_id)}"
        return dict(self.request("GET", path, scope="read:orders").get("data") or {})

    def get_store(self) -> dict[str, Any]:
        """``GET /store``: ``store_id``, ``name`` and ``currency`` of the credential's store."""
        return dict(self.request("GET", "/store").get("data") or {})


def _release(http: httpx.Client, pools: list[ThreadPoolExecutor]) -> None:
    for pool in pools:
        pool.shutdown(wait=False, cancel_futures=True)
    pools.clear()
    http.close()


__all__ = ["Client", "mask"]
