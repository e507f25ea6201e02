"""Dates as users write them: ISO 8601 accepted, everything else refused, never guessed."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from selorax_analytics import DataError, ValidationError, rfm_segments
from selorax_analytics._dates import NotADateError, parse
from selorax_analytics.analytics._frames import as_of_day
from selorax_analytics.api.params import timestamp

EPOCH = dt.date(1970, 1, 1)

#: ISO text and the Asia/Dhaka calendar day it names, worked out by hand.
ACCEPTED_AS_OF = [
    ("2026-07-01", dt.date(2026, 7, 1)),
    (" 2026-07-01 ", dt.date(2026, 7, 1)),
    ("2026-07-01T10:00", dt.date(2026, 7, 1)),
    ("2026-07-01T23:59:59", dt.date(2026, 7, 1)),  # naive: already Dhaka wall time
    ("2026-07-01 23:59:59.999", dt.date(2026, 7, 1)),
    ("2026-07-01T10:00:00+06:00", dt.date(2026, 7, 1)),
    ("2026-06-30T18:00:00Z", dt.date(2026, 7, 1)),  # 00:00 in Dhaka
    ("2026-06-30T17:59:59Z", dt.date(2026, 6, 30)),
    ("2026-07-01T01:00:00+0100", dt.date(2026, 7, 1)),  # 06:00 in Dhaka
    ("2026-06-30T22:00:00-05", dt.date(2026, 7, 1)),  # 03:00 UTC, 09:00 in Dhaka
]

REFUSED = [
    "01/07/2026",  # 1 July in Dhaka, 7 January in New York
    "07/01/2026",
    "1/7/26",
    "01.07.2026",
    "01-07-2026",
    "July 1 2026",
    "1 July 2026",
    "now",
    "today",
    "",
    "   ",
    "2026-7-1",
    "2026-07",
    "20260701",
    "2026-07-01T10",
    "2026-02-30",
    "2026-13-01",
    "2026-07-01T24:00:00",
    "2026-07-01T10:00:00+06:00 extra",
    "2026-07-01T10:00:00 Asia/Dhaka",
    "\u0662\u0660\u0662\u0666-07-01",  # Arabic-Indic digits
    "0001-01-01T00:00:00+06:00",  # year 0 in UTC
]


@pytest.mark.parametrize(("text", "day"), ACCEPTED_AS_OF)
def test_iso_as_of_is_the_dhaka_day_it_names(text, day):
    assert as_of_day(text) == (day - EPOCH).days


@pytest.mark.parametrize(
    ("value", "day"),
    [
        (dt.date(2026, 7, 1), dt.date(2026, 7, 1)),
        (dt.datetime(2026, 7, 1, 23, 0), dt.date(2026, 7, 1)),
        (dt.datetime(2026, 6, 30, 18, 30, tzinfo=dt.UTC), dt.date(2026, 7, 1)),
        (pd.Timestamp("2026-07-01"), dt.date(2026, 7, 1)),
        (pd.Timestamp("2026-06-30T20:00", tz="UTC"), dt.date(2026, 7, 1)),
        (np.datetime64("2026-07-01"), dt.date(2026, 7, 1)),
    ],
)
def test_date_objects_are_taken_as_they_are(value, day):
    assert as_of_day(value) == (day - EPOCH).days


@pytest.mark.parametrize("text", REFUSED)
def test_anything_else_is_refused_with_the_accepted_form(text):
    with pytest.raises(DataError) as info:
        as_of_day(text)
    message = str(info.value)
    assert message.startswith(f"`as_of` is not a date: got {text!r}")
    assert "Pass an ISO 8601 date such as 2026-07-01, or a date-time such as" in message
    assert "2026-07-01T10:00:00+06:00" in message


@pytest.mark.parametrize(
    "value", [20260701, 1.5, True, ["2026-07-01"], pd.NaT, np.datetime64("NaT")]
)
def test_other_types_and_nat_are_refused(value):
    with pytest.raises(DataError, match="`as_of`"):
        as_of_day(value)


def test_day_first_text_is_explained():
    with pytest.raises(DataError, match="1 July 2026 is 2026-07-01"):
        as_of_day("01/07/2026")


def test_analytics_refuse_a_day_first_as_of_instead_of_reading_january():
    orders = pd.DataFrame(
        {
            "user_id": [1, 2],
            "created_at": pd.to_datetime(["2026-03-01T04:00:00Z", "2026-06-01T04:00:00Z"]),
            "grand_total": [100.0, 200.0],
            "order_status": ["delivered", "delivered"],
        }
    )
    assert len(rfm_segments(orders, as_of="2026-07-01")) == 2
    with pytest.raises(DataError, match="01/07/2026"):
        rfm_segments(orders, as_of="01/07/2026")


# --- since / until of requests -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "sent"),
    [
        ("2025-06-01", "2025-06-01T00:00:00.000Z"),  # naive: UTC
        ("2025-06-01T10:00:00+06:00", "2025-06-01T04:00:00.000Z"),
        ("2025-06-01T04:00:00.123456Z", "2025-06-01T04:00:00.123Z"),
        ("0001-01-01", "0001-01-01T00:00:00.000Z"),  # four-digit year, not "1-01-01"
        ("9999-12-31T23:59:59Z", "9999-12-31T23:59:59.000Z"),
        (dt.date(2025, 6, 1), "2025-06-01T00:00:00.000Z"),
        (
            dt.datetime(2025, 6, 1, 10, tzinfo=dt.timezone(dt.timedelta(hours=6))),
            "2025-06-01T04:00:00.000Z",
        ),
        (pd.Timestamp("2025-06-01T04:00", tz="UTC"), "2025-06-01T04:00:00.000Z"),
    ],
)
def test_since_and_until_are_sent_in_utc(value, sent):
    assert timestamp("since", value) == sent


@pytest.mark.parametrize("text", REFUSED)
def test_since_refuses_what_as_of_refuses(text):
    with pytest.raises(ValidationError, match=r"^`until` is not a date: .* Pass an ISO 8601 date"):
        timestamp("until", text)


def test_since_none_means_no_bound():
    assert timestamp("since", None) is None


# --- properties --------------------------------------------------------------------------------

dates = st.dates(min_value=dt.date(1, 1, 2), max_value=dt.date(9999, 12, 30))


@settings(max_examples=200, deadline=None)
@given(dates)
def test_every_iso_date_means_that_day(day):
    assert as_of_day(f"{day.year:04d}-{day.month:02d}-{day.day:02d}") == (day - EPOCH).days


@settings(max_examples=200, deadline=None)
@given(dates, st.integers(1, 12), st.integers(1, 31))
def test_slashed_dates_are_never_guessed(day, a, b):
    for text in (f"{a:02d}/{b:02d}/{day.year}", f"{a}/{b}/{day.year % 100:02d}"):
        with pytest.raises(NotADateError):
            parse(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_any_text_is_a_timestamp_or_one_clear_refusal(text):
    try:
        stamp = parse(text)
    except NotADateError as exc:
        assert str(exc).startswith(f"got {text!r}")
    else:
        assert isinstance(stamp, pd.Timestamp) and text.strip()[:4].isdigit()
