"""sa.style and text_table: the package's result frames as people read them.

Every frame here is built by hand with the columns the analytics functions return; expected
strings are written out by hand from the rules in presentation/numbers.py.
"""

from __future__ import annotations

import html
import math
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import selorax_analytics as sa
from selorax_analytics.presentation import tables
from selorax_analytics.presentation.tables import TABLES_ENV, style, text_table

_CELL = re.compile(r"<td[^>]*>(.*?)</td>", re.S)


def cells(styler) -> list[str]:
    """The body cells of a rendered Styler, row by row, as a reader sees them (unescaped)."""
    return [html.unescape(cell) for cell in _CELL.findall(styler.to_html())]


def caption(styler) -> str:
    match = re.search(r"<caption>(.*?)</caption>", styler.to_html(), re.S)
    return match.group(1) if match else ""


@pytest.fixture(autouse=True)
def _no_tables_folder(monkeypatch):
    monkeypatch.delenv(TABLES_ENV, raising=False)


def segment_summary() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "segment": pd.Series(["Champions", "Hibernating"], dtype="str"),
            "customers": [73, 1596],
            "customer_share": [73 / 1669, 1596 / 1669],
            "revenue": [1493572.01, 6437642.5],
            "revenue_share": [0.188, 0.812],
            "mean_recency_days": [39.726, 618.05],
            "mean_frequency": [6.041, 1.11],
            "mean_monetary": [20459.8905, 4033.61],
        }
    )


def test_segment_summary_money_shares_counts():
    frame = segment_summary()
    # 73 / 1669 = 0.04374 -> 4.4%; 1596 / 1669 = 0.95626 -> 95.6%
    assert cells(style(frame)) == [
        "Champions", "73", "4.4%", "৳ 1,493,572", "18.8%", "39.73", "6.04", "৳ 20,459.89",
        "Hibernating", "1,596", "95.6%", "৳ 6,437,642", "81.2%", "618.05", "1.11", "৳ 4,033.61",
    ]  # fmt: skip


def test_the_frame_is_not_changed():
    frame = segment_summary()
    before = frame.copy()
    style(frame, caption="Segments").to_html()
    text_table(frame)
    pd.testing.assert_frame_equal(frame, before)
    assert frame["revenue"].dtype == np.float64


def rfm_frame() -> pd.DataFrame:
    at = pd.to_datetime(["2025-07-17 06:51:30.495", "2024-06-09 15:22:04.708"], utc=True)
    return pd.DataFrame(
        {
            "user_id": pd.array([1, 1234], dtype="Int64"),
            "first_order_at": at,
            "last_order_at": at,
            "recency_days": [259, 752],
            "frequency": [3, 1],
            "monetary": [3629.51, 4498.0],
            "avg_order_value": [1209.836667, 4498.0],
            "r_score": [3, 1],
            "f_score": [3, 1],
            "m_score": [3, 4],
            "rfm_score": pd.Series(["333", "114"], dtype="str"),
            "segment": pd.Categorical(["Need Attention", "Hibernating"]),
        }
    )


def test_wide_rfm_shows_its_key_columns_and_says_what_is_hidden():
    styler = style(rfm_frame())
    # ids without separators; 3629.51 -> whole taka 3,630
    assert cells(styler) == [
        "1", "259", "3", "৳ 3,630", "Need Attention",
        "1234", "752", "1", "৳ 4,498", "Hibernating",
    ]  # fmt: skip
    note = caption(styler)
    assert note.startswith("5 of 12 columns shown to fit the page; 7 hidden (first_order_at,")
    assert "the frame itself" in note
    assert "<th" in styler.to_html() and "segment</th>" in styler.to_html()


def test_datetimes_in_dhaka_to_the_minute():
    frame = rfm_frame()
    shown = cells(style(frame, key_columns=["user_id", "first_order_at"]))
    # 06:51:30.495 UTC is 12:51 in Dhaka (UTC+6); 15:22 UTC is 21:22
    assert shown == ["1", "2025-07-17 12:51", "1234", "2024-06-09 21:22"]


