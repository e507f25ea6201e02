"""Plots of the analytics results: each takes a result frame, draws on ``ax`` and returns it.

No function here touches pyplot's global state beyond ``plt.gca()`` when no ``ax`` is given.
Legends sit outside the data (to the right of the Axes), and every axis names its unit: days,
months, ৳ (tick labels with separators) or %.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, get_args

import numpy as np
import pandas as pd

from selorax_analytics.analytics._frames import check_columns, check_option
from selorax_analytics.exceptions import DataError
from selorax_analytics.presentation._axes import (
    PERIOD_WORDS,
    axes,
    legend_outside,
    percent_axis,
    periods_since,
    taka_axis,
    taka_unit,
)
from selorax_analytics.presentation._cohort_curves import Highlight, draw_curves

if TYPE_CHECKING:
    from matplotlib.axes import Axes

GridValue = Literal["customers", "revenue"]
_METRIC_LABELS = {
    "customers": "share of cohort ordering",
    "revenue": "revenue relative to period 0",
    "orders": "valid orders",
    "ltv": "cumulative revenue per customer (৳)",
}

_axes = axes


def _metric_label(metric: str) -> str:
    return _METRIC_LABELS.get(metric, metric).replace("(৳)", taka_unit())


def plot_segments(data: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Customer share and revenue share of each RFM segment, as paired horizontal bars.

    Parameters
    ----------
    data
        An :func:`~selorax_analytics.rfm_segments` result or its
        :func:`~selorax_analytics.segment_summary`.
    ax
        Axes to draw on; the current Axes by default.

    Returns
    -------
    Axes
    """
    from selorax_analytics.analytics.rfm import segment_summary

    summary = data if "customer_share" in data.columns else segment_summary(data)
    check_columns(summary, ["segment", "customer_share", "revenue_share"], name="data")
    ax = _axes(ax)
    y = np.arange(len(summary))
    ax.barh(y - 0.2, summary["customer_share"] * 100, height=0.4, label="customers")
    ax.barh(y + 0.2, summary["revenue_share"] * 100, height=0.4, label="revenue")
    ax.set_yticks(y, summary["segment"].astype(str).tolist())
    ax.invert_yaxis()
    ax.set(xlabel="share of all (%)", ylabel="segment", title="RFM segments: customers and revenue")
    percent_axis(ax.xaxis, of=100.0)
    legend_outside(ax)
    return ax


def plot_rfm_grid(
    rfm: pd.DataFrame, *, value: GridValue = "customers", ax: Axes | None = None
) -> Axes:
    """Heatmap of the R x F grid: customers (or revenue) in each score cell.

    Parameters
    ----------
    rfm
        An :func:`~selorax_analytics.rfm_segments` result.
    value
        ``"customers"`` (count) or ``"revenue"`` (sum of ``monetary``, ৳).
    ax
        Axes to draw on; the current Axes by default.

    Returns
    -------
    Axes
    """
    check_option(value, get_args(GridValue), name="value")
    check_columns(rfm, ["r_score", "f_score", "monetary"], name="rfm")
    cell = (rfm["r_score"].to_numpy() - 1) * 5 + rfm["f_score"].to_numpy() - 1
    weights = rfm["monetary"].to_numpy() if value == "revenue" else None
    grid = np.bincount(cell, weights=weights, minlength=25).reshape(5, 5)[::-1]
    ax = _axes(ax)
    image = ax.imshow(grid, cmap="Blues", aspect="auto")
    label = "customers (people)" if value == "customers" else f"revenue {taka_unit()}"
    bar = ax.figure.colorbar(image, ax=ax, label=label)
    if value == "revenue":
        taka_axis(bar.ax.yaxis)
    top = grid.max() if grid.size else 0
    for (row, col), number in np.ndenumerate(grid):
        colour = "white" if top and number > top / 2 else "black"
        ax.text(col, row, f"{number:,.0f}", ha="center", va="center", color=colour, fontsize=8)
    ax.set_xticks(range(5), [str(f) for f in range(1, 6)])
    ax.set_yticks(range(5), [str(r) for r in range(5, 0, -1)])
    ax.set(
        xlabel="F score (frequency, 1 = fewest orders)",
        ylabel="R score (recency, 5 = most recent)",
        title=f"RFM grid: {value}",
    )
    return ax


def _cells(table: pd.DataFrame) -> pd.DataFrame:
    if "cohort_size" not in table.columns:
        raise DataError("`table` must be a cohort_table result (it has no `cohort_size` column).")
    return table.drop(columns="cohort_size")


#: Most cohort labels a heatmap writes down its side; more cohorts are labelled every k-th.
MAX_COHORT_LABELS = 40


def _cohort_labels(table: pd.DataFrame) -> list[str]:
    sizes = table["cohort_size"].to_numpy()
    return [f"{c} (n={n:,})" for c, n in zip(table.index.astype(str), sizes, strict=True)]


