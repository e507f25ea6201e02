"""Dates and date-times as users write them: ISO 8601 only, never guessed.

``01/07/2026`` is 1 July in Dhaka and 7 January in New York; a parser that guesses picks one
silently. Text is therefore accepted only in the ISO 8601 forms below, and everything else is
refused with a message that shows them:

- a date: ``2026-07-01`` (four-digit year, two-digit month and day);
- a date-time: ``2026-07-01T10:00``, ``2026-07-01T10:00:00``, ``2026-07-01T10:00:00.250``,
  with an optional offset ``Z``, ``+06:00``, ``+0600`` or ``+06`` (a space may stand for ``T``,
  as in ``str(datetime)``).

Objects need no parsing: ``datetime.date``, ``datetime.datetime``, :class:`pandas.Timestamp` and
:class:`numpy.datetime64` are taken as they are (``NaT`` is refused). What a naive value means
(UTC, or an Asia/Dhaka calendar day) is for the caller to say.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

from selorax_analytics.exceptions import SeloraxError

#: The accepted forms, for messages.
ISO_FORMS = (
    "an ISO 8601 date such as 2026-07-01, or a date-time such as 2026-07-01T10:00:00+06:00 "
    "or 2026-07-01T04:00:00Z"
)
_ISO = re.compile(
    r"\d{4}-\d{2}-\d{2}"
    r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?",
    flags=re.ASCII,
)
_AMBIGUOUS = re.compile(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}", flags=re.ASCII)
_FIRST = pd.Timestamp("0001-01-01", tz="UTC")
_LAST = pd.Timestamp("9999-12-31T23:59:59.999999", tz="UTC")


def iso_timestamp(value: object, *, name: str, error: type[SeloraxError]) -> pd.Timestamp:
    """``value`` as a :class:`pandas.Timestamp` (naive or aware, as written).

    Parameters
    ----------
    value
        ISO 8601 text, or a ``date``, ``datetime``, ``Timestamp`` or ``numpy.datetime64``.
    name
        The parameter's name, for the message (``as_of``, ``since``).
    error
        The error class to raise: ``DataError`` for analytics, ``ValidationError`` for
        request parameters.

    Raises
    ------
    SeloraxError
        An instance of ``error`` naming ``name``, the value and the accepted forms.
    """
    try:
        return parse(value)
    except NotADateError as exc:
        raise error(f"`{name}` is not a date: {exc} Pass {ISO_FORMS}.") from None


class NotADateError(ValueError):
    """What is wrong with a value that is not an accepted date (the value, and why)."""


def parse(value: object) -> pd.Timestamp:
    """``value`` as a Timestamp; :class:`NotADateError` says what is wrong with it."""
    if isinstance(value, str):
        stamp = _from_text(value)
    elif isinstance(value, bool) or not isinstance(value, dt.date | np.datetime64):
        raise NotADateError(f"got {type(value).__name__} {value!r}.")
    else:
        stamp = pd.Timestamp(value)
        if stamp is pd.NaT or pd.isna(stamp):
            raise NotADateError(f"got {value!r} (no date).")
    in_utc = stamp.tz_convert("UTC") if stamp.tzinfo is not None else stamp.tz_localize("UTC")
    if not _FIRST <= in_utc <= _LAST:
        raise NotADateError(f"got {value!r}, outside the years 1 to 9999 in UTC.")
    return stamp


def _from_text(text: str) -> pd.Timestamp:
    written = text.strip()
    if not _ISO.fullmatch(written):
        hint = ""
        if _AMBIGUOUS.fullmatch(written):
            hint = " (day-first and month-first dates are ambiguous: 1 July 2026 is 2026-07-01)"
        raise NotADateError(f"got {text!r}{hint}.")
    try:
        return pd.Timestamp(written)
    except (ValueError, OverflowError) as exc:  # 2026-02-30, hour 24
        raise NotADateError(f"got {text!r}, which is not a real date or time ({exc}).") from None
