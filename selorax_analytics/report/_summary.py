"""What the report's index sums up: headline figures, revenue by month, reach per segment.

Every figure is computed from the loaded frames with plain pandas (or the public analytics
functions) and returned as plain JSON numbers; ``index.html`` and ``summary.json`` show the same
values. The rules, stated once:

- a *valid order* has a customer and a status other than cancelled, returned or failed
  (as :func:`selorax_analytics.rfm_segments` counts them), placed on or before the as-of day;
- days are Asia/Dhaka calendar days; "the last 30 days" are the as-of day and the 29 before;
- *buyers* are customer records with a valid order; *active* buyers ordered in the last
  :data:`ACTIVE_DAYS` days; the *repeat rate* is the share of buyers with two valid orders or
  more; the *guest share* is the share of buyers whose record is a guest checkout;
- *reach* counts people, not records: the export code's own contact normalisation
  (:mod:`selorax_analytics.exports._contacts`) merges the records of one person by phone or
  e-mail, and a channel counts the people it can take (the same rule the export files use).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from selorax_analytics.analytics._frames import INVALID_STATUSES, TIMEZONE

#: Buyers who ordered in this many days up to the as-of day (inclusive) are "active".
ACTIVE_DAYS = 90
#: The length of the two revenue windows compared on the index.
WINDOW_DAYS = 30
#: Reach columns: channel -> the export format whose files it counts.
CHANNELS = {"sms": "sms", "email": "mailchimp", "meta": "meta", "google": "google"}


def order_days(orders: pd.DataFrame, as_of: str) -> pd.DataFrame:
    """Valid orders on or before ``as_of``: ``day`` (Dhaka, midnight) and ``grand_total``."""
    status = orders["order_status"].astype("str")
    valid = (
        orders["user_id"].notna() & ~status.isin(INVALID_STATUSES) & orders["order_status"].notna()
    )
    local = orders["created_at"].dt.tz_convert(TIMEZONE).dt.tz_localize(None).dt.normalize()
    frame = pd.DataFrame({"day": local, "grand_total": orders["grand_total"]}).loc[valid]
    return frame.loc[frame["day"] <= pd.Timestamp(as_of)]


def _window_revenue(days: pd.DataFrame, last: pd.Timestamp) -> tuple[float, int]:
    first = last - pd.Timedelta(days=WINDOW_DAYS - 1)
    inside = days.loc[(days["day"] >= first) & (days["day"] <= last), "grand_total"]
    return float(inside.sum()), len(inside)


def headline_figures(
    customers: pd.DataFrame, orders: pd.DataFrame, rfm: pd.DataFrame, *, as_of: str
) -> dict[str, Any]:
    """The index's headline figures (see the module notes for each definition)."""
    day = pd.Timestamp(as_of)
    days = order_days(orders, as_of)
    revenue, n_orders = _window_revenue(days, day)
    before, n_before = _window_revenue(days, day - pd.Timedelta(days=WINDOW_DAYS))
    buyers = len(rfm)
    guests = customers.loc[customers["is_guest"].astype(bool), "user_id"]
    return {
        "customers": len(customers),
        "buyers": buyers,
        "revenue_last_30_days": round(revenue, 2),
        "orders_last_30_days": n_orders,
        "revenue_previous_30_days": round(before, 2),
        "orders_previous_30_days": n_before,
        "revenue_change": (revenue / before - 1) if before else None,
        "repeat_rate": float((rfm["frequency"] >= 2).mean()) if buyers else None,
        "guest_share": float(rfm["user_id"].isin(guests).mean()) if buyers else None,
        "active_customers": int((rfm["recency_days"] < ACTIVE_DAYS).sum()),
        "active_days": ACTIVE_DAYS,
    }


def monthly_revenue(orders: pd.DataFrame, *, as_of: str) -> dict[str, Any]:
    """Revenue of valid orders per Dhaka calendar month up to ``as_of``; the running month named.

    Returns ``{"months": {"2026-06": 123.0, ...}, "partial_month": "2026-07" or None}``: every
    month from the first order's to the as-of day's (months without orders are 0); the as-of
    month is partial unless ``as_of`` is its last day.
    """
    days = order_days(orders, as_of)
    day = pd.Timestamp(as_of)
    if days.empty:
        return {"months": {}, "partial_month": None}
    months = days["day"].dt.to_period("M")
    totals = days.groupby(months)["grand_total"].sum()
    span = pd.period_range(totals.index.min(), day.to_period("M"), freq="M")
    totals = totals.reindex(span, fill_value=0.0)
    partial = None if day.is_month_end else str(day.to_period("M"))
    return {
        "months": {str(k): round(float(v), 2) for k, v in totals.items()},
        "partial_month": partial,
    }


