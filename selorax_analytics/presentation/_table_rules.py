"""Which display rule each column of a result frame takes, and which results are known.

The rules are data: :data:`COLUMN_KINDS` maps the package's column names to a kind, and
:data:`KNOWN_RESULTS` recognises a result frame by the columns it carries. A column not named
here takes its kind from its dtype. :mod:`selorax_analytics.presentation.tables` turns kinds into
text with :mod:`selorax_analytics.presentation.numbers`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from selorax_analytics.presentation import numbers

Formatter = Callable[[Any], str]

#: Column name -> kind, for the columns the package's results carry.
COLUMN_KINDS: Mapping[str, str] = {
    # money in summaries and totals: whole taka
    **dict.fromkeys(["revenue", "monetary", "total_spent", "clv", "ltv", "shipping_lost"], "money"),
    # one order's amount, or an average per order or per person: taka and paisa
    **dict.fromkeys(
        [
            "avg_order_value",
            "expected_avg_order_value",
            "monetary_value",
            "mean_monetary",
            "grand_total",
            "sub_total",
            "tax",
            "shipping",
            "discount",
        ],
        "money_precise",
    ),
    **dict.fromkeys(
        ["customer_share", "revenue_share", "share", "repeat_rate", "conversion_rate", "p_alive"],
        "share",
    ),
    # cash-on-delivery risk (delivery_risk): rates and their interval, counts of COD orders
    **dict.fromkeys(["risk", "risk_low", "risk_high", "observed_rate"], "share"),
    **dict.fromkeys(
        ["cod_orders", "delivered", "refused", "cancelled_after_confirmation", "settled", "failed"],
        "count",
    ),
    **dict.fromkeys(
        [
            "customers",
            "orders",
            "frequency",
            "guests",
            "converted",
            "converted_in_window",
            "cohort_size",
            "records",
            "total_orders",
            "recency_days",
            "recency",
            "T",
            "days_to_second_order",
            "days_to_conversion",
            "median_days_to_second_order",
            "median_days_to_conversion",
            "rows",
            "skipped_people",
            "skipped_values",
        ],
        "count",
    ),
    **dict.fromkeys(["mean_recency_days", "mean_frequency", "expected_orders"], "number"),
    **dict.fromkeys(
        ["user_id", "order_id", "store_id", "identity_id", "r_score", "f_score", "m_score"], "id"
    ),
}


def _identifier(value: Any) -> str:
    """An id or a score: the digits alone, no separators."""
    if numbers.missing(value):
        return ""
    if isinstance(value, (int, np.integer)) or (isinstance(value, float) and value.is_integer()):
        return str(int(value))
    return str(value)


def _flag(value: Any) -> str:
    if numbers.missing(value):
        return ""
    return "yes" if bool(value) else "no"


def _text(value: Any) -> str:
    return "" if numbers.missing(value) else str(value)


def _time(value: Any) -> str:
    if isinstance(value, pd.Period):
        return str(value)
    return numbers.dhaka_time(value)


#: Kind -> the function that writes one value of it.
FORMATTERS: Mapping[str, Formatter] = {
    "money": numbers.taka,
    "money_precise": numbers.taka_precise,
    "share": numbers.percent,
    "count": numbers.count,
    "number": numbers.number,
    "id": _identifier,
    "time": _time,
    "day": numbers.dhaka_day,
    "flag": _flag,
    "text": _text,
}


def dtype_kind(values: pd.Series | pd.Index) -> str:
    """The kind of a column not named in :data:`COLUMN_KINDS`, from its dtype."""
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "flag"
    if isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(dtype):
        return "time"
    if pd.api.types.is_integer_dtype(dtype):
        return "count"
    if pd.api.types.is_float_dtype(dtype):
        return "number"
    return "text"


@dataclass(frozen=True)
class KnownResult:
    """A result frame of this package, recognised by columns only it carries."""

    name: str
    marks: frozenset[str]
    key_columns: tuple[str, ...]


#: The package's results, most specific first.
KNOWN_RESULTS: tuple[KnownResult, ...] = tuple(
    KnownResult(name, frozenset(marks), tuple(keys))
    for name, marks, keys in [
        (
            "rfm_segments",
            ["recency_days", "frequency", "monetary", "rfm_score", "segment"],
            ["user_id", "recency_days", "frequency", "monetary", "segment"],
        ),
        (
            "segment_summary",
            ["segment", "customer_share", "revenue_share"],
            ["segment", "customers", "customer_share", "revenue", "revenue_share"],
        ),
        (
            "customer_value",
            ["p_alive", "expected_orders", "clv"],
            ["user_id", "frequency", "p_alive", "expected_orders", "clv"],
        ),
        (
            "customer_summary",
            ["frequency", "recency", "T", "monetary_value"],
            ["frequency", "recency", "T", "monetary_value"],
        ),
        (
            "guest_people",
            ["identity_id", "first_guest", "days_to_conversion"],
            ["identity_id", "group", "records", "first_order_at", "orders", "revenue"],
        ),
        (
            "guest_groups",
            ["group", "customer_share", "repeat_rate"],
            ["group", "customers", "customer_share", "orders", "revenue", "repeat_rate"],
        ),
        (
            "guest_cohorts",
            ["guests", "converted_in_window", "conversion_rate"],
            ["guests", "converted_in_window", "conversion_rate", "window_complete"],
        ),
        ("guest_funnel", ["stage", "customers", "share"], ["stage", "customers", "share"]),
        (
            "customers",
            ["user_id", "is_guest", "total_orders", "total_spent"],
            ["user_id", "name", "city", "is_guest", "created_at", "total_orders", "total_spent"],
        ),
        (
            "orders",
            ["order_id", "order_status", "grand_total"],
            ["order_id", "user_id", "order_status", "payment_method", "grand_total", "created_at"],
        ),
    ]
)

#: Offsets shown of a wide cohort table, after its index and ``cohort_size`` (8 columns in all).
COHORT_KEY_OFFSETS = 6

#: Kind of a cohort table's offset cells, per ``attrs["metric"]``.
COHORT_METRIC_KINDS: Mapping[str, str] = {
    "customers": "share",
    "revenue": "share",
    "orders": "count",
    "ltv": "money",
}


def is_cohort_table(frame: pd.DataFrame) -> bool:
    """A :func:`~selorax_analytics.cohort_table` result (or rows and columns of one)."""
    offsets = [c for c in frame.columns if c != "cohort_size"]
    return "cohort_size" in frame.columns and all(isinstance(c, (int, np.integer)) for c in offsets)


def known_result(frame: pd.DataFrame) -> KnownResult | None:
    """The package result ``frame`` is (by its columns), or ``None``."""
    if is_cohort_table(frame):
        metric = str(frame.attrs.get("metric", "table"))
        offsets = [c for c in frame.columns if c != "cohort_size"][:COHORT_KEY_OFFSETS]
        return KnownResult(f"cohorts_{metric}", frozenset(), ("cohort_size", *offsets))
    columns = set(frame.columns)
    for result in KNOWN_RESULTS:
        if result.marks <= columns:
            return result
    return None


def column_kinds(frame: pd.DataFrame, explicit: Mapping[str, Sequence[Any]]) -> dict[Any, str]:
    """Kind of every column: explicit choices first, then cohort metric, name, dtype."""
    cohort_kind = None
    if is_cohort_table(frame):
        cohort_kind = COHORT_METRIC_KINDS.get(str(frame.attrs.get("metric")), "number")
    kinds: dict[Any, str] = {}
    for column in frame.columns:
        if cohort_kind is not None and column != "cohort_size":
            kinds[column] = cohort_kind
        elif isinstance(column, str) and column in COLUMN_KINDS:
            kinds[column] = COLUMN_KINDS[column]
        else:
            kinds[column] = dtype_kind(frame[column])
        by_dtype = dtype_kind(frame[column])
        if by_dtype in ("text", "time", "flag") and kinds[column] not in ("text", "time", "flag"):
            kinds[column] = by_dtype  # a name we know, holding another kind of data
    for kind, columns in explicit.items():
        for column in columns:
            kinds[column] = kind
    return kinds


def partial_cells(frame: pd.DataFrame) -> list[tuple[int, Any]]:
    """(row position, column) of the running period's cell in each row of a cohort table."""
    partial = frame.attrs.get("partial_period")
    if not partial or not is_cohort_table(frame) or not isinstance(frame.index, pd.PeriodIndex):
        return []
    last = pd.Period(partial, freq=frame.index.freqstr)
    cells = []
    for row, cohort in enumerate(frame.index):
        offset = (last - cohort).n
        if offset in frame.columns:
            cells.append((row, offset))
    return cells
