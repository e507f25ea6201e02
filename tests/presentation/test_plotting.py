"""Plots: each draws on the given Axes, returns it, and is labelled."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
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
    plot_segments,
    rfm_segments,
    segment_summary,
)
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
    assert labelled(ax) and len(ax.lines) == 30
    _, ax2 = plt.subplots()
    assert plot_ltv_curves(results["ltv"], ax=ax2) is ax2
    assert labelled(ax2) and len(ax2.lines) == 30
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
