"""Query and body validation as the platform does it: 400 with a message naming the parameter."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from selorax_analytics.sandbox.db import utc_text

MAX_LIMIT = 250
DEFAULT_LIMIT = 50
#: The largest integer SQLite holds: larger values are refused with a 400, not overflowed.
MAX_INTEGER = 2**63 - 1
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ApiProblem(Exception):
    """An error answer: HTTP status, message and (where the platform sends one) a code."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


def bad(name: str, value: object, expected: str) -> ApiProblem:
    return ApiProblem(
        400, f"Invalid value for '{name}': {value!r}. Expected {expected}.", "validation_error"
    )


def integer(
    query: Mapping[str, str],
    name: str,
    default: int | None,
    minimum: int,
    maximum: int | None = MAX_INTEGER,
) -> int | None:
    raw = query.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"\s*-?[0-9]+\s*", raw):
        raise bad(name, raw, f"an integer of at least {minimum}")
    value = int(raw)
    if value < minimum:
        raise bad(name, raw, f"an integer of at least {minimum}")
    if maximum is not None and value > maximum:
        raise bad(name, raw, f"an integer no larger than {maximum}")
    return value


def paging(query: Mapping[str, str]) -> tuple[int, int]:
    """``(page, limit)``; a limit above 250 is clamped to 250, as the platform does."""
    page = integer(query, "page", 1, 1, MAX_INTEGER // MAX_LIMIT)
    limit = integer(query, "limit", DEFAULT_LIMIT, 1, None)  # any size: it is clamped
    assert page is not None and limit is not None
    return page, min(limit, MAX_LIMIT)


def sort(query: Mapping[str, str], allowed: tuple[str, ...]) -> tuple[str, str]:
    raw = query.get("sort", "created_at:desc")
    column, _, direction = raw.partition(":")
    direction = direction or "asc"
    if column not in allowed or direction not in ("asc", "desc"):
        choices = ", ".join(f"{c}:asc|{c}:desc" for c in allowed)
        raise bad("sort", raw, f"one of {choices}")
    return column, direction


def timestamp(query: Mapping[str, str], name: str) -> str | None:
    """An ISO 8601 date or date-time as the database's UTC text; naive times are UTC."""
    raw = query.get(name)
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise bad(name, raw, "an ISO 8601 date or date-time such as 2025-06-01T00:00:00Z") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return utc_text(value)


def flag(query: Mapping[str, str], name: str) -> bool:
    raw = query.get(name, "false").strip().lower()
    if raw not in ("true", "false", "1", "0"):
        raise bad(name, query.get(name), "true or false")
    return raw in ("true", "1")


def text_field(body: Mapping[str, Any], name: str, *, maximum: int, minimum: int = 1) -> str:
    value = body[name]
    if not isinstance(value, str) or len(value.strip()) < minimum:
        raise ApiProblem(
            400,
            f"'{name}' must be a string of at least {minimum} character(s).",
            "validation_error",
        )
    if len(value) > maximum:
        raise ApiProblem(
            400,
            f"'{name}' is {len(value)} characters long; at most {maximum} are allowed.",
            "validation_error",
        )
    return value


def email_field(body: Mapping[str, Any]) -> str | None:
    value = body["email"]
    if value is None:
        return None
    if not isinstance(value, str) or not EMAIL_PATTERN.match(value.strip()):
        raise ApiProblem(
            400, f"'email' is not a valid email address: {value!r}.", "validation_error"
        )
    return value.strip()


def address_field(body: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    value = body[name]
    if value is not None and not isinstance(value, dict):
        raise ApiProblem(400, f"'{name}' must be a JSON object or null.", "validation_error")
    return value


def search(query: Mapping[str, str]) -> str | None:
    """The ``search`` text, or ``None``; control characters are refused.

    SQLite's ``LIKE`` stops reading a pattern at a NUL byte, so ``%00`` would match every
    customer; a search for a control character cannot match a name, e-mail or phone anyway.
    """
    value = query.get("search")
    if not value:
        return None
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise bad("search", value, "text without control characters (a name, e-mail or phone)")
    return value