def _partial_offsets(table: pd.DataFrame) -> np.ndarray | None:
    """Offset of the partial period in each row, or ``None`` when no period is partial."""
    partial = table.attrs.get("partial_period")
    if not partial or not isinstance(table.index, pd.PeriodIndex):
        return None
    last = pd.Period(partial, freq=table.index.freqstr)
    return np.array([(last - c).n for c in table.index])


def plot_cohort_heatmap(
    table: pd.DataFrame, *, annotate: bool | None = None, ax: Axes | None = None
) -> Axes:
    """Heatmap of a cohort table: cohorts down, period offsets across.

    Parameters
    ----------
    table
        A :func:`~selorax_analytics.cohort_table` result. Cells of the partial period that
        holds ``as_of`` are hatched.
    annotate
        Write the value in each cell; by default only when the table is at most 15 x 15.
        More than 40 cohorts are labelled every k-th, k the smallest that keeps it to 40.
    ax
        Axes to draw on; the current Axes by default.

    Returns
    -------
    Axes
    """
    cells = _cells(table)
    metric = table.attrs.get("metric", "customers")
    values = cells.to_numpy(dtype="float64")
    ax = _axes(ax)
    # Offset 0 is 1.0 by construction for shares; scale the colours to the later periods.
    later = values[:, 1:]
    relative = metric in ("customers", "revenue") and np.isfinite(later).any()
    vmax = float(np.nanmax(later)) if relative else None
    image = ax.imshow(
        np.ma.masked_invalid(values), cmap="viridis", aspect="auto", vmin=0, vmax=vmax
    )
    bar = ax.figure.colorbar(
        image,
        ax=ax,
        label=_metric_label(metric),
        extend="max" if relative else "neither",
    )
    if relative:
        percent_axis(bar.ax.yaxis)
    elif metric == "ltv":
        taka_axis(bar.ax.yaxis)
    rows, cols = values.shape
    small = max(5.0, min(9.0, 240 / max(rows, 1)))
    # at most MAX_COHORT_LABELS labels down the side (weekly cohorts run to the hundreds)
    down = max(1, int(np.ceil(rows / MAX_COHORT_LABELS)))
    ax.set_yticks(range(0, rows, down), _cohort_labels(table)[::down], fontsize=small)
    step = max(1, int(np.ceil(cols / 24)))
    ax.set_xticks(range(0, cols, step), [str(c) for c in cells.columns[::step]], fontsize=small)
    offsets = _partial_offsets(table)
    if offsets is not None:
        for row, col in enumerate(offsets):
            if 0 <= col < cols:
                ax.add_patch(_hatch(col, row))
    if annotate if annotate is not None else rows <= 15 and cols <= 15:
        fmt = "{:.0%}" if metric in ("customers", "revenue") else "{:,.0f}"
        for (row, col), number in np.ndenumerate(values):
            if not np.isnan(number):
                ax.text(col, row, fmt.format(number), ha="center", va="center", fontsize=6)
    ax.set(
        xlabel=periods_since(table.attrs),
        ylabel="cohort",
        title=f"Cohorts: {_metric_label(metric)}",
    )
    return ax


def _hatch(col: int, row: int) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle(
        (col - 0.5, row - 0.5), 1, 1, fill=False, hatch="///", edgecolor="white", linewidth=0
    )


def plot_retention_curves(
    table: pd.DataFrame, *, highlight: Highlight = None, ax: Axes | None = None
) -> Axes:
    """Retention curves: the average cohort in bold, recent cohorts in colour, the rest grey.

    Parameters
    ----------
    table
        A :func:`~selorax_analytics.cohort_table` result with ``metric="customers"``.
    highlight
        Cohorts drawn in colour: a number (the last ``n`` complete cohorts; the cohort of the
        running period is not complete) or a list of cohort labels such as
        ``["2026-03", "2026-04"]``. By default the last 3 complete cohorts with a point to
        draw (so not one whose only full period is its first). Every other cohort
        is a thin grey line for context.
    ax
        Axes to draw on; the current Axes by default.

    Returns
    -------
    Axes
        For first-order cohorts the curves start at offset 1 (offset 0 is 100% by
        construction). The bold black line is the average over cohorts weighted by cohort size (at each offset,
        over the cohorts observed there). Censored cells (after ``as_of``) and the partial
        period holding ``as_of`` are not drawn. The legend sits outside, right of the plot.

    Raises
    ------
    DataError
        The table is not a ``metric="customers"`` cohort table, or ``highlight`` names a
        cohort it does not have.
    """
    metric = table.attrs.get("metric", "customers")
    if metric != "customers":
        raise DataError(f'`table` must come from cohort_table(metric="customers"), got {metric!r}.')
    # First-order cohorts all order in offset 0 (100%); the curves start at offset 1.
    start = 1 if table.attrs.get("by", "first_order") == "first_order" else 0
    words = PERIOD_WORDS.get(str(table.attrs.get("period", "")), "periods")
    ax = draw_curves(
        table,
        _axes(ax),
        highlight=highlight,
        ylabel="customers ordering (% of cohort)",
        title=f"Retention by cohort (from {words[:-1]} 1; {words[:-1]} 0 is 100%)"
        if start
        else "Retention by cohort",
        start=start,
    )
    percent_axis(ax.yaxis)
    return ax


