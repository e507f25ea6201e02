"""Request bodies: strict JSON objects, refused with a 400 naming the field that is wrong.

Python's ``json`` module accepts more than JSON and fails in ways a server must not pass on:
``NaN`` and ``Infinity`` (not JSON; SQLite's JSON functions refuse them later), integers of
4,301 digits or more (``ValueError`` from ``int()``), lone surrogates such as ``"\\ud800"``
(valid JSON escapes that no UTF-8 encoder accepts) and nesting a few thousand levels deep
(``RecursionError``). Each is found here, before any endpoint sees the body, and answered with
the envelope naming where it was found (``address_json.city``, ``items[2]``).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from selorax_analytics.sandbox.params import (
    MAX_INTEGER,
    SHOWN_CHARACTERS,
    ApiProblem,
    bounded_int,
    shown,
)

#: Arrays and objects nested deeper than this are refused (an address is two or three deep).
MAX_DEPTH = 32
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
_SURROGATES = re.compile("[\ud800-\udfff]")


class _Refused:
    """A value the decoder met that the body may not hold; the walk reports where it was."""

    def __init__(self, text: str, expected: str) -> None:
        self.text = text
        self.expected = expected


def _constant(text: str) -> _Refused:
    return _Refused(text, "a finite number (JSON has no NaN or Infinity)")


def _integer(text: str) -> int | _Refused:
    value = bounded_int(text)
    if abs(value) > MAX_INTEGER:
        return _Refused(text, f"an integer from -{MAX_INTEGER} to {MAX_INTEGER}")
    return value


def _number(text: str) -> float | _Refused:
    value = float(text)
    return value if math.isfinite(value) else _constant(text)


def _label(where: str) -> str:
    """A field's name as sent, safe in a message: lone surrogates escaped, long names cut."""
    label = where.encode("utf-8", "backslashreplace").decode("utf-8")
    if len(label) > SHOWN_CHARACTERS:
        label = label[: SHOWN_CHARACTERS - 3] + "..."
    return label


def _problem(where: str, value: object, expected: str) -> ApiProblem:
    return ApiProblem(
        400,
        f"Invalid value for '{_label(where)}': {shown(value)}. Expected {expected}.",
        "validation_error",
    )


def _too_deep(text: str) -> str | None:
    """Where ``text`` first nests deeper than :data:`MAX_DEPTH`: the top-level key, or ``None``.

    A scan of strings and brackets only, without recursion, so any depth is measured.
    """
    depth, key = 0, "(body)"
    for token in _TOKENS.finditer(text):
        mark = token.group()
        if mark in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return key
        elif mark in "]}":
            depth -= 1
        elif depth == 1:
            key = mark[1:-1]  # the last string at the top level before the nesting: its key
    return None


def _check(value: Any, where: str) -> None:
    """Raise the 400 for the first refused number or lone surrogate in ``value``."""
    if isinstance(value, _Refused):
        raise _problem(where, value.text, value.expected)
    if isinstance(value, str) and _SURROGATES.search(value):
        raise _problem(where, value, "text without lone surrogates (valid Unicode)")
    if isinstance(value, dict):
        for key, item in value.items():
            _check(key, f"{where}.{key}" if where else key)
            _check(item, f"{where}.{key}" if where else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check(item, f"{where}[{index}]")


def json_object(raw: bytes) -> dict[str, Any]:
    """The request body as a JSON object; a 400 in the envelope for anything else.

    Raises
    ------
    ApiProblem
        400 ``validation_error`` when the body is not UTF-8 JSON, not an object, nested deeper
        than :data:`MAX_DEPTH`, or holds ``NaN``, ``Infinity``, an integer SQLite cannot hold or
        a lone surrogate (the message names the field).
    """
    not_object = ApiProblem(400, "The request body must be a JSON object.", "validation_error")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiProblem(
            400, "The request body must be a JSON object in UTF-8.", "validation_error"
        ) from None
    deep = _too_deep(text)
    if deep is not None:
        raise ApiProblem(
            400,
            f"'{_label(deep)}' is nested more than {MAX_DEPTH} levels deep; "
            f"at most {MAX_DEPTH} levels of arrays and objects are accepted.",
            "validation_error",
        )
    try:
        body = json.loads(text, parse_constant=_constant, parse_int=_integer, parse_float=_number)
    except (ValueError, RecursionError):
        raise not_object from None
    if not isinstance(body, dict):
        raise not_object
    _check(body, "")
    return body
