"""Per-customer purchase summaries for the CLV models, and their validation.

A purchase is a calendar day (Asia/Dhaka) with at least one valid order: orders in
:data:`INVALID_STATUSES` do not count, and same-day orders merge into one purchase whose amount is
their ``grand_total`` sum, as in the CDNOW literature. Times are in days.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from selorax_analytics.exceptions import DataError

LOCAL_TZ = "Asia/Dhaka"
#: Order statuses that are not purchases (the same rule as the RFM tables).
INVALID_STATUSES = ("cancelled", "returned", "failed")
_ORDER_COLUMNS = ("user_id", "order_status", "grand_total", "created_at")
_DAY_SECONDS = 86_400.0


def local_time(value: object, name: str) -> pd.Timestamp:
    """A date or time as naive Asia/Dhaka wall time (naive input is taken as Dhaka time)."""
    try:
        stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise DataError(
            f"`{name}` must be a date or time such as '2026-07-01', got {value!r}."
        ) from exc
    if stamp is pd.NaT:
        raise DataError(f"`{name}` must be a date or time such as '2026-07-01', got {value!r}.")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert(LOCAL_TZ).tz_localize(None)
    return stamp


def customer_days(
    orders: pd.DataFrame, *, start: pd.Timestamp | None, end: pd.Timestamp
) -> pd.DataFrame:
    """Valid purchases per customer and Dhaka day in ``[start, end)``: user_id, day, amount."""
    missing = [c for c in _ORDER_COLUMNS if c not in orders]
    if missing:
        raise DataError(
            f"`orders` lacks the column(s) {missing}; pass the frame `load_orders` returns "
            f"(it needs {list(_ORDER_COLUMNS)})."
        )
    created = orders["created_at"]
    if not isinstance(created.dtype, pd.DatetimeTZDtype):
        raise DataError(
            f"`orders.created_at` must be timezone-aware datetimes (UTC), got {created.dtype}."
        )
    local = created.dt.tz_convert(LOCAL_TZ).dt.tz_localize(None)
    keep = ~orders["order_status"].astype("str").isin(INVALID_STATUSES).to_numpy()
    keep &= orders["user_id"].notna().to_numpy() & (local < end).to_numpy()
    if start is not None:
        keep &= (local >= start).to_numpy()
    amount = orders["grand_total"].to_numpy(float)
    if np.any(~np.isfinite(amount[keep])) or np.any(amount[keep] < 0):
        raise DataError(
            "`orders.grand_total` has missing or negative amounts among valid orders; "
            "fix or drop those orders first."
        )
    frame = pd.DataFrame(
        {
            "user_id": orders["user_id"].to_numpy()[keep],
            "day": local.dt.normalize().to_numpy()[keep],
            "amount": amount[keep],
        }
    )
    return frame.groupby(["user_id", "day"], as_index=False, sort=True).agg(
        amount=("amount", "sum")
    )


def summary_from_days(days: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """``user_id, frequency, recency, T, monetary_value`` (days, mean repeat purchase amount)."""
    if days.empty:
        raise DataError(
            f"There are no valid orders before `as_of` = {as_of}; pick a later date or check "
            "the order statuses."
        )
    grouped = days.groupby("user_id", sort=True)
    first = grouped["day"].min()
    count = grouped.size()
    repeat_total = grouped["amount"].sum() - grouped["amount"].first()
    frequency = (count - 1).astype("int64")
    summary = pd.DataFrame(
        {
            "frequency": frequency,
            "recency": (grouped["day"].max() - first).dt.total_seconds() / _DAY_SECONDS,
            "T": (as_of - first).dt.total_seconds() / _DAY_SECONDS,
            "monetary_value": (repeat_total / frequency.where(frequency > 0)).fillna(0.0),
        }
    )
    summary.index = summary.index.astype("Int64")
    return summary.rename_axis("user_id").reset_index()


def summary_arrays(summary: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validated ``frequency, recency, T`` as float arrays."""
    missing = [c for c in ("frequency", "recency", "T") if c not in summary]
    if missing:
        raise DataError(
            f"`summary` lacks the column(s) {missing}; it needs `frequency`, `recency` and `T` "
            f"as `customer_summary` returns them, got {list(summary.columns)}."
        )
    if len(summary) == 0:
        raise DataError("`summary` has no rows; there is nobody to fit or score.")
    x, t_x, T = (
        pd.to_numeric(summary[c], errors="coerce").to_numpy(float)
        for c in ("frequency", "recency", "T")
    )
    for name, values in (("frequency", x), ("recency", t_x), ("T", T)):
        bad = ~np.isfinite(values) | (values < 0)
        if bad.any():
            raise DataError(
                f"`{name}` must be a number >= 0, but {int(bad.sum())} row(s) are negative, NaN "
                f"or infinite (first: {values[bad][0]!r}); fix or drop them."
            )
    if np.any(x != np.round(x)):
        raise DataError("`frequency` must count whole repeat purchases; found fractional values.")
    late = t_x > T * (1 + 1e-9)
    if late.any():
        raise DataError(
            f"{int(late.sum())} row(s) have `recency` > `T` (first: recency "
            f"{t_x[late][0]!r}, T {T[late][0]!r}); both count from the first purchase, so the "
            "last purchase cannot come after the end of observation."
        )
    stray = (x == 0) & (t_x != 0)
    if stray.any():
        raise DataError(
            f"{int(stray.sum())} row(s) have `frequency` 0 but `recency` != 0; recency is the "
            "time from the first to the last purchase, so it must be 0 without repeat purchases."
        )
    return x, np.minimum(t_x, T), T


def monetary_array(summary: pd.DataFrame, x: np.ndarray) -> np.ndarray:
    if "monetary_value" not in summary:
        raise DataError(
            "`summary` has no `monetary_value` column (mean spend of the repeat purchases); "
            f"it has {list(summary.columns)}. Build it with `customer_summary`."
        )
    values = pd.to_numeric(summary["monetary_value"], errors="coerce").to_numpy(float)
    bad = (x > 0) & ~np.isfinite(values)
    if bad.any():
        raise DataError(
            f"`monetary_value` is missing or not a number for {int(bad.sum())} customer(s) with "
            "repeat purchases; fill or drop those rows."
        )
    return np.where(x > 0, values, 0.0)
