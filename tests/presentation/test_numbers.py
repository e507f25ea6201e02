"""The display rules for numbers, each checked against text written out by hand."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from selorax_analytics.presentation import numbers


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1493572, "৳ 1,493,572"),
        (1493571.6, "৳ 1,493,572"),
        (0, "৳ 0"),
        (-1200, "-৳ 1,200"),
        (-0.4, "৳ 0"),
        (np.int64(999), "৳ 999"),
    ],
)
def test_taka_whole(value, text):
    assert numbers.taka(value) == text


def test_taka_precise_keeps_paisa():
    assert numbers.taka_precise(1493.5) == "৳ 1,493.50"
    assert numbers.taka_precise(-12.346) == "-৳ 12.35"


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.125, "12.5%"), (1, "100.0%"), (0.0004, "0.0%"), (np.float64(0.5), "50.0%")],
)
def test_percent(value, text):
    assert numbers.percent(value) == text


def test_percent_digits_and_infinity():
    assert numbers.percent(0.12346, digits=2) == "12.35%"
    assert numbers.percent(math.inf) == "∞"


def test_count_separators():
    assert numbers.count(1596) == "1,596"
    assert numbers.count(np.int64(1234567)) == "1,234,567"
    assert numbers.count(3.0) == "3"


@pytest.mark.parametrize("value", [None, float("nan"), pd.NA, pd.NaT, np.nan])
def test_missing_is_blank_for_every_kind(value):
    for show in (
        numbers.taka,
        numbers.taka_precise,
        numbers.percent,
        numbers.count,
        numbers.number,
        numbers.dhaka_time,
        numbers.dhaka_day,
    ):
        assert show(value) == ""


def test_dhaka_time_from_utc_drops_subseconds():
    # 06:51:30.495 UTC is 12:51 in Dhaka (UTC+6, no daylight saving).
    stamp = pd.Timestamp("2025-07-17 06:51:30.495", tz="UTC")
    assert numbers.dhaka_time(stamp) == "2025-07-17 12:51"
    assert numbers.dhaka_time(pd.Timestamp("2025-07-17 06:51:30.495")) == "2025-07-17 12:51"


def test_dhaka_day_crosses_midnight():
    # 20:30 UTC on the 17th is 02:30 on the 18th in Dhaka.
    assert numbers.dhaka_day(pd.Timestamp("2025-07-17 20:30", tz="UTC")) == "2025-07-18"
    assert numbers.dhaka_day(dt.date(2025, 7, 17)) == "2025-07-17"
