"""Acquisition cohorts: retention, revenue, orders and lifetime value by calendar period.

A cohort is the set of customers whose first valid order (or signup) falls in one calendar
period (month, ISO week starting Monday, or quarter) of Asia/Dhaka time. Offset ``k`` is the
``k``-th calendar period after the cohort's own period, not "k times 30 days".
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Literal, get_args

import numpy as np
import pandas as pd

from selorax_analytics.analytics._frames import (
    Purchases,
    check_columns,
    check_option,
    day_to_date,
    group_min,
    local_days,
    purchases,
    utc_micros,
)
from selorax_analytics.exceptions import DataError

Period = Literal["M", "W", "Q"]
CohortBy = Literal["first_order", "signup"]
CohortMetric = Literal["customers", "revenue", "orders", "ltv"]

#: The size column that every cohort table carries before its offset columns.
SIZE_COLUMN = "cohort_size"


def period_ordinals(days: np.ndarray, period: str) -> np.ndarray:
    """pandas ``Period`` ordinals of day numbers (days since 1970-01-01)."""
    if period == "W":
        # pandas "W" periods run Monday to Sunday; 1970-01-01 was a Thursday in week 1.
        return (days + 3) // 7 + 1
    months = days.astype("datetime64[D]").astype("datetime64[M]").astype("int64")
    return months // 3 if period == "Q" else months


def _period_index(ordinals: np.ndarray, period: str) -> pd.PeriodIndex:
    index = pd.PeriodIndex.from_ordinals(ordinals, freq=period)  # type: ignore[attr-defined]
    return index.rename("cohort")


def cohort_table(
    orders: pd.DataFrame,
    *,
    as_of: object,
    period: Period = "M",
    by: CohortBy = "first_order",
    metric: CohortMetric = "customers",
    customers: pd.DataFrame | None = None,
    valid_statuses: Collection[str] | None = None,
) -> pd.DataFrame:
    """One row per acquisition cohort, one column per calendar-period offset.

    Parameters
    ----------
    orders
        Orders frame with ``user_id``, ``order_status``, ``grand_total`` and ``created_at``.
    as_of
        Last day of the analysis, inclusive (Asia/Dhaka calendar day); later orders are ignored.
    period
        ``"M"`` month, ``"W"`` week (Monday to Sunday) or ``"Q"`` quarter.
    by
        ``"first_order"``: the period of each customer's first valid order. ``"signup"``: the
        period of the customer's ``created_at`` (needs ``customers``); every customer signed up
        by ``as_of`` counts, buyers or not, and orders before the signup period are left out.
    metric
        ``"customers"``: share of the cohort with a valid order in the period (offset 0 is 1.0
        for first-order cohorts). ``"revenue"``: revenue relative to offset 0 (NaN when offset 0
        has none). ``"orders"``: number of valid orders. ``"ltv"``: cumulative revenue per
        cohort customer.
    customers
        Customers frame (``user_id``, ``created_at``), needed for ``by="signup"``.
    valid_statuses
        Statuses that count as purchases; ``None``: all but cancelled, returned and failed.

    Returns
    -------
    DataFrame
        Index: the cohorts as a ``PeriodIndex`` named ``cohort`` (periods with at least one
        customer). Columns: ``cohort_size`` (customers in the cohort), then integer offsets
        ``0, 1, ...`` up to the period holding ``as_of``. Cells after ``as_of`` are NaN. The
        period holding ``as_of`` is partial unless ``as_of`` is its last day:
        ``table.attrs["partial_period"]`` names it (``None`` when complete), and
        ``attrs`` also records ``period``, ``by``, ``metric`` and ``as_of``.

    Raises
    ------
    DataError
        Missing columns, an unknown ``period``, ``by`` or ``metric``, ``by="signup"`` without
        ``customers``, an unusable ``as_of`` or one before every valid order.

    Examples
    --------
    >>> cohort_table(orders, as_of="2026-07-01", metric="customers")  # doctest: +SKIP
    """
    check_option(period, get_args(Period), name="period")
    check_option(by, get_args(CohortBy), name="by")
    check_option(metric, get_args(CohortMetric), name="metric")
    if by == "signup" and customers is None:
        raise DataError('`by="signup"` needs the `customers` frame (user_id, created_at).')
    bought, day = purchases(orders, as_of=as_of, valid_statuses=valid_statuses)
    order_period = period_ordinals(bought.day, period)
    end = int(period_ordinals(np.array([day]), period)[0])
    if by == "first_order":
        cohort_of = group_min(bought.code, order_period, bought.n_customers)
        code = bought.code
    else:
        assert customers is not None
        cohort_of, code, order_period = _signup_cohorts(
            customers, bought, order_period, day, period
        )
    table = _table(cohort_of, code, order_period, bought.amount, end, metric)
    table.index = _period_index(table.index.to_numpy(), period)
    next_day = day_to_date(day + 1)
    partial = pd.Period(day_to_date(day), freq=period)
    table.attrs = {
        "period": period,
        "by": by,
        "metric": metric,
        "as_of": str(day_to_date(day).date()),
        "partial_period": None if pd.Period(next_day, freq=period) != partial else str(partial),
    }
    return table


def _signup_cohorts(
    customers: pd.DataFrame,
    bought: Purchases,
    order_period: np.ndarray,
    day: int,
    period: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cohort per customer record from ``created_at``; orders mapped onto those records."""
    check_columns(customers, ["user_id", "created_at"], name="customers")
    known = customers["user_id"].notna().to_numpy(copy=True)
    micros, aware = utc_micros(customers["created_at"], name="created_at")
    signup_day = local_days(micros, aware)
    known &= ~np.isnat(micros.view("datetime64[us]")) & (signup_day <= day)
    ids = pd.Index(customers["user_id"].array[known])
    cohort_of = period_ordinals(signup_day[known], period)
    position = ids.get_indexer(bought.customers)
    record = position[bought.code]
    keep = record >= 0
    keep &= order_period >= cohort_of[np.where(keep, record, 0)]
    return cohort_of, record[keep], order_period[keep]


