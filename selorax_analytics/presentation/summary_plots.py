"""The report index's charts: revenue by month, and segment sizes beside their revenue share.

Each function draws on ``ax`` (pyplot's current Axes when none is given) and returns it; legends
sit above the data, every axis names its unit. Amounts are labelled ``BDT`` on the axes: the
taka sign (U+09F3) is missing from matplotlib's bundled fonts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import pandas as pd

from selorax_analytics.analytics._frames import check_columns
from selorax_analytics.exceptions import DataError
from selorax_analytics.presentation import numbers
from selorax_analytics.presentation._axes import axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

#: Colours: a full month / share of people, and the running month / share of revenue.
_BLUE, _ORANGE, _GREY = "#3b6ea5", "#e07b39", "#9aa5b1"


def _legend_above(ax: Axes, ncol: int) -> None:
    ax.legend(
        loc="lower left", bbox_to_anchor=(0.0, 1.02), ncol=ncol, frameon=False, borderaxespad=0.0
    )


def plot_monthly_revenue(
    revenue: Mapping[str, float] | pd.Series,
    *,
    partial_month: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Revenue per calendar month as bars, the running (partial) month hatched and named.

    Parameters
    ----------
    revenue
        Month (``"2026-06"``) to revenue in taka, in calendar order.
    partial_month
        The month still running on the as-of day, drawn apart; ``None`` when every month is
        complete.
    ax
        The Axes to draw on.
    """
    values = pd.Series(revenue, dtype="float64")
    if values.empty:
        raise DataError("`revenue` has no months to plot; pass at least one month's revenue.")
    ax = axes(ax)
    months = [str(m) for m in values.index]
    running = [m == partial_month for m in months]
    x = range(len(months))
    full = [0.0 if r else v for r, v in zip(running, values, strict=True)]
    ax.bar(x, full, color=_BLUE, label="complete month")
    if any(running):
        i = running.index(True)
        ax.bar(
            [i],
            [values.iloc[i]],
            color="white",
            edgecolor=_ORANGE,
            hatch="//",
            label=f"{_month_label(months[i])}: running month, "
            f"{numbers.count(values.iloc[i])} BDT so far",
        )
        ax.axvline(i, color=_ORANGE, linestyle=":", linewidth=1)
    step = max(1, len(months) // 12)
    ax.set_xticks(list(x)[::step], [_month_label(m) for m in months[::step]], fontsize=8)
    ax.set_xlim(-0.6, len(months) - 0.4)
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: numbers.count(v)))
    ax.set_ylabel("revenue (BDT)")
    ax.set_xlabel("calendar month (Asia/Dhaka)")
    ax.spines[["top", "right"]].set_visible(False)
    _legend_above(ax, ncol=2)
    return ax


def _month_label(month: str) -> str:
    try:
        return pd.Period(month, freq="M").strftime("%b %Y")
    except ValueError:
        return month


def plot_segment_shares(segments: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Each segment's share of buyers beside its share of revenue, with its size written out.

    Parameters
    ----------
    segments
        The frame :func:`selorax_analytics.segment_summary` returned (``segment``,
        ``customers``, ``customer_share``, ``revenue_share``; shares as fractions).
    ax
        The Axes to draw on.
    """
    check_columns(
        segments, ["segment", "customers", "customer_share", "revenue_share"], name="segments"
    )
    rows = segments.loc[segments["customers"] > 0].iloc[::-1]
    if rows.empty:
        raise DataError("`segments` has no segment with customers; nothing to plot.")
    ax = axes(ax)
    y = range(len(rows))
    height = 0.4
    people = rows["customer_share"].to_numpy(dtype="float64") * 100
    revenue = rows["revenue_share"].fillna(0).to_numpy(dtype="float64") * 100
    ax.barh([i + height / 2 for i in y], people, height, color=_BLUE, label="share of buyers")
    ax.barh([i - height / 2 for i in y], revenue, height, color=_ORANGE, label="share of revenue")
    for i, (n, share) in enumerate(zip(rows["customers"], people, strict=True)):
        ax.text(share + 0.5, i + height / 2, f"{numbers.count(n)} buyers", va="center", fontsize=7)
    ax.set_yticks(list(y), [str(s) for s in rows["segment"]], fontsize=9)
    top = max(float(people.max()), float(revenue.max()))
    ax.set_xlim(0, top * 1.25 + 1)
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: numbers.percent(v / 100, digits=0)))
    ax.set_xlabel("% of all buyers / of all revenue")
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="x", color=_GREY, alpha=0.3)
    _legend_above(ax, ncol=2)
    return ax
