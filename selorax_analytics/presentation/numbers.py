"""How numbers read wherever a person sees them: report, notebooks' tables, command line.

One function per kind of value, each taking a scalar and returning text:

========================  ==========================  =====================================
kind                      example                     rule
========================  ==========================  =====================================
:func:`taka`              ``৳ 1,493,572``             whole taka, thousands separators
:func:`taka_precise`      ``৳ 1,493.50``              two decimals (per-order, per-person)
:func:`percent`           ``12.5%``                   a share (0.125) as a percentage
:func:`count`             ``1,596``                   whole number with separators
:func:`dhaka_time`        ``2025-07-17 12:51``        Asia/Dhaka, to the minute
:func:`dhaka_day`         ``2025-07-17``              the Asia/Dhaka calendar day
========================  ==========================  =====================================

A missing value (``None``, ``NaN``, ``NaT``, ``pd.NA``) is the empty string everywhere: a blank
cell, never ``nan``. The analytics functions return numbers untouched; only what is shown to a
person goes through here.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd

#: The stores' time zone: every day and time a person reads is in it.
DISPLAY_TIMEZONE = "Asia/Dhaka"

#: The taka sign, followed by a space as Bangladeshi invoices print it.
TAKA = "৳"


def missing(value: Any) -> bool:
    """Whether ``value`` is absent (None, NaN, NaT or pd.NA)."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # array-likes: not a scalar, so not "missing"
        return False


def taka(value: Any) -> str:
    """Whole taka with separators: ``৳ 1,493,572``; negative as ``-৳ 1,200``."""
    if missing(value):
        return ""
    amount = float(value)
    sign = "-" if amount < 0 and round(abs(amount)) != 0 else ""
    return f"{sign}{TAKA} {abs(amount):,.0f}"


def taka_precise(value: Any) -> str:
    """Taka with two decimals: ``৳ 1,493.50`` (averages per order or per person)."""
    if missing(value):
        return ""
    amount = float(value)
    sign = "-" if amount < 0 and round(abs(amount), 2) != 0 else ""
    return f"{sign}{TAKA} {abs(amount):,.2f}"


def percent(value: Any, digits: int = 1) -> str:
    """A share as a percentage: ``0.125`` -> ``12.5%``."""
    if missing(value):
        return ""
    share = float(value)
    if math.isinf(share):
        return "∞"
    return f"{share * 100:.{digits}f}%"


def count(value: Any) -> str:
    """A whole number with separators: ``1596`` -> ``1,596``."""
    if missing(value):
        return ""
    return f"{round(float(value)):,d}"


def number(value: Any, digits: int = 2) -> str:
    """Any other number, with separators and ``digits`` decimals."""
    if missing(value):
        return ""
    return f"{float(value):,.{digits}f}"


def _dhaka(value: Any) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:  # naive times in this package are UTC (the API's Z)
        stamp = stamp.tz_localize("UTC")
    return stamp.tz_convert(DISPLAY_TIMEZONE)


def dhaka_time(value: Any) -> str:
    """A moment in Asia/Dhaka to the minute: ``2025-07-17 12:51``.

    Naive timestamps are taken as UTC, as the API sends them.
    """
    if missing(value):
        return ""
    return _dhaka(value).strftime("%Y-%m-%d %H:%M")


def dhaka_day(value: Any) -> str:
    """The Asia/Dhaka calendar day of a moment (a date is itself): ``2025-07-17``."""
    if missing(value):
        return ""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    return _dhaka(value).strftime("%Y-%m-%d")
