"""Checks of request parameters, done before anything is sent (errors name the bad value)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC
from typing import Any

from selorax_analytics._dates import iso_timestamp
from selorax_analytics.exceptions import ValidationError

MAX_PAGE_SIZE = 250
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def refuse(name: str, value: object, expected: str) -> ValidationError:
    return ValidationError(f"`{name}` must be {expected}; got {value!r}.")


def positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise refuse(name, value, "a positive integer")
    return value


def optional_min(name: str, value: object, minimum: int = 0) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise refuse(name, value, f"an integer of at least {minimum}")
    return value


def paging(page: object, limit: object) -> dict[str, int]:
    positive_int("page", page)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE_SIZE:
        raise refuse("limit", limit, f"an integer from 1 to {MAX_PAGE_SIZE}")
    return {"page": int(page), "limit": int(limit)}  # type: ignore[call-overload]


def sort(value: str | None, allowed: Sequence[str]) -> str | None:
    if value is None:
        return None
    column, _, direction = str(value).partition(":")
    if column not in allowed or direction not in ("asc", "desc"):
        choices = ", ".join(f"{c}:asc, {c}:desc" for c in allowed)
        raise refuse("sort", value, f"one of {choices}")
    return f"{column}:{direction}"


def timestamp(name: str, value: object) -> str | None:
    """An ISO 8601 UTC text (``2025-06-01T00:00:00.000Z``) from ISO text, a date or datetime.

    Text must be ISO 8601 (``2025-06-01``, ``2025-06-01T10:00:00+06:00``, ``...Z``); other
    text (``01/06/2025``, ``June 1``) is refused, never guessed. Naive values are read as UTC.
    """
    if value is None:
        return None
    stamp = iso_timestamp(value, name=name, error=ValidationError)
    stamp = stamp.tz_localize(UTC) if stamp.tzinfo is None else stamp.tz_convert(UTC)
    # Not strftime: it writes year 1 as "1", not "0001", on some platforms.
    day = f"{stamp.year:04d}-{stamp.month:02d}-{stamp.day:02d}"
    return f"{day}T{stamp.hour:02d}:{stamp.minute:02d}:{stamp.second:02d}.{stamp.microsecond // 1000:03d}Z"


def text(name: str, value: object, *, maximum: int, minimum: int = 1) -> str:
    if not isinstance(value, str) or len(value.strip()) < minimum:
        raise refuse(name, value, f"a string of at least {minimum} character(s)")
    if len(value) > maximum:
        raise refuse(name, f"{value[:20]}...", f"at most {maximum} characters (got {len(value)})")
    return value


def email(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _EMAIL.match(value.strip()):
        raise refuse("email", value, "a valid e-mail address such as name@example.com, or None")
    return value.strip()


def address(name: str, value: object) -> dict[str, Any] | None:
    if value is not None and not isinstance(value, Mapping):
        raise refuse(name, value, "a dict such as {'address': '12 Road 5', 'city': 'Dhaka'}")
    return None if value is None else dict(value)


def status(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise refuse("status", value, "an order status such as 'delivered', or None")
    return value.strip()


def query(**values: Any) -> dict[str, Any]:
    """Query parameters without the ``None`` ones; booleans as ``true``/``false``."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else value
    return out
