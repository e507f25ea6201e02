"""Plots: each draws on the given Axes, returns it, and is labelled."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from selorax_analytics import (
    DataError,
    cohort_table,
    guest_conversion,
    plot_cohort_heatmap,
    plot_guest_funnel,
    plot_ltv_curves,
    plot_retention_curves,
    plot_rfm_grid,
    plot_segment_reach,
    plot_segments,
    rfm_segments,
    segment_reach,
    segment_summary,
)
from selorax_analytics.presentation._axes import taka_sign
from selorax_analytics.sandbox.generator import DEMO_AS_OF


@pytest.fixture(scope="module")
def results(demo_frames):
    customers, orders = demo_frames
    return {
        "rfm": rfm_segments(orders, as_of=DEMO_AS_OF),
        "customers": cohort_table(orders, as_of=DEMO_AS_OF),
        "ltv": cohort_table(orders, as_of=DEMO_AS_OF, metric="ltv"),
        "guests": guest_conversion(customers, orders, as_of=DEMO_AS_OF),
    }


def labelled(ax) -> bool:
    return bool(ax.get_xlabel() and ax.get_ylabel() and ax.get_title())


def test_plot_segments(results):
    _, ax = plt.subplots()
    assert plot_segments(results["rfm"], ax=ax) is ax
    assert labelled(ax)
    names = [t.get_text() for t in ax.get_yticklabels()]
    assert names == segment_summary(results["rfm"])["segment"].tolist()
    assert len(ax.patches) == 2 * len(names)


def test_plot_rfm_grid_counts(results):
    _, ax = plt.subplots()
    assert plot_rfm_grid(results["rfm"], ax=ax) is ax
    assert labelled(ax)
    numbers = [int(t.get_text().replace(",", "")) for t in ax.texts]
    assert sum(numbers) == len(results["rfm"])
    with pytest.raises(DataError, match="`value` must be one of"):
        plot_rfm_grid(results["rfm"], value="orders", ax=ax)  # type: ignore[arg-type]


def test_cohort_heatmap_readable_with_30_cohorts(results):
    table = results["customers"]
    assert len(table) == 30
    _, ax = plt.subplots()
    assert plot_cohort_heatmap(table, ax=ax) is ax
    assert labelled(ax)
    assert len(ax.get_yticklabels()) == 30
    assert ax.get_yticklabels()[0].get_text() == f"2024-01 (n={table['cohort_size'].iloc[0]:,})"
    assert not ax.texts  # too many cells to annotate
    hatched = [p for p in ax.patches if p.get_hatch()]
    assert len(hatched) == 30  # the partial July 2026 cell of every cohort


def test_curves(results):
    _, ax = plt.subplots()
    assert plot_retention_curves(results["customers"], ax=ax) is ax
    assert labelled(ax) and len(ax.lines) == 31  # 30 cohorts and their average
    _, ax2 = plt.subplots()
    assert plot_ltv_curves(results["ltv"], ax=ax2) is ax2
    assert labelled(ax2) and len(ax2.lines) == 31
    with pytest.raises(DataError, match='metric="customers"'):
        plot_retention_curves(results["ltv"], ax=ax)
    with pytest.raises(DataError, match='metric="ltv"'):
        plot_ltv_curves(results["customers"], ax=ax)
    with pytest.raises(DataError, match="cohort_table result"):
        plot_cohort_heatmap(results["rfm"], ax=ax)


def test_guest_funnel(results):
    _, ax = plt.subplots()
    assert plot_guest_funnel(results["guests"], ax=ax) is ax
    assert labelled(ax)
    widths = [p.get_width() for p in ax.patches]
    assert widths == results["guests"].funnel["customers"].tolist()
    _, ax2 = plt.subplots()
    assert plot_guest_funnel(results["guests"].funnel, ax=ax2) is ax2
    with pytest.raises(DataError, match="guest_conversion result"):
        plot_guest_funnel([1, 2, 3], ax=ax2)


def test_default_axes_is_current(results):
    fig, ax = plt.subplots()
    assert plot_segments(results["rfm"]) is ax
    plt.close(fig)


def test_cohort_heatmap_labels_every_kth_of_many_weekly_cohorts(demo_frames):
    _, orders = demo_frames
    table = cohort_table(orders, period="W", as_of=DEMO_AS_OF)
    rows = len(table)
    assert rows > 80  # two and a half years of weeks
    _, ax = plt.subplots()
    plot_cohort_heatmap(table, ax=ax)
    step = -(-rows // 40)  # ceil: the smallest k that keeps it to 40 labels
    ticks = list(ax.get_yticks())
    assert ticks == list(range(0, rows, step)) and len(ticks) <= 40
    first, second = (t.get_text() for t in ax.get_yticklabels()[:2])
    assert first.startswith(str(table.index[0])) and second.startswith(str(table.index[step]))
    assert len([p for p in ax.patches if p.get_hatch()]) == rows  # every row still marked


# --- legends outside, units, and the cohort curves ----------------------------------------------


def _legend_outside(ax) -> bool:
    ax.figure.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    data = ax.get_window_extent()
    return legend.x0 >= data.x1 or legend.y0 >= data.y1 or legend.x1 <= data.x0


def test_every_legend_lies_outside_the_data(results, demo_frames):
    customers, _ = demo_frames
    plots = [
        lambda ax: plot_segments(results["rfm"], ax=ax),
        lambda ax: plot_retention_curves(results["customers"], ax=ax),
        lambda ax: plot_ltv_curves(results["ltv"], ax=ax),
        lambda ax: plot_segment_reach(segment_reach(results["rfm"], customers), ax=ax),
    ]
    for draw in plots:
        fig, ax = plt.subplots()
        draw(ax)
        assert _legend_outside(ax), ax.get_title()
        plt.close(fig)


def test_axes_say_their_units(results, demo_frames):
    customers, _ = demo_frames
    fig, axes = plt.subplots(2, 3)
    plot_segments(results["rfm"], ax=axes[0, 0])
    plot_retention_curves(results["customers"], ax=axes[0, 1])
    plot_ltv_curves(results["ltv"], ax=axes[0, 2])
    plot_segment_reach(segment_reach(results["rfm"], customers), ax=axes[1, 0])
    plot_guest_funnel(results["guests"], ax=axes[1, 1])
    plot_cohort_heatmap(results["ltv"], ax=axes[1, 2])
    fig.canvas.draw()
    sign = taka_sign()
    assert "(%)" in axes[0, 0].get_xlabel()
    assert axes[0, 0].get_xticklabels()[1].get_text().endswith("%")
    assert axes[0, 1].get_xlabel() == "months since first order"
    assert "%" in axes[0, 1].get_ylabel()
    assert all(t.get_text().endswith("%") for t in axes[0, 1].get_yticklabels())
    assert f"({sign})" in axes[0, 2].get_ylabel()
    ticks = [t.get_text() for t in axes[0, 2].get_yticklabels()]
    assert all(t.startswith(f"{sign} ") for t in ticks) and any("," in t for t in ticks)
    assert "(count)" in axes[1, 0].get_xlabel()
    assert "(people)" in axes[1, 1].get_xlabel()
    assert axes[1, 2].get_xlabel() == "months since first order"
    plt.close(fig)


def _small_table(metric: str) -> pd.DataFrame:
    """Five monthly cohorts, as_of inside May 2026 (the partial period), by hand."""
    nan = float("nan")
    table = pd.DataFrame(
        {
            "cohort_size": [10, 30, 20, 40, 50],
            0: [1.0, 1.0, 1.0, 1.0, 1.0],
            1: [0.5, 0.3, 0.1, 0.6, nan],
            2: [0.2, 0.4, 0.7, nan, nan],
            3: [0.1, 0.9, nan, nan, nan],
            4: [0.8, nan, nan, nan, nan],
        },
        index=pd.PeriodIndex(["2026-01", "2026-02", "2026-03", "2026-04", "2026-05"], freq="M"),
    )
    table.index.name = "cohort"
    table.attrs = {
        "period": "M",
        "by": "first_order",
        "metric": metric,
        "partial_period": "2026-05",
    }
    return table


def _line(ax, label):
    return next(line for line in ax.lines if line.get_label() == label)


def test_average_curve_is_the_size_weighted_mean_of_full_periods():
    _, ax = plt.subplots()
    plot_retention_curves(_small_table("customers"), ax=ax)
    average = _line(ax, "average, weighted by cohort size")
    # May is partial: offset 1 of April, 2 of March, 3 of February and 4 of January are
    # not drawn. Offset 1: Jan 0.5 (n=10), Feb 0.3 (30), Mar 0.1 (20) -> (5 + 9 + 2) / 60.
    # Offset 2: Jan 0.2 (10), Feb 0.4 (30) -> (2 + 12) / 40. Offset 3: Jan 0.1 -> 0.1.
    # Offset 4: nothing full. Retention starts at offset 1 (offset 0 is 100% by design).
    np.testing.assert_allclose(average.get_xdata(), [1, 2, 3, 4])
    np.testing.assert_allclose(average.get_ydata(), [16 / 60, 14 / 40, 0.1, np.nan])
    assert average.get_linewidth() > max(
        line.get_linewidth() for line in ax.lines if line is not average
    )


def test_highlight_defaults_to_the_last_three_complete_cohorts():
    _, ax = plt.subplots()
    plot_ltv_curves(_small_table("ltv"), ax=ax)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    # May 2026 is the running period, so the last complete cohorts are Feb, Mar, Apr.
    assert legend[:3] == ["2026-02 (n=30)", "2026-03 (n=20)", "2026-04 (n=40)"]
    assert legend[4] == "other cohorts (2)"
    april = _line(ax, "2026-04 (n=40)")
    assert np.isnan(april.get_ydata()[1])  # its offset 1 is May: partial, not drawn
    grey = [line for line in ax.lines if line.get_label().startswith("_")]
    assert len(grey) == 2 and all(line.get_color() == "0.78" for line in grey)


def test_highlight_takes_labels_or_a_number():
    table = _small_table("customers")
    _, ax = plt.subplots()
    plot_retention_curves(table, highlight=["2026-01"], ax=ax)
    assert ax.get_legend().get_texts()[0].get_text() == "2026-01 (n=10)"
    _, ax = plt.subplots()
    # With offset 0 left out, April (only offset 1, partial) has nothing to draw: March is
    # the last complete cohort with a point.
    plot_retention_curves(table, highlight=1, ax=ax)
    assert ax.get_legend().get_texts()[0].get_text() == "2026-03 (n=20)"
    with pytest.raises(DataError, match=r"'1999-01'.*2026-01 to 2026-05"):
        plot_retention_curves(table, highlight=["1999-01"], ax=ax)
    with pytest.raises(DataError, match="`highlight`"):
        plot_retention_curves(table, highlight="2026-01", ax=ax)  # type: ignore[arg-type]
