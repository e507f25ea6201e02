"""One page of a list endpoint, read from its decoded answer (:class:`Page`).

A page that is not the documented answer (``data`` a list, ``pagination`` an object with whole
``total`` and ``page``) raises :class:`ApiError`; walking many pages is
:mod:`~selorax_analytics.api.paginators`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from selorax_analytics.exceptions import ApiError


@dataclass(frozen=True)
class Page:
    """One page of a list endpoint: its rows and the ``total`` the server reported.

    ``total_known`` is false when the answer carried no ``total`` (``total`` is then the page's
    row count).
    """

    records: list[dict[str, Any]]
    page: int
    limit: int
    total: int
    served_at: pd.Timestamp | None = None
    total_known: bool = True

    @classmethod
    def from_body(cls, body: dict[str, Any], page: int, limit: int) -> Page:
        """The page in a decoded list answer; :class:`ApiError` if it is not one.

        ``body["_served_at"]`` is the answer's ``Date`` as the client read it (an aware
        datetime, or absent when missing or unreadable); ``served_at`` is it in UTC.
        """
        paging = body.get("pagination") or {}
        data = body.get("data")
        if data is None and "pagination" in body:  # "data": null on an empty page
            data = []
        if not isinstance(data, list) or not isinstance(paging, dict):
            got = f"keys {sorted(body)}" if body else "an empty object"
            raise ApiError(
                f"A list page (page {page}) was not the documented answer: `data` must be a "
                f"list and `pagination` an object; got {got}. The API or a proxy in between "
                "answered something else: check SELORAX_BASE_URL and try again."
            )
        known = paging.get("total") is not None
        try:
            total = int(paging["total"]) if known else len(data)
            number = int(paging.get("page", page))
        except (TypeError, ValueError, OverflowError):
            raise ApiError(
                f"A list page (page {page}) had `pagination` {paging!r:.200}; `total` and "
                "`page` must be whole numbers. The API answered something unexpected; try again."
            ) from None
        stamp = body.get("_served_at")
        served = None
        if stamp is not None and getattr(stamp, "tzinfo", None) is not None:
            served = pd.Timestamp(stamp).tz_convert("UTC")
        return cls(list(data), number, limit, total, served, total_known=known)
