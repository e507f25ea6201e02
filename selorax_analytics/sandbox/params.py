"""Query and body validation as the platform does it: 400 with a message naming the parameter."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

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


#: How much of a refused value a message repeats; the rest is summarised by its length.
SHOWN_CHARACTERS = 60
#: Digits of the largest integer SQLite holds; longer digit strings are not converted at all
#: (Python refuses ``int()`` of 4,301 digits or more, and the value is too large anyway).
_MAX_DIGITS = len(str(MAX_INTEGER))


def shown(value: object) -> str:
    """``repr(value)``, cut short for long values: safe in any message (``repr`` escapes lone
    surrogates and control characters, so the JSON of the message always encodes)."""
    text = repr(value)
    if len(text) <= SHOWN_CHARACTERS:
        return text
    size = f"{len(value)} characters" if isinstance(value, str) else f"{len(text)} characters"
    return f"{text[: SHOWN_CHARACTERS - 10]}... ({size})"


def bad(name: str, value: object, expected: str) -> ApiProblem:
    return ApiProblem(
        400, f"Invalid value for '{name}': {shown(value)}. Expected {expected}.", "validation_error"
    )


def bounded_int(digits: str) -> int:
    """The integer of ASCII ``digits`` (an optional ``-`` first, surrounding spaces allowed).

    A value with more digits than any integer SQLite holds comes back as ``±(MAX_INTEGER + 1)``
    without being converted, so it is compared (and refused, or clamped) like any other value
    out of range, whatever its length.
    """
    text = digits.strip()
    negative = text.startswith("-")
    significant = text.lstrip("-").lstrip("0")
    if len(significant) > _MAX_DIGITS:
        return -(MAX_INTEGER + 1) if negative else MAX_INTEGER + 1
    return int(text)


def path_id(raw: str, name: str) -> int:
    """An id from the path: a positive integer SQLite can hold, else a 400 naming ``name``."""
    if not re.fullmatch(r"[0-9]+", raw) or not 0 < bounded_int(raw) <= MAX_INTEGER:
        raise bad(name, raw, f"a positive integer no larger than {MAX_INTEGER}")
    return int(raw)


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
    value = bounded_int(raw)
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
    """An ISO 8601 date or date-time as the database's UTC text; naive times are UTC.

    A time whose UTC instant falls outside years 1 to 9999 (``0001-01-01T00:00:00+05:00``) is a
    400 like any other value that is not a time.
    """
    raw = query.get(name)
    if raw is None:
        return None
    expected = "an ISO 8601 date or date-time such as 2025-06-01T00:00:00Z"
    try:
        value = datetime.fromisoformat(raw.strip())
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
    except (ValueError, OverflowError):
        raise bad(name, raw, f"{expected}, between years 1 and 9999 in UTC") from None
    # The same text as db.utc_text, written out by hand: strftime pads years below 1000
    # differently from one C library to another.
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}T{value.hour:02d}:"
        f"{value.minute:02d}:{value.second:02d}.{value.microsecond // 1000:03d}Z"
    )


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
