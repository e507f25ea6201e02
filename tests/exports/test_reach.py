"""Reach by channel and readable export summaries, on a hand-built store."""

from __future__ import annotations

import csv

import pandas as pd
import pytest

from selorax_analytics import (
    DataError,
    export_segment,
    export_segments,
    export_summary,
    segment_reach,
)
from selorax_analytics.loading._typing import coerce_customers
from tests.exports._records import customer_record

NO_EMAIL = "no valid e-mail address (Mailchimp needs one)"


@pytest.fixture
def customers():
    return coerce_customers(
        pd.DataFrame(
            [
                customer_record(1, "Person 1", "01712345678", "a@example.com"),
                # user 1's older guest record: the same phone, written differently
                customer_record(
                    2, "Person 2", "+880 1712-345678", None, guest=1, updated="2025-02-01"
                ),
                customer_record(
                    3, "Person 3", "12345", "b@example.com"
                ),  # invalid phone, valid e-mail
                customer_record(4, "Person 4", "+44 20 7183 8750", None),  # a UK phone: no SMS here
                customer_record(5, "Person 5", None, "bad@"),  # nothing usable
                customer_record(6, "Person 6", "01811112222", None),
            ]
        )
    )


@pytest.fixture
def rfm():
    segments = {1: "Champions", 2: "Champions", 3: "Champions", 4: "Champions", 5: "Champions"}
    segments |= {6: "Hibernating", 8: "Hibernating"}  # user 8 has no customer record
    frame = pd.DataFrame(
        {
            "user_id": pd.array(list(segments), dtype="Int64"),
            "last_order_at": pd.to_datetime(["2026-06-20"] * len(segments), utc=True),
            "recency_days": 11,
            "frequency": 2,
            "monetary": 1000.0,
            "segment": list(segments.values()),
        }
    )
    frame.attrs["as_of"] = "2026-07-01"
    return frame


def test_reach_counts_people_per_channel_by_hand(rfm, customers):
    reach = segment_reach(rfm, customers)
    # Champions: people {1+2}, 3, 4, 5 -> 4. SMS: only 1+2 has a BD mobile. E-mail: 1, 3.
    # Meta and Google take a phone or an e-mail: 1+2, 3 (e-mail), 4 (UK phone) -> 3.
    # Hibernating: 6 (BD mobile, no e-mail); user 8 has no customer record, so no person.
    expected = pd.DataFrame(
        {
            "segment": ["Champions", "Hibernating"],
            "people": [4, 1],
            "sms": [1, 1],
            "email": [2, 0],
            "meta": [3, 1],
            "google": [3, 1],
        }
    )
    pd.testing.assert_frame_equal(reach, expected, check_dtype=False)
    assert reach.dtypes.drop("segment").eq("int64").all()


def test_reach_agrees_with_what_an_sms_export_writes(rfm, customers, tmp_path):
    sms = export_segment(
        rfm, "Champions", tmp_path / "c.sms.csv", customers=customers, format="sms"
    )
    with open(sms.path, encoding="utf-8") as f:
        written = len(list(csv.reader(f))) - 1  # minus the header
    assert written == segment_reach(rfm, customers).set_index("segment").at["Champions", "sms"]


def test_reach_refuses_a_frame_without_contacts(rfm):
    with pytest.raises(DataError, match="customers"):
        segment_reach(rfm, pd.DataFrame({"user_id": [1]}))


def test_export_summary_names_rows_file_format_and_who_was_left_out(rfm, customers, tmp_path):
    target = tmp_path / "champions.mailchimp.csv"
    mail = export_segment(rfm, "Champions", target, customers=customers, format="mailchimp")
    # 4 Champions, 2 with a valid e-mail (1 and 3): 2 rows, 2 people left out.
    assert mail.summary() == {
        "segment": "Champions",
        "format": "mailchimp",
        "rows": 2,
        "file": "champions.mailchimp.csv",
        "people_left_out": 2,
        "why": f"2 {NO_EMAIL}",
    }
    text = repr(mail)
    assert "PosixPath" not in text
    assert all(part in text for part in ("Champions", "mailchimp", "2 rows", target.name))
    html = mail._repr_html_()
    assert "<table" in html and target.name in html and NO_EMAIL in html


def test_export_summary_of_every_segment(rfm, customers, tmp_path):
    results = export_segments(rfm, tmp_path, customers=customers, format="sms")
    table = export_summary(results)
    assert table.columns.tolist() == ["segment", "format", "rows", "file", "people_left_out", "why"]
    assert table["segment"].tolist() == ["Champions", "Hibernating"]
    assert table["file"].tolist() == ["champions.sms.csv", "hibernating.sms.csv"]
    # Champions: 1 of 4 people has a BD mobile; Hibernating: its one person has, and user 8
    # (no customer record) is left out.
    assert table["rows"].tolist() == [1, 1]
    assert table["people_left_out"].tolist() == [3, 1]
    assert table["why"].tolist() == [
        "3 no valid Bangladeshi mobile number",
        "1 no customer record for this user_id",
    ]
    assert export_summary(results["Champions"]).equals(table.iloc[:1])
    with pytest.raises(DataError, match="export results"):
        export_summary(["not a result"])
