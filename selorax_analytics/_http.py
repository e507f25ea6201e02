"""Sending one request: credentials, pacing, retries and the status -> exception table.

This is the package's only translation boundary between httpx/HTTP and :mod:`exceptions`.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from selorax_analytics.exceptions import (
    ApiError,
    AuthenticationError,
    ConflictError,
    ConnectionFailedError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    SeloraxError,
    ServerError,
    ValidationError,
)

logger = logging.getLogger("selorax_analytics")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: First backoff in seconds; doubled each attempt up to :data:`RETRY_MAX_DELAY`, with jitter.
RETRY_BASE_DELAY = 0.2
RETRY_MAX_DELAY = 10.0
_IDEMPOTENT = frozenset({"GET", "PUT", "DELETE", "HEAD"})

STATUS_ERRORS: dict[int, type[ApiError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: ValidationError,
    429: RateLimitError,
}


def mask(secret: str | None) -> str:
    """``sx_at_...abcd``: the secret's prefix and last four characters, never more."""
    if not secret:
        return "<none>"
    if len(secret) < 12:
        return "***"
    head, sep, _ = secret.rpartition("_")
    prefix = head + sep if sep and len(head) <= 10 else ""
    return f"{prefix}...{secret[-4:]}"


@dataclass(frozen=True)
class Credentials:
    """A Bearer token, or a client id, secret and store id; ``repr`` shows them masked."""

    token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    store_id: int | None = None

    def headers(self) -> dict[str, str]:
        if self.token:
            return {"Authorization": f"Bearer {self.token}"}
        headers = {"X-Client-Id": self.client_id or "", "X-Client-Secret": self.client_secret or ""}
        if self.store_id is not None:
            headers["X-Store-Id"] = str(self.store_id)
        return headers

    def describe(self) -> str:
        if self.token:
            return f"Bearer token {mask(self.token)}"
        return f"client id {self.client_id} with secret {mask(self.client_secret)}"

    def __repr__(self) -> str:
        return f"Credentials({self.describe()}, store_id={self.store_id})"


