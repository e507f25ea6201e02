"""Checks of request parameters, done before anything is sent (errors name the bad value)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd

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
    """An ISO 8601 UTC text (``2025-06-01T00:00:00.000Z``) from a str, date or datetime."""
    if value is None:
        return None
    if not isinstance(value, str | date | datetime | pd.Timestamp):
        raise refuse(name, value, "an ISO 8601 date or date-time (str, date or datetime)")
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise refuse(name, value, "an ISO 8601 date or date-time such as 2025-06-01") from None
    if stamp is pd.NaT or pd.isna(stamp):
        raise refuse(name, value, "an ISO 8601 date or date-time such as 2025-06-01")
    stamp = stamp.tz_localize(UTC) if stamp.tzinfo is None else stamp.tz_convert(UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


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
