"""Sending one request: pacing, retries, and the answer turned into data or an exception.

With :mod:`~selorax_analytics.api._answers` (JSON bodies and the status -> exception table),
this is the package's only translation boundary between httpx/HTTP and :mod:`exceptions`.
Every message raised or logged here passes through :meth:`Credentials.redact`; the headers the
client reads are parsed by :mod:`selorax_analytics.api._headers`, which never raises."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from selorax_analytics.api import _headers
from selorax_analytics.api._answers import (
    BOM,
    Answer,
    decode_json,
    describe_body,
    error_for,
    error_from_response,
    json_object,
)
from selorax_analytics.api._credentials import Credentials, mask
from selorax_analytics.api._pacing import Pacer
from selorax_analytics.exceptions import (
    ApiError,
    ConnectionFailedError,
    RateLimitError,
    SeloraxError,
)

logger = logging.getLogger("selorax_analytics")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: First backoff in seconds; doubled each attempt up to :data:`RETRY_MAX_DELAY`, with jitter.
RETRY_BASE_DELAY = 0.2
RETRY_MAX_DELAY = 10.0
_IDEMPOTENT = frozenset({"GET", "PUT", "DELETE", "HEAD"})


def _backoff(attempt: int) -> float:
    return min(RETRY_MAX_DELAY, RETRY_BASE_DELAY * 2**attempt) * random.uniform(0.5, 1.0)


@dataclass
class Retry:
    """A failed attempt that may be tried again after ``delay`` seconds."""

    error: SeloraxError
    delay: float
    what: str  # "rate limited (429)", "server error (503)", "no complete answer (ReadTimeout)"
    server_wait: bool = False  # the delay is the server's Retry-After


def _network_words(exc: httpx.HTTPError, timeout: float | None) -> str:
    if isinstance(exc, httpx.ConnectTimeout | httpx.ConnectError):
        return "could not connect"
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out after {timeout:g} s waiting for the answer" if timeout else "timed out"
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        return "the connection was closed or reset before a complete answer"
    return "no complete answer"


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
        attempts, waited = 0, 0.0
        while True:
            paced, generation = self.pacer.acquire(self.max_retry_wait - waited)
            if paced < 0:
                raise self._paced_too_long(method, path, -paced, attempts)
            waited += paced
            self._count(attempts > 0)
            attempts += 1
            outcome = self._attempt(method, path, params, json_body, scope, attempts, generation)
            if not isinstance(outcome, Retry):
                return outcome
            if attempts > self.max_retries or waited + outcome.delay > self.max_retry_wait:
                raise self._give_up(method, path, outcome, attempts)
            logger.info(
                "%s %s: %s, retrying in %.1f s (attempt %d of %d).",
                method,
                path,
                outcome.what,
                outcome.delay,
                attempts + 1,
                self.max_retries + 1,
            )
            if outcome.server_wait or isinstance(outcome.error, RateLimitError):
                self.pacer.pause(outcome.delay)  # every worker waits; acquire counts it
            else:
                time.sleep(outcome.delay)
                waited += outcome.delay

    def _paced_too_long(self, method: str, path: str, needed: float, attempts: int) -> Exception:
        return RateLimitError(
            f"{method} {path}: the API's rate limit needs a {needed:.0f} s wait (its "
            f"Retry-After or X-RateLimit-Reset), more than max_retry_wait "
            f"({self.max_retry_wait:g} s) allows, after {attempts} attempt(s). Retry later, or "
            "raise max_retry_wait.",
            retry_after=needed,
            status_code=429,
            method=method,
            path=path,
        )

    def _give_up(self, method: str, path: str, outcome: Retry, attempts: int) -> Exception:
        """The last attempt's error, its message saying why no further attempt is made."""
        error, plural = outcome.error, "s" if attempts > 1 else ""
        bound = f"max_retry_wait ({self.max_retry_wait:g} s)"
        if (
            isinstance(error, RateLimitError)
            and outcome.server_wait
            and attempts <= self.max_retries
        ):
            text = (
                f"{method} {path}: rate limited (429); the server asks to wait "
                f"{outcome.delay:.0f} s (Retry-After), more than {bound} allows, after "
                f"{attempts} attempt{plural}. Retry after that, or raise max_retry_wait."
            )
        elif isinstance(error, RateLimitError):
            after = f"{error.retry_after:g}" if error.retry_after is not None else "a few"
            text = (
                f"{method} {path}: still rate limited (429) after {attempts} attempt{plural}; "
                f"retry in {after} seconds, or lower max_concurrency."
            )
        else:
            why = "attempts" if attempts > self.max_retries else f"attempts within {bound}"
            text = f"{error} Gave up after {attempts} attempt{plural} (all the {why} allowed)."
        error.args = (self.credentials.redact(text),)
        return error

    def _attempt(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json_body: Any,
        scope: str | None,
        attempt: int,
        generation: int,
    ) -> dict[str, Any] | Retry:
        released = False
        try:
            response = self.http.request(
                method, path, params=params, json=json_body, headers=self.credentials.headers()
            )
            served = _headers.served_at(response.headers)
            self.pacer.release(generation, _headers.rate_limit(response.headers, served))
            released = True
        except httpx.HTTPError as exc:
            self.pacer.release(generation, None)
            released = True
            return self._network_failure(method, path, exc, attempt)
        finally:
            if not released:
                self.pacer.release(generation, None)
        logger.debug("%s %s -> %d", method, response.url.path, response.status_code)
        if response.is_success:
            return self._success(response, served, scope, attempt)
        answer = Answer(
            response.status_code,
            json_object(response.content),
            response.reason_phrase,
            method,
            path,
            _headers.retry_after(response.headers, served),
        )
        return self._failure(answer, scope, attempt)

    def _network_failure(self, method: str, path: str, exc: httpx.HTTPError, attempt: int) -> Retry:
        words = _network_words(exc, self.http.timeout.read)
        failure = ConnectionFailedError(
            self.credentials.redact(
                f"{method} {path}: {words} from {self.http.base_url.host} "
                f"({type(exc).__name__}). Check the network and SELORAX_BASE_URL"
                + (", or raise `timeout`." if isinstance(exc, httpx.TimeoutException) else ".")
            ),
            method=method,
            path=path,
        )
        safe = method in _IDEMPOTENT or isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
        if not safe:
            raise failure from exc
        return Retry(failure, _backoff(attempt - 1), f"{words} ({type(exc).__name__})")

    def _success(
        self, response: httpx.Response, served: Any, scope: str | None, attempt: int
    ) -> dict[str, Any] | Retry:
        method, path = response.request.method, response.request.url.path
        try:
            body = decode_json(response.content)
        except ValueError:
            return self._not_json(response, attempt)
        if not isinstance(body, dict):
            body = {"data": body}
        status = body.get("status")
        if isinstance(status, int) and not isinstance(status, bool) and status >= 400:
            reason = str(body.get("code") or "")
            after = _headers.retry_after(response.headers, served)
            answer = Answer(status, body, reason, method, path, after, ", sent as HTTP 200")
            return self._failure(answer, scope, attempt)
        body.pop("_served_at", None)
        if served is not None:
            body["_served_at"] = served
        return body

    def _not_json(self, response: httpx.Response, attempt: int) -> Retry:
        method, path = response.request.method, response.request.url.path
        what = describe_body(response)
        root = f"{self.http.base_url.scheme}://{self.http.base_url.netloc.decode()}"
        start = response.content.removeprefix(BOM).lstrip()[:1]
        if start in (b"{", b"["):  # JSON cut short on the way: try again
            failure: SeloraxError = ConnectionFailedError(
                f"{method} {path}: the answer was JSON cut short ({what}). Check the network "
                "and any proxy in between.",
                method=method,
                path=path,
            )
            return Retry(failure, _backoff(attempt - 1), "incomplete JSON")
        error = ApiError(
            f"{method} {path} answered {response.status_code} with {what} instead of JSON. "
            f"SELORAX_BASE_URL ({root}) must be the SeloraX API root (e.g. "
            "https://api.selorax.io), not a web page or a proxy's login page.",
            status_code=response.status_code,
            method=method,
            path=path,
        )
        if what == "an empty body":  # may be a gateway's hiccup: try again
            return Retry(error, _backoff(attempt - 1), "empty answer")
        raise error

    def _failure(self, answer: Answer, scope: str | None, attempt: int) -> Retry:
        error = error_for(answer, self.credentials, scope)
        retry_any = answer.method in _IDEMPOTENT
        if answer.status not in RETRY_STATUSES or (answer.status != 429 and not retry_any):
            raise error
        what = "rate limited (429)" if answer.status == 429 else f"server error ({answer.status})"
        if answer.retry_after is not None:
            return Retry(error, answer.retry_after + random.uniform(0, 0.1), what, True)
        return Retry(error, _backoff(attempt - 1), what)


__all__ = ["Credentials", "Sender", "decode_json", "error_from_response", "mask"]
