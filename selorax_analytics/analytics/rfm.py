"""RFM scores and segments.

:func:`customer_summary`, the per-customer input of the buy-till-you-die models, is in
:mod:`~selorax_analytics.analytics._customer_summary` and also imported from here.

Scores: "share of customers beaten"
    A customer's score on a metric is ``1 + floor(5 * b / n)``, where ``n`` is the number of
    scored customers and ``b`` the number of them the customer strictly beats: customers with a
    strictly smaller frequency or monetary value, or a strictly *larger* recency (longer ago).
    Score ``k`` therefore means "better than at least ``(k - 1) * 20 %`` of customers". Equal
    values always get equal scores, the result does not depend on row order, and the lowest
    value always scores 1. Monetary sums are rounded to the paisa before scoring so that float
    summation order cannot split a tie.

Frequency: order counts, not shares
    Most customers of a shop buy once, so under the "share beaten" rule they would all tie at
    F = 1 and a second order would jump straight to F = 4, leaving F = 2 and 3 (and the
    segments built on them) empty however the ties are broken. Frequency is therefore scored
    on fixed order counts, :data:`DEFAULT_FREQUENCY_BINS`: 1 order is F = 1, 2 orders F = 2,
    3 orders F = 3, 4 or 5 orders F = 4, 6 or more F = 5. A score then means the same thing in
    every store and every month, equal counts get equal scores, and row order cannot matter.
    ``frequency_bins=None`` scores frequency by the share-beaten rule instead.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

# customer_summary is public from here (sa.customer_summary, analytics.clv imports it).
from selorax_analytics.analytics._customer_summary import customer_summary as customer_summary
from selorax_analytics.analytics._frames import (
    Purchases,
    check_columns,
    group_max,
    group_min,
    local_days,
    purchases,
    stamps,
)
from selorax_analytics.exceptions import DataError

#: The widely used 10-segment R x F grid. Keys are segment names, values regular expressions
#: over the two-digit cell ``"<r_score><f_score>"``; the first matching entry wins.
DEFAULT_RFM_SEGMENTS: Mapping[str, str] = MappingProxyType(
    {
        "Champions": "5[45]",
        "Loyal Customers": "[34][45]",
        "Potential Loyalists": "[45][23]",
        "New Customers": "51",
        "Promising": "41",
        "Need Attention": "33",
        "About to Sleep": "3[12]",
        "Can't Lose Them": "[12]5",
        "At Risk": "[12][34]",
        "Hibernating": "[12][12]",
    }
)
#: The 11-segment variant: R = 1, F = 1 is ``Lost``; ``Hibernating`` keeps the rest of its cells.
RFM_SEGMENTS_WITH_LOST: Mapping[str, str] = MappingProxyType(
    {**DEFAULT_RFM_SEGMENTS, "Hibernating": "2[12]|12", "Lost": "11"}
)

#: Fewest valid orders for F = 2, 3, 4 and 5: 1 order is F = 1, 6 or more F = 5.
DEFAULT_FREQUENCY_BINS: tuple[int, int, int, int] = (2, 3, 4, 6)


RFM_COLUMNS = [
    "user_id",
    "first_order_at",
    "last_order_at",
    "recency_days",
    "frequency",
    "monetary",
    "avg_order_value",
    "r_score",
    "f_score",
    "m_score",
    "rfm_score",
    "segment",
]
SUMMARY_COLUMNS = [
    "segment",
    "customers",
    "customer_share",
    "revenue",
    "revenue_share",
    "mean_recency_days",
    "mean_frequency",
    "mean_monetary",
]


def beat_scores(values: np.ndarray, *, higher_is_better: bool = True) -> np.ndarray:
    """Scores 1 to 5 from the share of other values each value strictly beats.

    ``score = 1 + floor(5 * beaten / n)``; equal values get equal scores.
    """
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype="int64")
    smaller, larger = _strictly_smaller_and_larger(np.asarray(values))
    beaten = smaller if higher_is_better else larger
    return 1 + (5 * beaten) // n


def _strictly_smaller_and_larger(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How many values are strictly smaller, and strictly larger, than each value.

    Whole numbers over a short range (days, order counts) are counted with one histogram;
    anything else is sorted once and each run of equal values gets its run's bounds.
    """
    n = len(values)
    if values.dtype.kind in "iu":
        low, high = int(values.min()), int(values.max())
        if high - low <= 4 * n:
            offset = (values - low).astype(np.int64)
            upto = np.cumsum(np.bincount(offset))  # values <= each possible value
            below = np.concatenate(([0], upto[:-1]))
            return below[offset], n - upto[offset]
    order = np.argsort(values)
    ordered = values[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    ends = np.append(starts[1:], n)
    smaller = np.empty(n, dtype=np.int64)
    larger = np.empty(n, dtype=np.int64)
    smaller[order] = np.repeat(starts, ends - starts)
    larger[order] = np.repeat(n - ends, ends - starts)
    return smaller, larger


def frequency_scores(frequency: np.ndarray, bins: Sequence[int] | None) -> np.ndarray:
    """F scores from order counts: ``bins`` are the fewest orders for F = 2, 3, 4 and 5.

    ``bins=None`` uses :func:`beat_scores` (the share-beaten rule) instead.
    """
    if bins is None:
        return beat_scores(frequency)
    edges = list(bins)
    valid = len(edges) == 4 and all(isinstance(e, int | np.integer) for e in edges)
    if not valid or not 1 < edges[0] < edges[1] < edges[2] < edges[3]:
        raise DataError(
            f"`frequency_bins` must be four increasing whole order counts above 1 (the fewest "
            f"orders for F = 2, 3, 4 and 5), such as {DEFAULT_FREQUENCY_BINS}; got {bins!r}."
        )
    return 1 + np.searchsorted(np.asarray(edges), frequency, side="right").astype("int64")


def segment_grid(segment_map: Mapping[str, str]) -> np.ndarray:
    """The 5 x 5 grid of segment names, ``grid[r - 1, f - 1]``, from a segment map.

    Raises :class:`DataError` for a bad pattern or a cell that no entry covers.
    """
    if not isinstance(segment_map, Mapping) or not segment_map:
        raise DataError("`segment_map` must be a non-empty mapping of segment name -> pattern.")
    compiled = []
    for name, pattern in segment_map.items():
        try:
            compiled.append((str(name), re.compile(str(pattern))))
        except re.error as exc:
            raise DataError(f"Segment {name!r} has a bad pattern {pattern!r}: {exc}.") from exc
    grid = np.empty((5, 5), dtype=object)
    uncovered = []
    for r in range(1, 6):
        for f in range(1, 6):
            match = next((n for n, p in compiled if p.fullmatch(f"{r}{f}")), None)
            grid[r - 1, f - 1] = match
            if match is None:
                uncovered.append(f"{r}{f}")
    if uncovered:
        raise DataError(
            f"`segment_map` leaves the R x F cell(s) {uncovered} uncovered (cells are "
            f"'<r_score><f_score>'); cover them or end the map with a catch-all such as "
            f"'Other': '..'."
        )
    return grid


def _empty_rfm(customer: str) -> pd.DataFrame:
    columns = [customer, *RFM_COLUMNS[1:]]
    return pd.DataFrame({c: pd.Series(dtype=_RFM_DTYPES.get(c, "float64")) for c in columns})


_RFM_DTYPES = {
    "user_id": "Int64",
    "first_order_at": "datetime64[us, UTC]",
    "last_order_at": "datetime64[us, UTC]",
    "recency_days": "int64",
    "frequency": "int64",
    "r_score": "int64",
    "f_score": "int64",
    "m_score": "int64",
    "rfm_score": "str",
    "segment": "category",
}


def rfm_segments(
    orders: pd.DataFrame,
    *,
    as_of: object,
    valid_statuses: Collection[str] | None = None,
    segment_map: Mapping[str, str] = DEFAULT_RFM_SEGMENTS,
    frequency_bins: Sequence[int] | None = DEFAULT_FREQUENCY_BINS,
) -> pd.DataFrame:
    """Recency, frequency and monetary value, their 1-5 scores and a segment per customer.

    Parameters
    ----------
    orders
        Orders frame with ``user_id``, ``order_status``, ``grand_total`` and ``created_at``
        (UTC). Orders without a ``user_id`` are left out.
    as_of
        Day of the analysis (date string, date or Timestamp), an Asia/Dhaka calendar day. Orders
        on that day count; later orders are ignored.
    valid_statuses
        Statuses that count as purchases. ``None`` (default): every status except
        ``cancelled``, ``returned`` and ``failed``.
    segment_map
        Segment name -> regular expression over the cell ``"<r_score><f_score>"``; the first
        match wins and every one of the 25 cells must be covered (end with ``'Other': '..'``
        to catch the rest). Default :data:`DEFAULT_RFM_SEGMENTS`; see also
        :data:`RFM_SEGMENTS_WITH_LOST`.
    frequency_bins
        Fewest valid orders for F = 2, 3, 4 and 5 (default ``(2, 3, 4, 6)``); ``None`` scores
        frequency by the share of customers beaten, like recency and monetary.

    Returns
    -------
    DataFrame
        One row per customer with a valid order, sorted by ``user_id``: ``user_id``,
        ``first_order_at``, ``last_order_at`` (UTC), ``recency_days`` (whole Asia/Dhaka days from
        the last valid order to ``as_of``), ``frequency`` (valid orders), ``monetary`` (their
        total, rounded to the paisa), ``avg_order_value``, ``r_score``, ``f_score``, ``m_score``
        (1-5, 5 best; see the module notes for the tie method and for frequency),
        ``rfm_score`` (e.g. ``"545"``)
        and ``segment`` (categorical, in map order).

    Raises
    ------
    DataError
        Missing columns, an unusable ``as_of`` or one before every valid order, a segment map
        that leaves cells uncovered.

    Examples
    --------
    >>> rfm = rfm_segments(orders, as_of="2026-07-01")  # doctest: +SKIP
    >>> rfm.groupby("segment", observed=False).size()  # doctest: +SKIP
    """
    grid = segment_grid(segment_map)
    frequency_scores(np.ones(0, dtype="int64"), frequency_bins)  # check before the work
    bought, day = purchases(orders, as_of=as_of, valid_statuses=valid_statuses, compact=False)
    if bought.n_customers == 0:
        return _empty_rfm("user_id")
    metrics = _raw_metrics(bought, day)
    r = beat_scores(metrics["recency_days"], higher_is_better=False)
    f = frequency_scores(metrics["frequency"], frequency_bins)
    m = beat_scores(_whole_paisa(metrics["monetary"]))
    used = set(grid.ravel().tolist())
    names = [n for n in map(str, segment_map) if n in used]
    grid_codes = np.vectorize(names.index, otypes=[np.int64])(grid)
    out = pd.DataFrame(
        {
            "user_id": bought.customers,
            **metrics,
            "r_score": r,
            "f_score": f,
            "m_score": m,
            "rfm_score": _score_labels((r - 1) * 25 + (f - 1) * 5 + (m - 1)),
            "segment": pd.Categorical.from_codes(
                grid_codes[r - 1, f - 1], categories=pd.Index(names)
            ),
        }
    )
    return out


def _whole_paisa(monetary: np.ndarray) -> np.ndarray:
    """Sums rounded to the paisa as whole paisa (equal sums stay equal; integers sort faster)."""
    if np.abs(monetary).max() < 1e15:
        return np.rint(monetary * 100).astype(np.int64)
    return monetary


def _score_labels(cell: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """``"111"`` to ``"555"`` text for the cell numbers ``0..124``, built without Python strings."""
    labels = pa.array([f"{a}{b}{c}" for a in range(1, 6) for b in range(1, 6) for c in range(1, 6)])
    return pd.array(labels.take(pa.array(cell)), dtype="str")


def _raw_metrics(bought: Purchases, day: int) -> dict[str, Any]:
    """Per-customer metrics of purchases made with ``compact=False`` (left-out rows dropped)."""
    n, code = bought.n_customers, bought.code
    frequency = np.bincount(code, minlength=n + 1)[:n]
    monetary = np.round(np.bincount(code, weights=bought.amount, minlength=n + 1)[:n], 2)
    first = group_min(code, bought.micros, n + 1)[:n]
    last = group_max(code, bought.micros, n + 1)[:n]
    # The local day never goes back as time goes on, so the last order's day is the last day.
    last_day = local_days(last, bought.aware)
    return {
        "first_order_at": stamps(first, bought.aware),
        "last_order_at": stamps(last, bought.aware),
        "recency_days": day - last_day,
        "frequency": frequency,
        "monetary": monetary,
        "avg_order_value": monetary / frequency,
    }


def segment_summary(rfm: pd.DataFrame) -> pd.DataFrame:
    """Customers, revenue and mean R, F, M per segment of an :func:`rfm_segments` result.

    Parameters
    ----------
    rfm
        The frame :func:`rfm_segments` returned (needs ``segment``, ``recency_days``,
        ``frequency`` and ``monetary``).

    Returns
    -------
    DataFrame
        One row per segment (every segment of the map, in map order, empty ones with 0
        customers): ``segment``, ``customers``, ``customer_share``, ``revenue``,
        ``revenue_share``, ``mean_recency_days``, ``mean_frequency``, ``mean_monetary``.
        Shares are fractions of the totals (0 to 1).

    Examples
    --------
    >>> segment_summary(rfm_segments(orders, as_of="2026-07-01"))  # doctest: +SKIP
    """
    check_columns(rfm, ["segment", "recency_days", "frequency", "monetary"], name="rfm")
    grouped = rfm.groupby("segment", observed=False, sort=False)
    out = pd.DataFrame(
        {
            "customers": grouped.size(),
            "revenue": grouped["monetary"].sum(),
            "mean_recency_days": grouped["recency_days"].mean(),
            "mean_frequency": grouped["frequency"].mean(),
            "mean_monetary": grouped["monetary"].mean(),
        }
    )
    if isinstance(rfm["segment"].dtype, pd.CategoricalDtype):
        out = out.reindex(rfm["segment"].cat.categories)
        out["customers"] = out["customers"].fillna(0).astype("int64")
        out["revenue"] = out["revenue"].fillna(0.0)
    total_customers, total_revenue = len(rfm), float(rfm["monetary"].sum())
    out.insert(1, "customer_share", out["customers"] / total_customers if len(rfm) else np.nan)
    out.insert(3, "revenue_share", out["revenue"] / total_revenue if total_revenue else np.nan)
    out = out.rename_axis("segment").reset_index()
    out["segment"] = out["segment"].astype(str)
    return out[SUMMARY_COLUMNS]
