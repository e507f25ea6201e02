"""Cohort curves: the size-weighted average in bold, a few recent cohorts in colour, the rest grey.

A cell is drawn only when it was observed in full: cells after ``as_of`` are NaN in the table,
and the period that holds ``as_of`` (``attrs["partial_period"]``) is left out too, since a
running month would draw a false drop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from selorax_analytics.exceptions import DataError
from selorax_analytics.presentation._axes import legend_outside, periods_since

if TYPE_CHECKING:
    from matplotlib.axes import Axes

#: Recent complete cohorts drawn in colour when ``highlight`` is not given.
DEFAULT_HIGHLIGHT = 3
AVERAGE_LABEL = "average, weighted by cohort size"
CONTEXT_COLOUR = "0.78"
_COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown")

Highlight = int | Sequence[str] | None


def observed(table: pd.DataFrame) -> pd.DataFrame:
    """The cells of a cohort table that were observed in full (censored and partial ones NaN)."""
    if "cohort_size" not in table.columns:
        raise DataError("`table` must be a cohort_table result (it has no `cohort_size` column).")
    values = table.drop(columns="cohort_size").to_numpy(dtype="float64", copy=True)
    partial = table.attrs.get("partial_period")
    if partial and isinstance(table.index, pd.PeriodIndex):
        last = pd.Period(partial, freq=table.index.freqstr)
        for row, cohort in enumerate(table.index):
            offset = (last - cohort).n
            if 0 <= offset < values.shape[1]:
                values[row, offset] = np.nan
    cells = table.columns.drop("cohort_size")
    return pd.DataFrame(values, index=table.index, columns=cells)


def from_offset(cells: pd.DataFrame, start: int) -> pd.DataFrame:
    """The columns of offset ``start`` and later."""
    offsets = np.asarray(cells.columns, dtype="int64")
    return cells.iloc[:, np.flatnonzero(offsets >= start)]


def weighted_average(table: pd.DataFrame) -> pd.Series:
    """Per offset, the mean over the cohorts observed there, each weighted by its size."""
    cells = observed(table)
    sizes = table["cohort_size"].to_numpy(dtype="float64")[:, None]
    seen = np.isfinite(cells.to_numpy())
    weights = np.where(seen, sizes, 0.0)
    total = weights.sum(axis=0)
    summed = np.where(seen, cells.to_numpy() * sizes, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(total > 0, summed / np.where(total > 0, total, 1.0), np.nan)
    return pd.Series(mean, index=cells.columns, name="average")


def complete_cohorts(table: pd.DataFrame, *, start: int = 0) -> list[str]:
    """Cohorts whose own period ended by ``as_of`` and that have a cell drawn from ``start``.

    The cohort of the running period is not complete; with ``start=1`` (retention curves leave
    out offset 0, 100% by construction) a cohort whose only full period is its first has
    nothing to draw and is passed over too.
    """
    partial = table.attrs.get("partial_period")
    cells = observed(table)
    drawn = np.isfinite(from_offset(cells, start).to_numpy()).any(axis=1)
    return [
        str(c)
        for c, seen in zip(table.index, drawn.tolist(), strict=True)
        if seen and (partial is None or str(c) != str(partial))
    ]


def highlighted(table: pd.DataFrame, highlight: Highlight, *, start: int = 0) -> list[str]:
    """The cohort labels to draw in colour: the last ``n`` complete ones, or those named."""
    if highlight is None:
        highlight = DEFAULT_HIGHLIGHT
    if isinstance(highlight, int | np.integer) and not isinstance(highlight, bool):
        if highlight < 0:
            raise DataError(f"`highlight` must be a number >= 0 or cohort labels, got {highlight}.")
        complete = complete_cohorts(table, start=start)
        return complete[len(complete) - int(highlight) :] if highlight else []
    if isinstance(highlight, str) or not isinstance(highlight, Sequence):
        raise DataError(
            f"`highlight` must be a number of recent cohorts or a list of cohort labels "
            f"(such as ['2026-04', '2026-05']), got {highlight!r}."
        )
    labels = [str(c) for c in table.index]
    unknown = [str(h) for h in highlight if str(h) not in labels]
    if unknown:
        has = f"it has {labels[0]} to {labels[-1]}" if labels else "it has no cohorts"
        raise DataError(
            f"`highlight` names cohorts the table does not have: {unknown}; {has}. "
            "Pass labels of its index, or a number of recent cohorts."
        )
    return [str(h) for h in highlight]


def draw_curves(
    table: pd.DataFrame,
    ax: Axes,
    *,
    highlight: Highlight,
    ylabel: str,
    title: str,
    start: int = 0,
) -> Axes:
    """Grey context lines, coloured highlighted cohorts and the bold average, legend outside.

    Offsets before ``start`` are not drawn.
    """
    cells = observed(table)
    cells = from_offset(cells, start)
    chosen = highlighted(table, highlight, start=start)
    x = np.asarray(cells.columns, dtype="float64")
    sizes = dict(zip(cells.index.astype(str), table["cohort_size"], strict=True))
    context = [label for label in cells.index.astype(str) if label not in chosen]
    for label in context:
        y = cells.loc[cells.index.astype(str) == label].to_numpy()[0]
        ax.plot(x, y, color=CONTEXT_COLOUR, linewidth=0.8, zorder=1)
    for i, label in enumerate(chosen):
        y = cells.loc[cells.index.astype(str) == label].to_numpy()[0]
        colour = _COLOURS[i % len(_COLOURS)]
        name = f"{label} (n={int(sizes[label]):,})"
        ax.plot(x, y, color=colour, linewidth=1.8, marker="o", markersize=3, label=name, zorder=3)
    average = weighted_average(table).loc[cells.columns].to_numpy()
    ax.plot(x, average, color="black", linewidth=3.0, label=AVERAGE_LABEL, zorder=4)
    handles, labels = ax.get_legend_handles_labels()
    if context:
        from matplotlib.lines import Line2D

        handles.append(Line2D([], [], color=CONTEXT_COLOUR, linewidth=0.8))
        labels.append(f"other cohorts ({len(context)})")
    legend_outside(ax, handles=handles, labels=labels, title="cohort", fontsize=8)
    ax.set(xlabel=periods_since(table.attrs), ylabel=ylabel, title=title)
    return ax
