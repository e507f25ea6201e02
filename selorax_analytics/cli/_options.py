"""The command line's option values: each checked when parsed, refused in one line (exit 2).

A bad value never reaches a loader or an analytics function: argparse calls these as ``type=``,
and :class:`Parser` prints the refusal as one line naming the option, the value and the
accepted form, then exits with 2. Dates are ISO 8601 only (:mod:`selorax_analytics._dates`).
"""

from __future__ import annotations

import argparse
from typing import NoReturn

import pandas as pd

#: Largest store id the command line takes (the API's ids are 64-bit).
MAX_ID = 2**63 - 1
#: Longest guest-conversion window the command line takes: a century.
MAX_WINDOW_DAYS = 36_500


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (exit 2), never a traceback."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def as_of_day(text: str) -> str:
    """``--as-of``: ISO 8601 only, as the Asia/Dhaka calendar day it names (YYYY-MM-DD)."""
    from selorax_analytics.analytics._frames import TIMEZONE

    stamp = _iso(text)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert(TIMEZONE)
    return f"{stamp.year:04d}-{stamp.month:02d}-{stamp.day:02d}"


def since(text: str) -> str:
    """``--since``: ISO 8601 only, passed on as written."""
    _iso(text)
    return text.strip()


def _iso(text: str) -> pd.Timestamp:
    from selorax_analytics._dates import ISO_FORMS, NotADateError, parse

    try:
        return parse(text)
    except NotADateError as exc:
        raise argparse.ArgumentTypeError(f"{str(exc).rstrip('.')}; use {ISO_FORMS}") from None


def _whole_number(text: str, *, minimum: int, maximum: int, expected: str) -> int:
    try:
        value = int(text.strip(), 10)  # at most 4,300 digits, else ValueError
    except ValueError:
        value = None
    if value is None or not minimum <= value <= maximum:
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise argparse.ArgumentTypeError(f"got {shown!r}; use {expected}")
    return value


def store_id(text: str) -> int:
    return _whole_number(
        text, minimum=1, maximum=MAX_ID, expected="a positive whole number such as 22"
    )


def window_days(text: str) -> int:
    expected = f"a whole number of days from 0 to {MAX_WINDOW_DAYS:,}, such as 90"
    return _whole_number(text, minimum=0, maximum=MAX_WINDOW_DAYS, expected=expected)


def region(text: str) -> str:
    import phonenumbers

    region = text.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise argparse.ArgumentTypeError(
            f"got {text!r}; use a two-letter ISO 3166 region with a telephone numbering plan, "
            "such as BD, IN or GB"
        )
    return region


def path(text: str) -> str:
    if not text.strip() or "\0" in text:
        raise argparse.ArgumentTypeError(f"got {text!r}; use a file or folder path")
    return text


def _fraction(text: str, *, what: str, example: str, ends: bool = False) -> float:
    """A number between 0 and 1 (``ends``: 0 and 1 allowed), or a usage error naming ``what``."""
    try:
        value = float(text.strip())
    except ValueError:
        value = float("nan")
    inside = 0 <= value <= 1 if ends else 0 < value < 1  # NaN fails both
    if not inside:
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise argparse.ArgumentTypeError(
            f"got {shown!r}; use {what} between 0 and 1, such as {example}"
        )
    return value


def risk_threshold(text: str) -> float:
    return _fraction(text, what="a risk", example="0.4", ends=True)
