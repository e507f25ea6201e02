"""Reading an answer: JSON bodies, what a body that is not JSON is, and status -> exception.

The one place HTTP statuses become :mod:`~selorax_analytics.exceptions` (:func:`error_for`);
every server message kept passes through :meth:`Credentials.redact` and is cut to
:data:`MAX_SERVER_MESSAGE` characters. :mod:`~selorax_analytics.api._transport` sends the
requests and uses these to read what came back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from selorax_analytics.api import _headers
from selorax_analytics.api._credentials import Credentials
from selorax_analytics.exceptions import (
    ApiError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    ValidationError,
)

#: Longest server message kept in an error (the rest is cut).
MAX_SERVER_MESSAGE = 300
#: A UTF-8 byte-order mark, skipped before JSON is read.
BOM = b"\xef\xbb\xbf"

STATUS_ERRORS: dict[int, type[ApiError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: ValidationError,
    429: RateLimitError,
}


def decode_json(content: bytes) -> Any:
    """Parse a JSON body: orjson (several times faster on list pages), else the standard module.

    A UTF-8 byte-order mark is skipped. The fallback reads what orjson refuses but ``json``
    accepts (``NaN``, ``Infinity``); both raise ``ValueError`` on text that is not JSON.
    (orjson reads integers beyond 64 bits as floats; no field of the API is that large.)
    """
    content = content.removeprefix(BOM)
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return json.loads(content)


def json_object(content: bytes) -> dict[str, Any] | None:
    """The body as a JSON object, or ``None`` when it is not JSON or not an object."""
    try:
        body = decode_json(content)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def describe_body(response: httpx.Response) -> str:
    """What a body that is not the expected JSON is, without quoting it."""
    kind = response.headers.get("content-type", "no Content-Type").split(";")[0].strip()
    size = len(response.content)
    if not size:
        return "an empty body"
    start = response.content.lstrip()[:15].lower()
    if "html" in kind or start.startswith((b"<!doctype html", b"<html")):
        return f"an HTML page ({kind}, {size} bytes)"
    return f"a {kind} body of {size} bytes that is not JSON"


def _server_text(body: dict[str, Any] | None, credentials: Credentials) -> str | None:
    message = body.get("message") if body else None
    if not isinstance(message, str) or not message.strip():
        return None
    text = credentials.redact(" ".join(message.split()))
    return text if len(text) <= MAX_SERVER_MESSAGE else text[: MAX_SERVER_MESSAGE - 3] + "..."


def _auth_message(code: str | None, credentials: Credentials, server: str) -> str:
    if credentials.token:
        where = "Set SELORAX_TOKEN (or pass token=) to a valid token for this store."
    else:
        where = "Check SELORAX_CLIENT_ID and SELORAX_CLIENT_SECRET (or client_id=/client_secret=)."
    if code == "not_installed":
        where = "Check SELORAX_STORE_ID (or store_id=): the app must be installed on that store."
    return f"The API rejected the {credentials.describe()}: {server} {where}"


@dataclass(frozen=True)
class Answer:
    """An error answer reduced to what the exception needs."""

    status: int
    body: dict[str, Any] | None
    reason: str
    method: str
    path: str
    retry_after: float | None = None
    note: str = ""


def error_for(answer: Answer, credentials: Credentials, required_scope: str | None) -> ApiError:
    """The exception for an error answer; the one place statuses become exceptions."""
    status, body = answer.status, answer.body
    code = body.get("code") if body and isinstance(body.get("code"), str) else None
    server = _server_text(body, credentials) or answer.reason or f"HTTP {status}"
    common: dict[str, Any] = {
        "status_code": status,
        "code": code,
        "server_message": server,
        "method": answer.method,
        "path": answer.path,
    }
    prefix = f"{answer.method} {answer.path} failed ({status}{answer.note})"
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
        return RateLimitError(f"{prefix}: rate limited.", retry_after=answer.retry_after, **common)
    if status >= 500:
        return ServerError(f"{prefix}: server error ({server}); try again later.", **common)
    kind = STATUS_ERRORS.get(status, ApiError)
    return kind(f"{prefix}: {server}", **common)


def error_from_response(
    response: httpx.Response, credentials: Credentials, required_scope: str | None
) -> ApiError:
    """The exception for an error response (see :func:`error_for`)."""
    request = response.request
    served = _headers.served_at(response.headers)
    answer = Answer(
        response.status_code,
        json_object(response.content),
        response.reason_phrase,
        request.method,
        request.url.path,
        _headers.retry_after(response.headers, served),
    )
    return error_for(answer, credentials, required_scope)
