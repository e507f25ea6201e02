"""The report's index: headline figures, revenue by month, reach per channel, the page itself.

Figures are checked against plain SQL over the demo store's orders (SQLite, Dhaka day = UTC + 6
hours) and reach against rules written here; the page is built from frames, not a whole report.
"""

from __future__ import annotations

import base64
import re
from html import unescape

import pandas as pd
import pytest

import selorax_analytics as sa
from selorax_analytics.exceptions import DataError
from selorax_analytics.report import _index, _summary
from selorax_analytics.report._pages import index_page
from selorax_analytics.sandbox import DEMO_AS_OF


def _one(demo_db, sql: str, *args: object) -> float:
    return demo_db.execute(sql, args).fetchone()[0]


@pytest.mark.parametrize("as_of", [DEMO_AS_OF, "2026-03-15"])
def test_headline_figures_agree_with_sql(demo_db, demo_frames, as_of):
    customers, orders = demo_frames
    rfm = sa.rfm_segments(orders, as_of=as_of)
    head = _summary.headline_figures(customers, orders, rfm, as_of=as_of)

    window = "SELECT COALESCE(SUM(total), 0), COUNT(*) FROM v WHERE day BETWEEN date(?, ?) AND date(?, ?)"
    last, n_last = demo_db.execute(window, (as_of, "-29 days", as_of, "0 days")).fetchone()
    before, n_before = demo_db.execute(window, (as_of, "-59 days", as_of, "-30 days")).fetchone()
    per_buyer = (
        "SELECT v.user_id, COUNT(*) AS n, MAX(day) AS last, MAX(c.guest) AS guest "
        "FROM v JOIN c ON c.user_id = v.user_id WHERE day <= ? GROUP BY v.user_id"
    )
    buyers = _one(demo_db, f"SELECT COUNT(*) FROM ({per_buyer})", as_of)
    repeat = _one(demo_db, f"SELECT COUNT(*) FROM ({per_buyer}) WHERE n >= 2", as_of)
    guests = _one(demo_db, f"SELECT SUM(guest) FROM ({per_buyer})", as_of)
    active = _one(
        demo_db,
        f"SELECT COUNT(*) FROM ({per_buyer}) WHERE last >= date(?, '-89 days')",
        as_of,
        as_of,
    )

    assert head["customers"] == _one(demo_db, "SELECT COUNT(*) FROM c") == len(customers)
    assert head["buyers"] == buyers
    assert head["revenue_last_30_days"] == pytest.approx(last, abs=0.01)
    assert head["orders_last_30_days"] == n_last > 0
    assert head["revenue_previous_30_days"] == pytest.approx(before, abs=0.01)
    assert head["orders_previous_30_days"] == n_before > 0
    assert head["revenue_change"] == pytest.approx(last / before - 1)
    assert head["repeat_rate"] == pytest.approx(repeat / buyers)
    assert head["guest_share"] == pytest.approx(guests / buyers)
    assert head["active_customers"] == active and head["active_days"] == 90


def test_headline_figures_of_a_tiny_store_by_hand():
    orders = pd.DataFrame(
        {
            "user_id": pd.array([1, 1, 2, 2, 3], dtype="Int64"),
            "order_status": ["delivered", "delivered", "cancelled", "delivered", "delivered"],
            "created_at": pd.to_datetime(
                [
                    "2026-06-30 10:00",  # Dhaka 16:00, 30 June
                    "2026-06-20 10:00",
                    "2026-06-25 10:00",  # cancelled: not counted
                    "2026-03-01 10:00",  # 121 days before 30 June: not active
                    "2026-06-30 20:00",  # Dhaka 02:00 on 1 July: after the as-of day
                ],
                utc=True,
            ).as_unit("us"),
            "grand_total": [100.0, 200.0, 500.0, 50.0, 70.0],
        }
    )
    customers = pd.DataFrame(
        {"user_id": pd.array([1, 2, 3, 4], dtype="Int64"), "is_guest": [False, True, False, True]}
    )
    rfm = sa.rfm_segments(orders, as_of="2026-06-30")
    head = _summary.headline_figures(customers, orders, rfm, as_of="2026-06-30")
    # last 30 days (1-30 June): 100 + 200 in 2 orders; the 30 before (2-31 May): nothing.
    # buyers 1 and 2; 1 ordered twice (repeat 1/2); 2 is a guest (1/2); only 1 ordered lately.
    assert head == {
        "customers": 4,
        "buyers": 2,
        "revenue_last_30_days": 300.0,
        "orders_last_30_days": 2,
        "revenue_previous_30_days": 0.0,
        "orders_previous_30_days": 0,
        "revenue_change": None,
        "repeat_rate": 0.5,
        "guest_share": 0.5,
        "active_customers": 1,
        "active_days": 90,
    }
    shown = " ".join(_text(_index._headline(head)).split())
    assert "৳ 300 2 orders; no revenue in the 30 days before" in shown
    assert "repeat rate 50.0%" in shown and "active customers 1 " in shown
    assert "None" not in shown and "nan" not in shown
    months = _summary.monthly_revenue(orders, as_of="2026-06-30")
    assert months == {
        "months": {"2026-03": 50.0, "2026-04": 0.0, "2026-05": 0.0, "2026-06": 300.0},
        "partial_month": None,  # 30 June closes the month
    }