def test_wide_frame_written_to_the_report_tables_folder(tmp_path, monkeypatch):
    monkeypatch.setenv(TABLES_ENV, str(tmp_path))
    frame = rfm_frame()
    styler = style(frame, name="rfm_top")
    assert '<a href="tables/rfm_top.csv">tables/rfm_top.csv</a>' in caption(styler)
    back = pd.read_csv(tmp_path / "rfm_top.csv")
    assert list(back.columns) == list(frame.columns)
    assert back["monetary"].tolist() == [3629.51, 4498.0]  # raw numbers, full precision
    assert back["avg_order_value"].tolist() == [1209.836667, 4498.0]
    assert back["user_id"].tolist() == [1, 1234]
    assert back["segment"].tolist() == ["Need Attention", "Hibernating"]
    written = pd.to_datetime(back["first_order_at"], utc=True)
    assert written.tolist() == frame["first_order_at"].tolist()  # UTC, milliseconds kept
    style(frame.head(1), name="rfm_top").to_html()  # written again: replaced, not refused
    assert len(pd.read_csv(tmp_path / "rfm_top.csv")) == 1


def test_default_file_name_is_the_known_result(tmp_path, monkeypatch):
    monkeypatch.setenv(TABLES_ENV, str(tmp_path))
    style(rfm_frame())
    assert [p.name for p in tmp_path.iterdir()] == ["rfm_segments.csv"]


def test_narrow_frame_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv(TABLES_ENV, str(tmp_path))
    style(segment_summary(), name="segments")
    assert list(tmp_path.iterdir()) == []


def test_bad_name_and_unknown_columns_are_data_errors():
    with pytest.raises(sa.DataError, match=r"`name` '\.\./x'"):
        style(rfm_frame(), name="../x")
    with pytest.raises(sa.DataError, match=r"`key_columns` names \['nope'\]"):
        style(rfm_frame(), key_columns=["user_id", "nope"])
    with pytest.raises(sa.DataError, match=r"`money` names \['spend'\]"):
        style(segment_summary(), money=["spend"])
    with pytest.raises(sa.DataError, match=r"`key_columns` names \['nope'\]"):
        style(segment_summary(), key_columns=["nope"])  # checked on a narrow frame too
    with pytest.raises(sa.DataError, match="DataFrame or a Series, got list"):
        style([1, 2])  # type: ignore[arg-type]
    with pytest.raises(sa.DataError, match="list of column names"):
        style(segment_summary(), shares="customer_share")


def test_explicit_kinds_for_any_frame():
    frame = pd.DataFrame({"campaign": ["A"], "spend": [12000.4], "ctr": [0.0125], "n": [12345.0]})
    assert cells(style(frame, money=["spend"], shares=["ctr"], counts=["n"])) == [
        "A", "৳ 12,000", "1.2%", "12,345",
    ]  # fmt: skip  # 0.0125 -> 1.25 -> "1.2%" (round half to even)


def cohort_frame(metric: str, values: list[list[float]]) -> pd.DataFrame:
    """Three monthly cohorts as of 2026-07-01: July 2026 is the running period."""
    index = pd.PeriodIndex(["2026-05", "2026-06", "2026-07"], freq="M", name="cohort")
    frame = pd.DataFrame(values, index=index, columns=[0, 1, 2])
    frame.insert(0, "cohort_size", [207, 198, 5])
    frame.attrs = {
        "period": "M", "by": "first_order", "metric": metric, "as_of": "2026-07-01",
        "partial_period": "2026-07",
    }  # fmt: skip
    return frame


NAN = math.nan


def test_retention_censored_blank_running_period_marked():
    frame = cohort_frame("customers", [[1.0, 0.05314, 0.0], [1.0, 0.0, NAN], [1.0, NAN, NAN]])
    styler = style(frame)
    # May cohort: offset 2 is July (running); June: offset 1; July: offset 0
    assert cells(styler) == [
        "207", "100.0%", "5.3%", "0.0%*",
        "198", "100.0%", "0.0%*", "",
        "5", "100.0%*", "", "",
    ]  # fmt: skip
    html = styler.to_html()
    assert "nan" not in html.lower()
    assert ">2026-05</th>" in html
    assert "Blank: periods the cohort has not reached by as_of (censored)." in caption(styler)
    assert "* running period 2026-07: partial, counted up to 2026-07-01 only." in caption(styler)
    shaded = html.split("font-style: italic")[0].rsplit("}", 1)[1]
    assert sorted(re.findall(r"row\d_col\d", shaded)) == ["row0_col3", "row1_col2", "row2_col1"]


