"""plot_campaign: the bars and whiskers are the report's, the units are written, the legend is out."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import selorax_analytics as sa
from selorax_analytics.analytics.campaigns.records import campaign_from_record
from tests.analytics.test_campaigns import _orders, _record


@pytest.fixture(scope="module")
def report():
    # 30 of 200 targeted people bought (one order of 1,000 taka), 15 of 200 held out.
    orders = _orders([*range(1, 31), *range(10001, 10016)])
    return sa.campaign_report(campaign_from_record(_record(200, 200)), orders)


def test_bars_and_whiskers_are_the_report_values(report):
    conversion_ax, revenue_ax = sa.plot_campaign(report)
    heights = [p.get_height() for p in conversion_ax.patches]
    assert heights == pytest.approx([0.15, 0.075])
    assert [p.get_height() for p in revenue_ax.patches] == pytest.approx([150.0, 75.0])
    # whisker of the targeted bar: Wilson 30/200, 0.107136 to 0.206056 (hand computed)
    segments = conversion_ax.collections[0].get_segments()
    assert np.asarray(segments[0])[:, 1] == pytest.approx([0.107136, 0.206056], abs=1e-5)


def test_units_legend_and_given_axes(report):
    fig, pair = plt.subplots(1, 2)
    returned = sa.plot_campaign(report, axes=(pair[0], pair[1]))
    assert returned == (pair[0], pair[1])
    assert "share" in pair[0].get_ylabel() and "taka" in pair[1].get_ylabel()
    legend = pair[1].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["targeted", "held out"]
    anchor = legend.get_bbox_to_anchor().transformed(pair[1].transAxes.inverted())
    assert anchor.x0 >= 1.0  # outside the data, to the right
    assert "+7.5 points" in pair[0].get_title()
    fig.canvas.draw()
    assert pair[0].get_yticklabels()[-1].get_text().endswith("%")


def test_refuses_what_is_not_a_report():
    with pytest.raises(sa.DataError, match="campaign_report"):
        sa.plot_campaign(pd.DataFrame())


def test_value_labels_sit_inside_the_axes_clear_of_the_title(report):
    # The demo store's shape: the targeted bar's whisker is the tallest thing in each panel.
    fig, pair = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    sa.plot_campaign(report, axes=(pair[0], pair[1]))
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax, expected in zip(pair, (["15.0%", "7.5%"], ["150", "75"]), strict=True):
        labels = [t for t in ax.texts if t.get_text()]
        assert [t.get_text()[-len(e) :] for t, e in zip(labels, expected, strict=True)] == expected
        box, title = ax.get_window_extent(renderer), ax.title.get_window_extent(renderer)
        for label in labels:
            extent = label.get_window_extent(renderer)
            assert box.y0 <= extent.y0 and extent.y1 <= box.y1  # inside the axes
            assert box.x0 <= extent.x0 and extent.x1 <= box.x1
            assert not extent.overlaps(title) and extent.y1 < title.y0
    legend = pair[1].get_legend().get_window_extent(renderer)
    assert legend.x0 >= pair[1].get_window_extent(renderer).x1  # outside, right of the data
    assert "৳" in pair[1].get_ylabel() or "Tk" in pair[1].get_ylabel()
    plt.close(fig)