def segment_reach(
    rfm: pd.DataFrame, customers: pd.DataFrame, *, region: str = "BD"
) -> pd.DataFrame:
    """People per segment and how many each channel reaches, as the export files count them.

    Returns
    -------
    DataFrame
        One row per segment present in ``rfm``: ``segment``, ``people`` (records merged into
        people through their phone or e-mail), ``sms`` (a Bangladeshi mobile), ``email`` (a
        valid address), ``meta`` and ``google`` (a phone or an e-mail to hash).
    """
    from selorax_analytics.exports import _contacts

    linked = _contacts.link(rfm, customers, region=region)
    present = set(rfm["segment"].dropna().astype("str"))
    rows = []
    for segment in (s for s in _contacts.segment_names(rfm) if s in present):
        people, _ = _contacts.segment_people(linked, segment)
        phone, email = people["phone"].notna(), people["email"].notna()
        mobile = people["phone_region"].eq("BD") & people["phone"].str.startswith("+8801")
        rows.append(
            {
                "segment": segment,
                "people": len(people),
                "sms": int(mobile.fillna(False).astype(bool).sum()),
                "email": int(email.sum()),
                "meta": int((phone | email).sum()),
                "google": int((phone | email).sum()),
            }
        )
    columns = ["segment", "people", *CHANNELS]
    return pd.DataFrame(rows, columns=columns)


def store_summary(
    customers: pd.DataFrame,
    orders: pd.DataFrame,
    rfm: pd.DataFrame,
    *,
    as_of: str,
    history: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Everything ``summary.json`` holds but the exports and the report's own details.

    ``rfm`` is :func:`selorax_analytics.rfm_segments` of ``orders`` on ``as_of``; ``history``
    the change history for the guest conversion (``None``: from the records alone).
    """
    from selorax_analytics.analytics.cohorts import cohort_table
    from selorax_analytics.analytics.conversion import guest_conversion
    from selorax_analytics.analytics.rfm import segment_summary

    cohorts = cohort_table(orders, as_of=as_of, period="M")
    guests = guest_conversion(customers, orders, as_of=as_of, history=history)
    reach = segment_reach(rfm, customers)
    return {
        "as_of": as_of,
        "customers": len(customers),
        "orders": len(orders),
        "buyers": len(rfm),
        "headline": headline_figures(customers, orders, rfm, as_of=as_of),
        "revenue_by_month": monthly_revenue(orders, as_of=as_of),
        "segments": records(segment_summary(rfm), "segment"),
        "reach": {
            "basis": "people (records merged by phone or e-mail) with a usable contact",
            "channels": dict(CHANNELS),
            "segments": records(reach, "segment"),
            "total": {c: int(reach[c].sum()) for c in ["people", *CHANNELS]},
        },
        "cohorts": {
            "period": "M",
            "basis": "first_order",
            "partial_period": cohorts.attrs.get("partial_period"),
            "sizes": {
                str(k): int(v) for k, v in zip(cohorts.index, cohorts["cohort_size"], strict=True)
            },
        },
        "guest_conversion": {
            "window_days": 90,
            "groups": records(guests.groups, "group"),
            "funnel": records(guests.funnel, "stage"),
        },
    }


def records(frame: pd.DataFrame, key: str) -> dict[str, dict[str, object]]:
    """``{row[key]: {column: value}}`` with plain JSON numbers (NaN becomes ``None``)."""
    out: dict[str, dict[str, object]] = {}
    for row in frame.to_dict(orient="records"):
        name = str(row.pop(key))
        out[name] = {str(k): plain(v) for k, v in row.items()}
    return out


def plain(value: object) -> object:
    """A JSON number from a numpy or pandas scalar; ``None`` for NaN."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if hasattr(value, "item"):
        return plain(value.item())
    return value