def _table(
    cohort_of: np.ndarray,
    code: np.ndarray,
    order_period: np.ndarray,
    amount: np.ndarray,
    end: int,
    metric: str,
) -> pd.DataFrame:
    if len(cohort_of) == 0:
        return pd.DataFrame(
            {SIZE_COLUMN: pd.Series(dtype="int64")}, index=pd.Index(np.zeros(0, "int64"))
        )
    cohorts, row_of, size = np.unique(cohort_of, return_inverse=True, return_counts=True)
    width = end - int(cohorts[0]) + 1
    offset = order_period - cohort_of[code]
    cell = row_of[code] * width + offset
    n_cells = len(cohorts) * width
    if metric == "customers":
        unique_cells = pd.unique(code * width + offset)
        per_cell = np.bincount(
            row_of[unique_cells // width] * width + unique_cells % width, minlength=n_cells
        )
        values = per_cell.reshape(-1, width) / size[:, None]
    elif metric == "orders":
        values = np.bincount(cell, minlength=n_cells).reshape(-1, width).astype("float64")
    else:
        revenue = np.bincount(cell, weights=amount, minlength=n_cells).reshape(-1, width)
        if metric == "ltv":
            values = np.cumsum(revenue, axis=1) / size[:, None]
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                values = np.where(revenue[:, :1] > 0, revenue / revenue[:, :1], np.nan)
    after = cohorts[:, None] + np.arange(width)[None, :] > end
    values = np.where(after, np.nan, values)
    table = pd.DataFrame(values, index=pd.Index(cohorts), columns=list(range(width)))
    table.insert(0, SIZE_COLUMN, size.astype("int64"))
    return table