@pytest.mark.parametrize(
    ("metric", "row"),
    [
        ("orders", ["207", "213", "13", "0*"]),
        ("ltv", ["207", "৳ 3,864", "৳ 3,974", "৳ 3,974*"]),
        ("revenue", ["207", "100.0%", "2.8%", "0.0%*"]),
    ],
)
def test_cohort_metrics(metric, row):
    first = {"orders": [213.0, 13.0, 0.0], "ltv": [3864.03, 3974.12, 3974.12],
             "revenue": [1.0, 0.028492, 0.0]}[metric]  # fmt: skip
    frame = cohort_frame(metric, [first, [1.0, 0.0, NAN], [1.0, NAN, NAN]])
    assert cells(style(frame))[:4] == row


def test_cohort_slice_keeps_its_marks():
    frame = cohort_frame("customers", [[1.0, 0.05, 0.0], [1.0, 0.0, NAN], [1.0, NAN, NAN]])
    assert cells(style(frame.iloc[:2, :3])) == ["207", "100.0%", "5.0%", "198", "100.0%", "0.0%*"]


def test_cohort_text_table_for_the_command_line():
    frame = cohort_frame("customers", [[1.0, 0.05314, 0.0], [1.0, 0.0, NAN], [1.0, NAN, NAN]])
    assert text_table(frame).splitlines() == [
        " cohort cohort_size       0     1     2",
        "2026-05         207  100.0%  5.3% 0.0%*",
        "2026-06         198  100.0% 0.0%*      ",
        "2026-07           5 100.0%*            ",
        "Blank: periods the cohort has not reached by as_of (censored).",
        "* running period 2026-07: partial, counted up to 2026-07-01 only.",
    ]


def test_guest_frames():
    groups = pd.DataFrame(
        {
            "group": pd.Series(["registered", "guest"], dtype="str"),
            "customers": [2943, 1206],
            "customer_share": [0.6993, 0.2866],
            "orders": [4277, 1694],
            "revenue": [15520422.44, 6136185.63],
            "avg_order_value": [3628.81, 3622.306],
            "repeat_rate": [0.2172, 0.2056],
            "median_days_to_second_order": [60.0, NAN],
        }
    )
    assert cells(style(groups)) == [
        "registered", "2,943", "69.9%", "4,277", "৳ 15,520,422", "৳ 3,628.81", "21.7%", "60",
        "guest", "1,206", "28.7%", "1,694", "৳ 6,136,186", "৳ 3,622.31", "20.6%", "",
    ]  # fmt: skip
    funnel = pd.DataFrame({"stage": ["first guest order", "account"], "customers": [1096, 55],
                           "share": [1.0, 55 / 1096]})  # fmt: skip
    assert cells(style(funnel)) == ["first guest order", "1,096", "100.0%", "account", "55", "5.0%"]
    cohorts = pd.DataFrame(
        {"guests": [52], "converted_in_window": [4], "conversion_rate": [4 / 52], "converted": [4],
         "median_days_to_conversion": [NAN], "window_complete": [False]},
        index=pd.PeriodIndex(["2026-04"], freq="M", name="cohort"),
    )  # fmt: skip
    assert cells(style(cohorts)) == ["52", "4", "7.7%", "4", "", "no"]


def test_customer_value_and_orders():
    value = pd.DataFrame(
        {"user_id": [4765], "frequency": [14], "recency": [560.0], "T": [563.0],
         "monetary_value": [3512.4681], "p_alive": [0.8423], "expected_orders": [4.2671],
         "expected_avg_order_value": [3498.1], "clv": [14197.51]}
    )  # fmt: skip
    styler = style(value)
    assert cells(styler) == ["4765", "14", "84.2%", "4.27", "৳ 14,198"]
    orders = pd.DataFrame(
        {"order_id": pd.array([1], dtype="Int64"), "user_id": pd.array([3536], dtype="Int64"),
         "order_status": pd.Categorical(["delivered"]), "grand_total": [4410.05],
         "created_at": pd.to_datetime(["2024-01-01 00:26:00.627"], utc=True)}
    )  # fmt: skip
    assert cells(style(orders)) == ["1", "3536", "delivered", "৳ 4,410.05", "2024-01-01 06:26"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(st.just(NAN), st.floats(min_value=-1e9, max_value=1e9, allow_nan=False)),
        min_size=1,
        max_size=6,
    )
)
def test_any_float_column_renders_without_nan_and_keeps_its_value(values):
    frame = pd.DataFrame({"x": values, "revenue": values, "share": values})
    shown = cells(style(frame))
    assert "nan" not in " ".join(shown).lower()
    for i, value in enumerate(values):
        plain, money, share = shown[3 * i : 3 * i + 3]
        if math.isnan(value):
            assert (plain, money, share) == ("", "", "")
            continue
        assert abs(float(plain.replace(",", "")) - value) <= 0.005 + 1e-9 * abs(value)
        taka = float(money.replace("৳ ", "").replace(",", ""))
        assert abs(taka - value) <= 0.5 + 1e-9 * abs(value)
        assert abs(float(share.rstrip("%")) / 100 - value) <= 0.0005 + 1e-9 * abs(value)


