"""CLV plots: the drawn values are the model's, the axes are labelled, the given Axes is used."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from selorax_analytics.analytics.clv.value import BetaGeoFit, calibration_holdout
from selorax_analytics.exceptions import DataError
from selorax_analytics.presentation.clv_plotting import (
    plot_calibration_holdout,
    plot_expected_purchases_matrix,
    plot_probability_alive_matrix,
)

MODEL = BetaGeoFit(
    r=0.243,
    alpha=4.414,
    a=0.793,
    b=2.426,
    log_likelihood=math.nan,
    n_customers=2357,
    iterations=0,
    message="",
    max_frequency=29,
    max_T=38.86,
)


def p_alive_by_hand(x: int, t_x: float, T: float) -> float:
    r, alpha, a, b = 0.243, 4.414, 0.793, 2.426
    if x == 0:
        return 1.0
    return 1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x))


def test_probability_alive_matrix_cells():
    _fig, ax = plt.subplots()
    out = plot_probability_alive_matrix(MODEL, max_frequency=10, T=40.0, ax=ax)
    assert out is ax
    image = ax.get_images()[0]
    values = np.asarray(image.get_array(), dtype=float)
    assert values.shape == (11, 101)  # frequency 0..10, recency 0..40 in 0.4 steps
    assert values[0, 0] == 1.0
    assert np.isnan(np.ma.filled(image.get_array(), np.nan)[0, 1:]).all()  # impossible cells
    assert values[3, 50] == pytest.approx(p_alive_by_hand(3, 20.0, 40.0))
    assert values[10, 100] == pytest.approx(p_alive_by_hand(10, 40.0, 40.0))
    assert values[10, 5] == pytest.approx(p_alive_by_hand(10, 2.0, 40.0))
    assert ax.get_xlabel().startswith("Recency") and ax.get_ylabel().startswith("Frequency")
    assert "T = 40" in ax.get_title()
    assert image.get_clim() == (0.0, 1.0)


def test_expected_purchases_matrix_uses_the_horizon():
    _fig, ax = plt.subplots()
    plot_expected_purchases_matrix(MODEL, t=39, ax=ax)
    values = np.ma.filled(ax.get_images()[0].get_array(), np.nan)
    assert values.shape == (30, 101)  # defaults: frequency up to 29, T = 38.86
    # the worked example: x = 2, t_x close to 30.43 at T = 38.86
    row = pd.DataFrame({"frequency": [2], "recency": [38.86 * 78 / 100], "T": [38.86]})
    assert values[2, 78] == pytest.approx(MODEL.expected_purchases(row, 39).iloc[0])
    assert 1.0 < values[2, 78] < 1.5
    assert "next 39" in ax.get_title()


def test_matrix_defaults_to_current_axes():
    _fig, ax = plt.subplots()
    assert plot_probability_alive_matrix(MODEL) is ax


def test_matrix_rejects_bad_input():
    with pytest.raises(DataError, match="fit_bgnbd"):
        plot_probability_alive_matrix(pd.DataFrame())
    with pytest.raises(DataError, match="max_frequency"):
        plot_expected_purchases_matrix(MODEL, max_frequency=0)


def test_calibration_holdout_plot(demo_frames):
    result = calibration_holdout(
        demo_frames[1], calibration_end="2026-01-01", holdout_end="2026-07-01"
    )
    _fig, ax = plt.subplots()
    assert plot_calibration_holdout(result, max_frequency=4, ax=ax) is ax
    actual, predicted = ax.get_lines()
    customers = result.customers
    binned = customers.assign(bin=customers["frequency"].clip(upper=4)).groupby("bin")
    np.testing.assert_allclose(actual.get_ydata(), binned["actual"].mean())
    np.testing.assert_allclose(predicted.get_ydata(), binned["predicted"].mean())
    np.testing.assert_array_equal(actual.get_xdata(), [0, 1, 2, 3, 4])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2", "3", "4+"]
    assert f"MAE {result.mae:.3f}" in ax.get_title()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["actual", "predicted"]
    with pytest.raises(DataError, match="calibration_holdout"):
        plot_calibration_holdout(customers)


def test_matrices_say_days_and_percent():
    fig, (left, right) = plt.subplots(1, 2)
    plot_probability_alive_matrix(MODEL, max_frequency=5, T=40.0, ax=left)
    plot_expected_purchases_matrix(MODEL, t=90, max_frequency=5, T=40.0, ax=right)
    fig.canvas.draw()
    assert "T = 40 days" in left.get_title()
    assert "(days " in left.get_xlabel() and "(repeat purchases, count)" in left.get_ylabel()
    bar = left.get_images()[0].colorbar
    assert [t.get_text() for t in bar.ax.get_yticklabels()][-1] == "100%"
    assert "in the next 90 days" in right.get_title()
    weeks, ax = plt.subplots()
    plot_probability_alive_matrix(MODEL, T=10.0, unit="weeks", ax=ax)
    assert "T = 10 weeks" in ax.get_title() and "(weeks " in ax.get_xlabel()
    plt.close(fig)
    plt.close(weeks)


def test_calibration_legend_lies_outside_the_data(demo_frames):
    result = calibration_holdout(
        demo_frames[1], calibration_end="2026-01-01", holdout_end="2026-07-01"
    )
    fig, ax = plt.subplots()
    plot_calibration_holdout(result, ax=ax)
    fig.canvas.draw()
    legend, data = ax.get_legend().get_window_extent(), ax.get_window_extent()
    assert legend.x0 >= data.x1
    assert "(count)" in ax.get_xlabel() and "-day holdout" in ax.get_ylabel()
    plt.close(fig)