def test_revenue_by_month_agrees_with_sql_and_marks_the_running_month(demo_db, demo_frames):
    _, orders = demo_frames
    monthly = _summary.monthly_revenue(orders, as_of=DEMO_AS_OF)
    rows = demo_db.execute(
        "SELECT substr(day, 1, 7), SUM(total) FROM v WHERE day <= ? GROUP BY 1 ORDER BY 1",
        (DEMO_AS_OF,),
    ).fetchall()
    expected = dict(rows)
    months = monthly["months"]
    assert next(iter(months)) == rows[0][0] and list(months)[-1] == "2026-07"
    assert {k: v for k, v in months.items() if k in expected} == pytest.approx(expected, abs=0.01)
    assert all(v == 0 for k, v in months.items() if k not in expected)  # months without orders
    assert monthly["partial_month"] == "2026-07"  # 1 July: the month has only begun
    assert _summary.monthly_revenue(orders, as_of="2026-06-30")["partial_month"] is None


# --- reach: hand-built records, counted by hand ------------------------------------------------


def _records(rows: list[tuple]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(customers, rfm)`` from ``(user_id, phone, email, is_guest, segment, last order day)``."""
    customers = pd.DataFrame(
        {
            "user_id": pd.array([r[0] for r in rows], dtype="Int64"),
            "name": pd.array([f"Person {r[0]}" for r in rows], dtype="str"),
            "email": pd.array([r[2] for r in rows], dtype="str"),
            "phone": pd.array([r[1] for r in rows], dtype="str"),
            "city": pd.array(["Dhaka"] * len(rows), dtype="str"),
            "is_guest": [r[3] for r in rows],
            "updated_at": pd.to_datetime(["2026-01-01"] * len(rows), utc=True).as_unit("us"),
        }
    )
    segments = ["Champions", "At Risk", "Hibernating"]
    rfm = pd.DataFrame(
        {
            "user_id": customers["user_id"],
            "last_order_at": pd.to_datetime([r[5] for r in rows], utc=True).as_unit("us"),
            "recency_days": [10] * len(rows),
            "frequency": [1] * len(rows),
            "monetary": [100.0] * len(rows),
            "segment": pd.Categorical([r[4] for r in rows], categories=segments),
        }
    )
    return customers, rfm


def test_reach_counts_people_and_the_contacts_each_channel_can_use():
    customers, rfm = _records(
        [
            (1, "01712345678", "a@shop.com.bd", False, "Champions", "2026-06-01"),
            (2, "+880 1712-345678", None, True, "Champions", "2026-05-01"),  # 1's phone: 1 person
            (3, "0171234", "bad@", False, "At Risk", "2026-01-01"),  # nothing usable
            (4, "029876543", None, False, "At Risk", "2026-01-01"),  # a Dhaka landline
            (5, "+14155552671", " B@Example.ORG ", False, "At Risk", "2026-01-01"),  # US phone
            (6, None, "c@example.com", True, "At Risk", "2026-01-01"),
            (7, "01812345678", "c@EXAMPLE.com", False, "At Risk", "2025-12-01"),  # 6's e-mail
        ]
    )
    reach = _summary.segment_reach(rfm, customers).set_index("segment")
    # Champions: records 1+2 are one person, with a mobile and an e-mail.
    # At Risk: 3, 4, 5 and 6+7 are four people; SMS: 6+7 (7's mobile); e-mail: 5 and 6+7;
    # Meta/Google: 4 (landline), 5 (US phone, e-mail), 6+7 -- not 3.
    assert reach.to_dict(orient="index") == {
        "Champions": {"people": 1, "sms": 1, "email": 1, "meta": 1, "google": 1},
        "At Risk": {"people": 4, "sms": 1, "email": 2, "meta": 3, "google": 3},
    }  # Hibernating holds nobody: no row


def _independent_reach(customers: pd.DataFrame, rfm: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Reach by simple rules: union records sharing a mobile's last 10 digits or an e-mail."""
    digits = customers["phone"].fillna("").str.replace(r"\D", "", regex=True)
    mobile = digits.str.extract(r"^(?:00)?(?:880|0)?(1[3-9]\d{8})$", expand=False)
    email = customers["email"].fillna("").str.strip().str.lower()
    email = email.where(email.str.fullmatch(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+"))
    parent = {u: u for u in customers["user_id"].astype(int)}

    def root(u: int) -> int:
        while parent[u] != u:
            parent[u] = parent[parent[u]]
            u = parent[u]
        return u

    for key in (mobile, email):
        for _, users in customers["user_id"].astype(int).groupby(key.to_numpy()):
            first = root(int(users.iloc[0]))
            for u in users.iloc[1:]:
                parent[root(int(u))] = first
    person = customers["user_id"].astype(int).map(root)
    frame = pd.DataFrame(
        {"person": person, "mobile": mobile.notna(), "email": email.notna(), "other": digits != ""}
    ).set_index(customers["user_id"].astype(int))
    bought = rfm.assign(user_id=rfm["user_id"].astype(int)).join(frame, on="user_id")
    latest = bought.sort_values("last_order_at").groupby("person")["segment"].last()
    contacts = frame.groupby("person")[["mobile", "email"]].any()
    out: dict[str, dict[str, int]] = {}
    for segment, people in latest.groupby(latest.astype(str)):
        has = contacts.loc[people.index]
        out[str(segment)] = {
            "people": len(people),
            "sms": int(has["mobile"].sum()),
            "email": int(has["email"].sum()),
        }
    return out


def test_reach_on_the_demo_store_agrees_with_simple_rules(demo_frames):
    customers, orders = demo_frames
    rfm = sa.rfm_segments(orders, as_of=DEMO_AS_OF)
    reach = _summary.segment_reach(rfm, customers).set_index("segment")
    expected = _independent_reach(customers, rfm)
    assert reach[["people", "sms", "email"]].to_dict(orient="index") == expected
    # fewer people than records: guest and account records of one person merged
    counts = rfm["segment"].value_counts()
    assert (reach["people"] <= counts.reindex(reach.index)).all()
    assert reach["people"].sum() < len(rfm)
    # every demo phone is a Bangladeshi mobile, so Meta and Google reach everyone with a contact
    assert (reach["meta"] == reach["google"]).all() and (reach["meta"] >= reach["sms"]).all()


def test_reach_equals_the_rows_of_the_export_files(demo_frames, tmp_path):
    customers, orders = demo_frames
    rfm = sa.rfm_segments(orders, as_of=DEMO_AS_OF)
    reach = _summary.segment_reach(rfm, customers).set_index("segment")
    for channel, fmt in _summary.CHANNELS.items():
        written = sa.export_segments(rfm, tmp_path / fmt, customers=customers, format=fmt)
        assert {s: r.rows for s, r in written.items()} == reach[channel].to_dict(), channel


# --- the page ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def summary(demo_frames):
    customers, orders = demo_frames
    rfm = sa.rfm_segments(orders, as_of=DEMO_AS_OF)
    summary = _summary.store_summary(customers, orders, rfm, as_of=DEMO_AS_OF)
    summary["package_version"] = sa.__version__
    summary["store"] = "demo store"
    summary["notebooks"] = [
        {"notebook": "01_quickstart.ipynb", "title": "Quickstart", "html": "01_quickstart.html"}
    ]
    summary["exports"] = {
        "sms": {"Champions": {"file": "exports/sms/champions.sms.csv", "rows": 73, "skipped": 0}}
    }
    return summary


@pytest.fixture(scope="module")
def page(summary):
    return index_page(summary)


def _text(html: str) -> str:
    """What a reader sees: no style, no tags, no embedded images."""
    html = re.sub(r"<style>.*?</style>", "", html, flags=re.S)
    html = re.sub(r'src="data:[^"]*"', "", html)
    return unescape(re.sub(r"<[^>]+>", " ", html))


def test_the_index_embeds_both_charts_as_png(page):
    images = re.findall(
        r'<img class="chart" alt="([^"]+)" src="data:image/png;base64,([^"]+)"', page
    )
    assert [alt.split(" ")[0] for alt, _ in images] == ["Revenue", "Share"]
    for _, data in images:
        assert base64.b64decode(data).startswith(b"\x89PNG\r\n\x1a\n")
    assert not re.search(r"<script|(src|href)=[\"']https?://", page)


def test_the_index_shows_headline_figures_as_the_display_rules_say(page, summary):
    head = summary["headline"]
    text = " ".join(_text(page).split())
    # the demo store (figures checked against SQL above): ৳ whole taka, % with one decimal
    assert f"revenue, last 30 days ৳ {round(head['revenue_last_30_days']):,}" in text
    assert f"repeat rate {head['repeat_rate'] * 100:.1f}%" in text
    assert (
        f"active customers {head['active_customers']:,} buyers who ordered in the last 90 days"
        in text
    )
    assert f"customers {head['customers']:,} customer records" in text
    assert re.search(r"Champions : thank them, ask for reviews", text)
    assert re.search(r"At Risk : a win-back SMS", text)
    assert "Why the counts differ" in text and "merged into persons" in text


def test_every_number_on_the_index_follows_the_display_rules(page):
    text = _text(page)
    assert not re.search(r"\bnan\b|\bNaN\b|\bNone\b|\binf\b", text)
    assert not re.findall(r"(?<![\d.])0\.\d+(?![\d%]|\.\d)", text)  # no bare fraction such as 0.21
    assert not re.findall(r"\d\.\d{2,}%", text)  # percentages with one decimal
    assert not re.findall(r"\d{5,}", text.replace("selorax", ""))  # thousands separated
    assert "৳ " in text and "৳" not in re.sub(r"৳ \d{1,3}(,\d{3})*", "", text)  # whole taka


def test_the_segment_table_shows_people_and_reach_per_channel(page, summary, demo_db):
    table = re.search(r"<table><tr><th>segment</th>(.*?)</table>", page, re.S).group(1)
    heads = re.findall(r"<th>([^<]*)</th>", table)
    assert heads == ["buyers (records)", "share", "revenue", "revenue share", "people",
                     "SMS", "e-mail", "Meta", "Google"]  # fmt: skip
    hib = summary["reach"]["segments"]["Hibernating"]
    row = re.search(r"<tr><td>Hibernating</td>(.*?)</tr>", table).group(1)
    cells = re.findall(r"<td>([^<]*)</td>", row)
    assert cells[0] == f"{summary['segments']['Hibernating']['customers']:,}"
    assert cells[4:] == [f"{hib[c]:,}" for c in ("people", "sms", "email", "meta", "google")]
    # The total row: every buyer record with a valid order up to the as-of day, counted in SQL.
    buyers = _one(demo_db, "SELECT COUNT(DISTINCT user_id) FROM v WHERE day <= ?", DEMO_AS_OF)
    total = f'<tr class="total"><td>all</td><td>{buyers:,}</td><td>100.0%</td>'
    assert total in table


def test_the_charts_refuse_nothing_to_plot():
    from selorax_analytics.presentation.summary_plots import (
        plot_monthly_revenue,
        plot_segment_shares,
    )

    with pytest.raises(DataError, match="no months"):
        plot_monthly_revenue({})
    empty = pd.DataFrame(
        {"segment": ["A"], "customers": [0], "customer_share": [0.0], "revenue_share": [0.0]}
    )
    with pytest.raises(DataError, match="no segment with customers"):
        plot_segment_shares(empty)
    with pytest.raises(DataError, match="lacks the column"):
        plot_segment_shares(empty.drop(columns="revenue_share"))
