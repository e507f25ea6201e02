"""Errors raised by selorax_analytics.

::

    SeloraxError
     ├── DataError (also ValueError): bad input to an analytics function
     ├── ApiError: the SeloraX API answered with an error (``status_code``, ``code``)
     │    ├── ValidationError (also ValueError): 400, or a parameter refused before sending
     │    ├── AuthenticationError: 401, a missing, wrong or expired credential
     │    ├── PermissionDeniedError: 403, the credential lacks ``required_scope``
     │    ├── NotFoundError: 404
     │    ├── ConflictError: 409, e.g. a phone number already used in the store
     │    ├── RateLimitError: 429 after every retry (``retry_after`` in seconds)
     │    └── ServerError: 5xx after every retry
     ├── ConnectionFailedError (also ConnectionError): no answer: refused, timed out, cut off
     ├── IncompleteLoadError: a load could not be made complete and consistent
     ├── CacheError: no usable cache where one is required (``refresh="never"``)
     ├── OutputExistsError (also FileExistsError): a file to write exists; ``overwrite=True``
     └── ReportError: the report could not be built (missing notebooks, a failing cell)

Only :mod:`selorax_analytics.api.client` turns HTTP statuses and httpx exceptions into these, in one
table (``_http.STATUS_ERRORS``). Messages never contain a secret; a credential is shown at most
masked, like ``sx_at_...abcd``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path


class SeloraxError(Exception):
    """Root of every error this package raises."""


class DataError(SeloraxError, ValueError):
    """An analytics input is not usable: a missing column, an unknown option, an empty window."""


class ApiError(SeloraxError):
    """The API refused a request.

    Attributes
    ----------
    status_code : int or None
        The HTTP status, or ``None`` when the request was refused before it was sent.
    code : str or None
        The platform's error code (``invalid_token``, ``insufficient_scope``, ...), if any.
    server_message : str or None
        The ``message`` of the error envelope, as the server sent it.
    method, path : str or None
        The request, without query secrets (credentials travel in headers only).
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        code: str | None = None,
        server_message: str | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.server_message = server_message
        self.method = method
        self.path = path


class ValidationError(ApiError, ValueError):
    """A parameter is invalid: refused by the client before sending, or by the API with 400."""


class AuthenticationError(ApiError):
    """The credential is missing, wrong or expired (401), or none is configured."""


class PermissionDeniedError(ApiError):
    """The credential lacks a scope (403); ``required_scope`` names it."""

    def __init__(
        self, message: str, *, required_scope: str | None = None, **kwargs: object
    ) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.required_scope = required_scope


class NotFoundError(ApiError):
    """The customer, order or endpoint does not exist in this store (404)."""


class ConflictError(ApiError):
    """The change conflicts with the store's data (409), e.g. a phone number already in use."""


class RateLimitError(ApiError):
    """Still rate limited (429) after every retry; ``retry_after`` is the server's wait, seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class ServerError(ApiError):
    """The server failed (5xx) on every attempt."""


class ConnectionFailedError(SeloraxError, ConnectionError):
    """No complete answer: the connection was refused, timed out or cut off, on every attempt."""

    def __init__(self, message: str, *, method: str | None = None, path: str | None = None) -> None:
        super().__init__(message)
        self.method = method
        self.path = path


class IncompleteLoadError(SeloraxError):
    """A load could not be made complete: rows are missing or duplicated after every repair.

    Attributes
    ----------
    expected : int
        Rows the API's ``total`` promised.
    received : int
        Distinct rows actually read.
    missing : list of int
        Ids known to be missing, where they can be told (may be empty).
    """

    def __init__(
        self, message: str, *, expected: int, received: int, missing: Sequence[int] = ()
    ) -> None:
        super().__init__(message)
        self.expected = expected
        self.received = received
        self.missing = list(missing)


class CacheError(SeloraxError):
    """The cache cannot serve what was asked, e.g. ``refresh="never"`` with nothing cached."""


class OutputExistsError(SeloraxError, FileExistsError):
    """A file (or report folder) to write already exists and ``overwrite`` was not given.

    Attributes
    ----------
    path : str
        The path that exists.
    """

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path


class ReportError(SeloraxError):
    """The report could not be built: its notebooks are missing or one of them failed.

    Attributes
    ----------
    notebook : str or None
        The notebook that failed.
    cell : int or None
        Index of the failing cell in that notebook.
    partial : object
        The notebook as far as it ran (a ``nbformat`` node), for inspection.
    """

    def __init__(
        self,
        message: str,
        *,
        notebook: str | None = None,
        cell: int | None = None,
        partial: object = None,
    ) -> None:
        super().__init__(message)
        self.notebook = notebook
        self.cell = cell
        self.partial = partial


class IncompleteReportError(ReportError):
    """The report is written, but one or more notebooks did not finish.

    The message has one line per such notebook (the notebook, the code cell, the error), then
    the path of the index. ``notebook``, ``cell`` and ``partial`` are the first such notebook's.

    Attributes
    ----------
    failures : tuple of str
        One line per notebook that did not finish, in the report's order.
    index : Path
        The report's ``index.html`` (or the single file) that was written.
    """

    def __init__(
        self,
        failures: Sequence[str],
        index: os.PathLike[str] | str,
        *,
        notebook: str | None = None,
        cell: int | None = None,
        partial: object = None,
    ) -> None:
        done = (
            "the page of each shows how far it ran"
            if len(failures) > 1
            else ("its page shows how far it ran")
        )
        super().__init__(
            "\n".join([*failures, f"The rest of the report is written ({done}): {index}"]),
            notebook=notebook,
            cell=cell,
            partial=partial,
        )
        self.failures = tuple(failures)
        self.index = Path(index)
