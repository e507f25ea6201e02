"""``plot_delivery_risk``: what the bars show is the risk frame's, the legend sits outside."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import LineCollection

import selorax_analytics as sa
from selorax_analytics.sandbox import DEMO_AS_OF


@pytest.fixture(scope="module")
def risk(demo_frames):
    customers, orders = demo_frames
    return sa.delivery_risk(customers, orders, as_of=DEMO_AS_OF)


@pytest.fixture
def ax():
    fig, ax = plt.subplots(figsize=(8, 5))
    yield ax
    plt.close(fig)


def _legend_outside(ax) -> bool:
    """After drawing, the legend's box lies right of the Axes' data area."""
    ax.figure.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    return legend.x0 >= ax.get_window_extent().x1


def test_areas_bars_are_the_riskiest_areas_in_percent(risk, ax):
    assert sa.plot_delivery_risk(risk, top=10, ax=ax) is ax
    top = risk.areas.head(10)
    bars = ax.patches
    # drawn bottom-up, so the riskiest area is the last bar, at the top
    assert [b.get_width() for b in bars[::-1]] == pytest.approx((100 * top["risk"]).tolist())
    labels = [t.get_text() for t in ax.get_yticklabels()][::-1]
    assert labels == [f"{a}, {c}" for a, c in zip(top["area"], top["city"], strict=True)]
    assert ax.get_xlabel().endswith("(%)") and ax.get_ylabel() == "area, city"
    assert "as of 2026-07-01" in ax.get_title()
    store_rate = [line for line in ax.get_lines() if line.get_label() == "store's rate"]
    assert store_rate[0].get_xdata()[0] == pytest.approx(100 * risk.areas_prior.mean)
    assert _legend_outside(ax)


def test_areas_interval_whiskers_span_the_credible_interval(risk, ax):
    sa.plot_delivery_risk(risk, top=5, ax=ax)
    top = risk.areas.head(5).iloc[::-1]
    (whiskers,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    spans = [segment[:, 0] for segment in whiskers.get_segments()]
    assert np.allclose([s.min() for s in spans], 100 * top["risk_low"])
    assert np.allclose([s.max() for s in spans], 100 * top["risk_high"])


def test_people_histogram_counts_every_person_once(risk, ax):
    sa.plot_delivery_risk(risk, view="people", threshold=0.4, ax=ax)
    assert ax.get_xlabel().endswith("(%)") and "people" in ax.get_ylabel()
    # stacked bars: the top of the last band's bars is the number of people in each bin
    bins = np.linspace(0, 100, 41)
    expected, _ = np.histogram(100 * risk.people["risk"], bins=bins)
    last_band = ax.containers[-1]
    tops = [bar.get_y() + bar.get_height() for bar in last_band]
    assert tops == pytest.approx(expected.tolist())
    # the legend counts people by the settled orders their risk rests on
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    one = int((risk.people["settled"] == 1).sum())
    none = int((risk.people["settled"] == 0).sum())
    assert f"1 settled order ({one:,} people)" in texts
    assert f"no settled order yet ({none:,} people)" in texts
    threshold = [line for line in ax.get_lines() if line.get_label() == "threshold 40%"]
    assert threshold[0].get_xdata()[0] == pytest.approx(40)
    assert _legend_outside(ax)


def test_bad_arguments_are_refused(risk, ax):
    with pytest.raises(sa.DataError, match=r"sa\.delivery_risk"):
        sa.plot_delivery_risk(risk.people, ax=ax)  # type: ignore[arg-type]
    with pytest.raises(sa.DataError, match="`view` must be one of"):
        sa.plot_delivery_risk(risk, view="cities", ax=ax)  # type: ignore[arg-type]
