"""Reading the response headers the client uses, defensively.

``Date``, ``Retry-After`` and ``X-RateLimit-*`` may be missing, repeated (an intermediary adding
its own beside the upstream's), malformed or without a zone. An unreadable header is ignored
with a debug log; nothing here raises.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import math
import time
from dataclasses import dataclass

import httpx

logger = logging.getLogger("selorax_analytics")

#: ``X-RateLimit-Reset`` values above this are epoch timestamps (seconds), not seconds-until.
EPOCH_THRESHOLD = 1e9
#: ... and above this, epoch timestamps in milliseconds.
EPOCH_MS_THRESHOLD = 1e12


@dataclass(frozen=True)
class RateLimit:
    """What ``X-RateLimit-*`` said: requests left in the window, seconds until it resets."""

    remaining: int
    reset: float
    limit: int | None = None


def _ignore(name: str, raw: str, why: str) -> None:
    shown = raw if len(raw) <= 80 else raw[:77] + "..."
    logger.debug("Ignored the %s header %r: %s.", name, shown, why)


def single(headers: httpx.Headers, name: str) -> str | None:
    """The header's one value; ``None`` when absent or repeated with different values."""
    values = [v.strip() for v in headers.get_list(name)]
    if not values:
        return None
    if len(set(values)) > 1:
        _ignore(name, " | ".join(values), f"{len(values)} different values")
        return None
    return values[0]


def _http_date(raw: str) -> dt.datetime | None:
    """An RFC 9110 date as an aware UTC datetime; ``None`` when unreadable or without a zone."""
    try:
        value = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if value is None or value.tzinfo is None:  # no zone, or "-0000": local time unknown
        return None
    return value.astimezone(dt.UTC)


def served_at(headers: httpx.Headers) -> dt.datetime | None:
    """The server's ``Date`` as an aware UTC datetime, or ``None`` (absent or unreadable)."""
    raw = single(headers, "Date")
    if raw is None:
        return None
    value = _http_date(raw)
    if value is None:
        _ignore("Date", raw, "not an HTTP date with a time zone")
    return value


def _number(raw: str) -> float | None:
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def _now(served: dt.datetime | None) -> float:
    """The server's clock when known (its ``Date``), else ours, as epoch seconds."""
    return served.timestamp() if served is not None else time.time()


def retry_after(headers: httpx.Headers, served: dt.datetime | None = None) -> float | None:
    """``Retry-After`` in seconds (a number or an HTTP date); ``None`` when absent or unreadable.

    A date is measured from the server's ``Date`` when it has one (clocks differ); a date in
    the past means no wait.
    """
    raw = single(headers, "Retry-After")
    if raw is None:
        return None
    seconds = _number(raw)
    if seconds is not None:
        return seconds
    when = _http_date(raw)
    if when is None:
        _ignore("Retry-After", raw, "neither seconds nor an HTTP date with a zone")
        return None
    return max(when.timestamp() - _now(served), 0.0)


def _count(name: str, raw: str | None) -> int | None:
    if raw is None:
        return None
    value = _number(raw)
    if value is None or value != int(value):
        _ignore(name, raw, "not a whole number of requests")
        return None
    return int(value)


def rate_limit(headers: httpx.Headers, served: dt.datetime | None = None) -> RateLimit | None:
    """``X-RateLimit-Remaining`` and ``-Reset`` (and ``-Limit``), or ``None`` if unusable.

    ``Reset`` is read as seconds until the window resets, or as an epoch timestamp (seconds or
    milliseconds) when it is that large.
    """
    remaining = _count("X-RateLimit-Remaining", single(headers, "X-RateLimit-Remaining"))
    limit = _count("X-RateLimit-Limit", single(headers, "X-RateLimit-Limit"))
    raw_reset = single(headers, "X-RateLimit-Reset")
    if remaining is None or raw_reset is None:
        return None
    reset = _number(raw_reset)
    if reset is None:
        _ignore("X-RateLimit-Reset", raw_reset, "not a number of seconds or a timestamp")
        return None
    if reset > EPOCH_MS_THRESHOLD:
        reset /= 1000
    if reset > EPOCH_THRESHOLD:
        reset = max(reset - _now(served), 0.0)
    return RateLimit(remaining, reset, limit if limit else None)