class Pacer:
    """Shared by every worker of a client: a ``Retry-After`` pause and ``X-RateLimit-*`` budget."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pause_until = 0.0
        self._budget: int | None = None
        self._window_end = 0.0

    def wait(self, limit: float = float("inf")) -> float:
        """Block until a request may go; the seconds waited (``-needed`` if over ``limit``)."""
        waited = 0.0
        while True:
            with self._lock:
                now = time.monotonic()
                delay = self._pause_until - now
                if delay <= 0 and self._budget is not None and now < self._window_end:
                    if self._budget > 0:
                        self._budget -= 1
                    else:
                        delay = self._window_end - now
                if delay <= 0:
                    return waited
                if waited + delay > limit:
                    return -(waited + delay)
            time.sleep(min(delay, 1.0))
            waited += min(delay, 1.0)

    def pause(self, seconds: float) -> None:
        with self._lock:
            self._pause_until = max(self._pause_until, time.monotonic() + seconds)

    def observe(self, headers: httpx.Headers) -> None:
        remaining, reset = headers.get("x-ratelimit-remaining"), headers.get("x-ratelimit-reset")
        if remaining is None or reset is None:
            return
        try:
            left, seconds = int(remaining), float(reset)
        except ValueError:
            return
        with self._lock:
            now = time.monotonic()
            if self._budget is None or now >= self._window_end:
                self._budget, self._window_end = left, now + seconds
            else:
                self._budget = min(self._budget, left)


def decode_json(content: bytes) -> Any:
    """Parse a JSON body: orjson (several times faster on list pages), else the standard module.

    The fallback reads what orjson refuses but ``json`` accepts (``NaN``, ``Infinity``); both
    raise ``ValueError`` on text that is not JSON. (orjson reads integers beyond 64 bits as
    floats; no field of the API is an integer that large.)
    """
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return json.loads(content)


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = decode_json(response.content)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after")
    try:
        return max(float(raw), 0.0) if raw is not None else None
    except ValueError:
        return None


def _auth_message(code: str | None, credentials: Credentials, server: str) -> str:
    if credentials.token:
        where = "Set SELORAX_TOKEN (or pass token=) to a valid token for this store."
    else:
        where = "Check SELORAX_CLIENT_ID and SELORAX_CLIENT_SECRET (or client_id=/client_secret=)."
    if code == "not_installed":
        where = "Check SELORAX_STORE_ID (or store_id=): the app must be installed on that store."
    return f"The API rejected the {credentials.describe()}: {server} {where}"


def error_from_response(
    response: httpx.Response, credentials: Credentials, required_scope: str | None
) -> ApiError:
    """The exception for an error answer; the one place statuses become exceptions."""
    body = _body(response)
    status = response.status_code
    code = body.get("code") if isinstance(body.get("code"), str) else None
    server = str(body.get("message") or response.reason_phrase or f"HTTP {status}").strip()
    request = response.request
    where = {"method": request.method, "path": request.url.path}
    common: dict[str, Any] = {
        "status_code": status,
        "code": code,
        "server_message": server,
        **where,
    }
    prefix = f"{request.method} {request.url.path} failed ({status})"
    if status == 401 or code in ("missing_store_id", "invalid_client", "not_installed"):
        return AuthenticationError(_auth_message(code, credentials, server), **common)
    if status == 403:
        scope = required_scope or "the required"
        return PermissionDeniedError(
            f"{prefix}: the credential lacks the {scope} scope. Grant {scope} to the app and "
            f"reinstall it on the store. Server said: {server}",
            required_scope=required_scope,
            **common,
        )
    if status == 429:
        after = _retry_after(response)
        return RateLimitError(
            f"{prefix}: still rate limited after retrying; retry in {after or 'a few'} seconds.",
            retry_after=after,
            **common,
        )
    if status >= 500:
        text = server if body else response.reason_phrase
        return ServerError(f"{prefix}: server error ({text}); try again later.", **common)
    kind = STATUS_ERRORS.get(status, ApiError)
    return kind(f"{prefix}: {server}", **common)


def _backoff(attempt: int) -> float:
    return min(RETRY_MAX_DELAY, RETRY_BASE_DELAY * 2**attempt) * random.uniform(0.5, 1.0)


class Sender:
    """Sends requests with retries, pacing and error mapping; thread-safe."""

    def __init__(
        self,
        http: httpx.Client,
        credentials: Credentials,
        *,
        max_retries: int,
        max_retry_wait: float,
    ) -> None:
        self.http = http
        self.credentials = credentials
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait
        self.pacer = Pacer()
        self._lock = threading.Lock()
        self.requests = 0
        self.retries = 0

    def _count(self, retry: bool) -> None:
        with self._lock:
            self.requests += 1
            self.retries += int(retry)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        scope: str | None = None,
    ) -> dict[str, Any]:
        """The JSON body of a successful answer, after retries; raises a :class:`SeloraxError`."""
        attempt, waited = 0, 0.0
        while True:
            paced = self.pacer.wait(self.max_retry_wait - waited)
            if paced < 0:
                raise RateLimitError(
                    f"{method} {path}: the rate limit needs a {-paced:.0f} s wait, more than "
                    f"max_retry_wait ({self.max_retry_wait:g} s); retry later.",
                    retry_after=-paced,
                    status_code=429,
                    method=method,
                    path=path,
                )
            waited += paced
            self._count(attempt > 0)
            failure, delay = self._attempt(method, path, params, json_body, scope, attempt)
            if isinstance(failure, dict):
                return failure
            attempt += 1
            if attempt > self.max_retries or waited + delay > self.max_retry_wait:
                raise failure
            logger.info(
                "Retrying %s %s in %.2f s (attempt %d of %d): %s",
                method,
                path,
                delay,
                attempt + 1,
                self.max_retries + 1,
                failure,
            )
            if isinstance(failure, RateLimitError):
                self.pacer.pause(delay)
            else:
                time.sleep(delay)
                waited += delay

    def _attempt(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json_body: Any,
        scope: str | None,
        attempt: int,
    ) -> tuple[dict[str, Any] | SeloraxError, float]:
        retry_any = method in _IDEMPOTENT
        try:
            response = self.http.request(
                method, path, params=params, json=json_body, headers=self.credentials.headers()
            )
        except httpx.HTTPError as exc:
            failure = ConnectionFailedError(
                f"{method} {path}: no complete answer from {self.http.base_url.host} "
                f"({type(exc).__name__}). Check the network and SELORAX_BASE_URL.",
                method=method,
                path=path,
            )
            safe = retry_any or isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
            if not safe:
                raise failure from exc
            return failure, _backoff(attempt)
        logger.debug("%s %s -> %d", method, response.url.path, response.status_code)
        self.pacer.observe(response.headers)
        if response.is_success:
            try:
                body = decode_json(response.content)
            except ValueError:
                failure = ConnectionFailedError(
                    f"{method} {path}: the answer was not complete JSON.", method=method, path=path
                )
                return failure, _backoff(attempt)
            body = body if isinstance(body, dict) else {"data": body}
            if "date" in response.headers:
                body.setdefault("_served_at", response.headers["date"])
            return body, 0.0
        error = error_from_response(response, self.credentials, scope)
        if response.status_code not in RETRY_STATUSES:
            raise error
        if response.status_code != 429 and not retry_any:
            raise error
        after = _retry_after(response)
        if after is not None:
            return error, after + random.uniform(0, 0.1)
        return error, _backoff(attempt)