def test_max_columns_rule_counts_the_index():
    frame = pd.DataFrame({f"c{i}": [i] for i in range(tables.MAX_COLUMNS)})
    assert len(cells(style(frame))) == tables.MAX_COLUMNS
    wide = frame.assign(extra=1)
    assert len(cells(style(wide))) == tables.MAX_COLUMNS
    assert "1 hidden (extra)" in caption(style(wide))


def test_a_series_is_a_one_column_table():
    counts = pd.Series([3644, 1421], index=pd.Index([False, True], name="is_guest"), name="count")
    styler = style(counts)
    assert cells(styler) == ["3,644", "1,421"]
    assert ">no</th>" in styler.to_html() and ">yes</th>" in styler.to_html()


def test_wide_cohort_table_keeps_size_and_first_offsets():
    index = pd.PeriodIndex(["2026-05", "2026-06"], freq="M", name="cohort")
    rows = [[1.0, 0.5] + [math.nan] * 8, [1.0] + [math.nan] * 9]
    frame = pd.DataFrame(rows, index=index, columns=range(10))
    frame.insert(0, "cohort_size", [10, 20])
    frame.attrs = {"metric": "customers", "partial_period": "2026-06", "as_of": "2026-06-15"}
    styler = style(frame)
    # index + cohort_size + offsets 0-5 = 8 columns; offsets 6-9 hidden
    assert cells(styler) == [
        "10", "100.0%", "50.0%*", "", "", "", "",
        "20", "100.0%*", "", "", "", "", "",
    ]  # fmt: skip
    assert "7 of 11 columns shown to fit the page; 4 hidden (6, 7, 8, 9)." in caption(styler)


def test_numbers_align_right_and_text_left():
    html = style(segment_summary()).to_html()
    right = set(re.findall(r"td\.col(\d+) \{\s*text-align: right", html))
    # segment (col0) is text; customers ... mean_monetary (col1-col7) are numbers
    assert right == {str(i) for i in range(1, 8)}


# --- a campaign report's frames ----------------------------------------------------------------


def test_campaign_effects_put_each_interval_beside_its_value():
    from tests.analytics.test_campaigns_display import hand_effects

    effects = hand_effects()
    before = effects.copy()
    styler = style(effects)
    # Written by hand: 0.087143 -> +8.7 points, 0.052371 .. 0.121921 -> +5.2 to +12.2 points;
    # relative 0.833635 (0.429832 .. 1.351476) -> +83% (+43% to +135%); p 1e-6 -> < 0.001.
    assert cells(styler)[:5] == [
        "19.2%", "10.5%", "+8.7 points (+5.2 to +12.2 points)", "+83% (+43% to +135%)", "< 0.001",
    ]  # fmt: skip
    assert cells(styler)[5:10] == [
        "0.21", "0.11", "+0.10 (+0.06 to +0.14)", "+84% (+44% to +142%)", "0.012",
    ]  # fmt: skip
    assert cells(styler)[10:13] == ["৳ 811.25", "৳ 390.63", "+৳ 421 (৳ 191 to ৳ 637)"]
    assert cells(styler)[15:18] == ["৳ 643,320", "৳ 309,767", "+৳ 333,553 (৳ 151,838 to ৳ 505,210)"]
    html = styler.to_html()
    assert ">incremental revenue<" in html and "difference (95% interval)" in html
    assert "Newcombe" not in "".join(cells(styler))  # the methods are a note, not a column
    assert "Methods. Conversion: Newcombe hybrid score interval" in caption(styler)
    assert "Orders per person, revenue per person: percentile bootstrap" in caption(styler)
    pd.testing.assert_frame_equal(effects, before)  # the report's frame stays numeric


