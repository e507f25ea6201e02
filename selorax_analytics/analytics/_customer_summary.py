"""The per-customer summary the buy-till-you-die models (BG/NBD, Gamma-Gamma) take as input.

Repeat frequency, recency, age ``T`` and mean repeat spend per customer, from the same valid
purchases as :func:`~selorax_analytics.rfm_segments`; also imported from
:mod:`~selorax_analytics.analytics.rfm`.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Literal, get_args

import numpy as np
import pandas as pd

from selorax_analytics.analytics._frames import check_option, group_max, group_min, purchases

Frequency = Literal["D", "W"]
_UNIT_DAYS = {"D": 1.0, "W": 7.0}


def customer_summary(
    orders: pd.DataFrame,
    *,
    as_of: object,
    freq: Frequency = "D",
    customer: str = "user_id",
    datetime: str = "created_at",
    monetary: str = "grand_total",
    status: str | None = "order_status",
    valid_statuses: Collection[str] | None = None,
) -> pd.DataFrame:
    """Repeat frequency, recency, age and mean repeat spend: the BG/NBD and Gamma-Gamma input.

    Purchases on the same calendar day are merged into one (amounts summed). Per customer,
    ``frequency`` is the number of purchase days after the first, ``recency`` the time from the
    first to the last purchase day, ``T`` the time from the first purchase day to the ``as_of``
    day, and ``monetary_value`` the mean amount of the repeat purchase days (0 without repeats).

    Parameters
    ----------
    orders
        One row per order or transaction.
    as_of
        End of the observation (calibration) period, inclusive: a date string, date or
        Timestamp. Days are Asia/Dhaka calendar days for time-zone aware datetimes and the
        wall-clock date for naive ones.
    freq
        Time unit of ``recency`` and ``T``: ``"D"`` days or ``"W"`` weeks, where a week is
        exactly 7 days (``days / 7``, as in the CDNOW literature).
    customer, datetime, monetary
        Column names of the customer id, the purchase time and the amount.
    status
        Order status column, or ``None`` to treat every row as a purchase.
    valid_statuses
        Statuses that count as purchases; ``None``: all but cancelled, returned and failed.

    Returns
    -------
    DataFrame
        Indexed by the customer id (named like ``customer``), sorted, with float columns
        ``frequency``, ``recency``, ``T`` and ``monetary_value``. Customers whose first
        purchase comes after ``as_of`` are left out.

    Raises
    ------
    DataError
        Missing columns, an unknown ``freq``, an unusable ``as_of`` or one before every purchase.

    Examples
    --------
    >>> cdnow = customer_summary(tx, as_of="1997-09-30", freq="W", customer="new_id",
    ...                          datetime="date", monetary="amount", status=None)  # doctest: +SKIP
    """
    check_option(freq, get_args(Frequency), name="freq")
    bought, day = purchases(
        orders,
        as_of=as_of,
        valid_statuses=valid_statuses,
        customer=customer,
        datetime=datetime,
        monetary=monetary,
        status=status,
    )
    n = bought.n_customers
    # One purchase per customer and day.
    start = int(bought.day.min()) if n else 0
    relative = bought.day - start
    span = int(relative.max()) + 1 if n else 1
    days_key, inverse = np.unique(bought.code * span + relative, return_inverse=True)
    daily_amount = np.bincount(inverse, weights=bought.amount, minlength=len(days_key))
    daily_code, daily_day = days_key // span, days_key % span + start
    first = group_min(daily_code, daily_day, n)
    last = group_max(daily_code, daily_day, n)
    count = np.bincount(daily_code, minlength=n)
    first_amount = np.zeros(n)
    is_first = daily_day == first[daily_code]
    first_amount[daily_code[is_first]] = daily_amount[is_first]
    total = np.bincount(daily_code, weights=daily_amount, minlength=n)
    repeats = count - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_repeat = np.where(repeats > 0, (total - first_amount) / repeats, 0.0)
    unit = _UNIT_DAYS[freq]
    out = pd.DataFrame(
        {
            "frequency": repeats.astype("float64"),
            "recency": (last - first) / unit,
            "T": (day - first) / unit,
            "monetary_value": mean_repeat,
        },
        index=bought.customers,
    )
    return out.sort_index()
