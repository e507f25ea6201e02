"""Validation of the per-customer summaries the CLV models take (``customer_summary`` output)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from selorax_analytics.exceptions import DataError


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