def test_campaign_effects_negative_and_missing():
    from tests.analytics.test_campaigns_display import hand_effects

    effects = hand_effects().loc[["conversion", "revenue_per_person"]]
    effects.loc["conversion", ["difference", "low", "high"]] = [-0.015, -0.04, 0.01]
    effects.loc["revenue_per_person", ["low", "relative", "relative_low", "p_value"]] = [
        -50.0, math.nan, math.nan, 0.43,
    ]  # fmt: skip
    rows = text_table(effects).splitlines()
    assert "-1.5 points (-4.0 to +1.0 points)" in rows[1]
    revenue = rows[2]
    assert "+৳ 421 (-৳ 50 to ৳ 637)" in revenue and revenue.endswith("0.430")
    assert "%" not in revenue.split("৳ 637)")[1]  # no relative lift without the held-out base


def test_campaign_groups_show_people_buyers_and_each_interval():
    from tests.analytics.test_campaigns_display import hand_groups

    styler = style(hand_groups())
    # 152 / 793 = 19.2%, Wilson 0.165793 .. 0.220534 -> 16.6% to 22.1%; 811.248 per person,
    # bootstrap 640.6 .. 990.9 -> ৳ 641 to ৳ 991.
    assert cells(styler)[:6] == [
        "793",
        "152",
        "19.2%",
        "16.6% to 22.1%",
        "৳ 811.25",
        "৳ 641 to ৳ 991",
    ]
    html = styler.to_html()
    assert ">targeted<" in html and ">held out<" in html
    assert "Wilson for conversion" in caption(styler)
    assert "0.191677" not in html and "columns shown" not in caption(styler)  # all fit


def test_text_from_the_store_is_escaped_in_html():
    # A name a customer typed must show as text, never run as markup on a report page.
    frame = pd.DataFrame(
        {"<i>name</i>": ["<script>alert(1)</script>", "A & B"], "revenue": [1000.0, 2.0]},
        index=pd.Index(["<b>x</b>", "y"], name="who"),
    )
    page = sa.style(frame).to_html()
    assert "<script>" not in page and "<b>x" not in page and "<i>name" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "A &amp; B" in page


# --- cash-on-delivery risk's frames ------------------------------------------------------------


def test_risk_people_read_as_percentages_counts_and_taka():
    from tests.analytics.test_delivery_risk import hand_risk

    people = hand_risk().people
    styler = style(people)
    # Person 7: 2 of 5 failed, risk 0.3 in 0.12 .. 0.5 (80% interval), twice ৳ 120 lost.
    # Person 12: no address (blank city and area), 1234 COD orders, no upper end: blank interval.
    assert cells(styler) == [
        "7", "Dhaka", "Mirpur", "6", "2 of 5", "30.0%", "12.0% to 50.0%", "৳ 240",
        "12", "", "", "1,234", "0 of 5", "10.0%", "", "৳ 0",
    ]  # fmt: skip
    page = styler.to_html()
    assert ">80% interval<" in page and ">failed of settled<" in page
    assert "nan" not in page.lower() and "0.3<" not in page
    said = caption(styler)
    assert "Blank city and area: no address" in said and "80% credible interval" in said
    assert "Not shown, to fit the page: delivered, refused, cancelled_after_confirmation" in said
    assert people["risk"].tolist() == [0.3, 0.1]  # the frame itself stays numeric


def test_risk_areas_fit_the_page_and_the_full_frame_goes_beside_it(tmp_path, monkeypatch):
    from tests.analytics.test_delivery_risk import hand_risk

    monkeypatch.setenv(TABLES_ENV, str(tmp_path))
    areas = hand_risk().areas
    styler = style(areas)
    assert cells(styler) == [
        "Dhaka", "Mirpur", "1,234", "6", "2 of 5", "30.0%", "12.0% to 50.0%", "৳ 240"
    ]  # fmt: skip
    assert len(re.findall(r"<th[^>]*col_heading", styler.to_html())) == tables.MAX_COLUMNS == 8
    assert "no address" not in caption(styler)  # every area has one
    link = '<a href="tables/delivery_risk_areas.csv">'
    assert link in caption(styler)
    back = pd.read_csv(tmp_path / "delivery_risk_areas.csv")
    assert list(back.columns) == list(areas.columns) and back["risk_low"].tolist() == [0.12]
    assert "person" not in text_table(areas) and "1,234" in text_table(areas)