def plot_ltv_curves(
    table: pd.DataFrame, *, highlight: Highlight = None, ax: Axes | None = None
) -> Axes:
    """Cumulative revenue per cohort customer: average in bold, recent cohorts in colour.

    Parameters
    ----------
    table
        A :func:`~selorax_analytics.cohort_table` result with ``metric="ltv"``.
    highlight
        As for :func:`plot_retention_curves`: a number of recent complete cohorts (3 by
        default) or a list of cohort labels.
    ax
        Axes to draw on; the current Axes by default.

    Returns
    -------
    Axes
        The bold line is the average weighted by cohort size; the y axis is in taka.
    """
    metric = table.attrs.get("metric", "ltv")
    if metric != "ltv":
        raise DataError(f'`table` must come from cohort_table(metric="ltv"), got {metric!r}.')
    ax = draw_curves(
        table,
        _axes(ax),
        highlight=highlight,
        ylabel=f"cumulative revenue per customer {taka_unit()}",
        title="LTV by cohort",
    )
    taka_axis(ax.yaxis)
    return ax


def plot_guest_funnel(result: Any, *, ax: Axes | None = None) -> Axes:
    """Funnel of guests: first guest order, second order and account within the window.

    Parameters
    ----------
    result
        A :func:`~selorax_analytics.guest_conversion` result or its ``funnel`` frame.
    ax
        Axes to draw on; the current Axes by default.

    Returns
    -------
    Axes
    """
    funnel = getattr(result, "funnel", result)
    if not isinstance(funnel, pd.DataFrame):
        raise DataError("`result` must be a guest_conversion result or its `funnel` frame.")
    check_columns(funnel, ["stage", "customers", "share"], name="funnel")
    ax = _axes(ax)
    y = np.arange(len(funnel))
    bars = ax.barh(y, funnel["customers"], color="tab:blue")
    pairs = zip(funnel["customers"], funnel["share"], strict=True)
    labels = [f"{c:,} ({s:.0%})" if pd.notna(s) else f"{c:,}" for c, s in pairs]
    ax.bar_label(bars, labels=labels, padding=3, fontsize=8)
    ax.set_yticks(y, funnel["stage"].tolist())
    ax.invert_yaxis()
    window = funnel.attrs.get("window_days")
    suffix = f" (within {window} days)" if window is not None else ""
    ax.set(xlabel="customers (people)", ylabel="stage", title=f"Guest funnel{suffix}")
    ax.margins(x=0.2)
    return ax


#: Channels of a segment-reach frame, in the order they are drawn, and how each reads.
REACH_CHANNELS = {"sms": "SMS", "email": "e-mail", "meta": "Meta", "google": "Google"}


def plot_segment_reach(reach: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """People of each segment reachable by SMS, e-mail, Meta and Google, as grouped bars.

    Parameters
    ----------
    reach
        A :func:`~selorax_analytics.segment_reach` result: one row per segment (``segment``
        column or index) with ``people`` and a count per channel (``sms``, ``email``,
        ``meta``, ``google``).
    ax
        Axes to draw on; the current Axes by default.

    Returns
    -------
    Axes
        Horizontal bars in people, one group per segment, a pale bar behind each group for
        all its people; the legend sits outside, right of the plot.
    """
    frame = reach.reset_index() if "segment" not in reach.columns else reach
    check_columns(frame, ["segment", "people", *REACH_CHANNELS], name="reach")
    ax = _axes(ax)
    y = np.arange(len(frame))
    height = 0.8 / len(REACH_CHANNELS)
    ax.barh(y, frame["people"], height=0.9, color="0.9", label="all people")
    for i, (column, name) in enumerate(REACH_CHANNELS.items()):
        offset = (i - (len(REACH_CHANNELS) - 1) / 2) * height
        ax.barh(y + offset, frame[column], height=height, label=name)
    ax.set_yticks(y, frame["segment"].astype(str).tolist())
    ax.invert_yaxis()
    ax.set(
        xlabel="people reachable (count)",
        ylabel="segment",
        title="Reach of each segment by channel",
    )
    from matplotlib.ticker import StrMethodFormatter

    ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    legend_outside(ax, title="channel")
    return ax
