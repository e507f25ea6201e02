"""Plots of the CLV models: matrices over frequency and recency, and the calibration check.

Each takes a result (a fitted :class:`~selorax_analytics.analytics.clv.value.BetaGeoFit` or the
:class:`~selorax_analytics.analytics.clv.value.CalibrationHoldout` of :func:`calibration_holdout`), draws on
``ax`` (the current Axes if none) and returns it.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from selorax_analytics.analytics.clv.value import BetaGeoFit, CalibrationHoldout
from selorax_analytics.exceptions import DataError
from selorax_analytics.presentation._axes import legend_outside, percent_axis

__all__ = [
    "plot_calibration_holdout",
    "plot_expected_purchases_matrix",
    "plot_probability_alive_matrix",
]

_RECENCY_STEPS = 101


def plot_probability_alive_matrix(
    model: BetaGeoFit,
    *,
    max_frequency: int | None = None,
    T: float | None = None,
    unit: str = "days",
    ax: Axes | None = None,
) -> Axes:
    """Heat map of the probability that a customer is alive, by frequency and recency.

    Parameters
    ----------
    model : BetaGeoFit
        A fitted model, from :func:`selorax_analytics.fit_bgnbd`.
    max_frequency : int, optional
        Largest repeat count shown (rows); defaults to the largest one the model was fitted on.
    T : float, optional
        Age of the customers shown, in the model's time unit; recency runs from 0 to ``T``.
        Defaults to the largest ``T`` the model was fitted on.
    unit : str, default "days"
        The model's time unit, written on the axes: days for summaries of
        :func:`selorax_analytics.customer_summary` with its default ``freq="D"``.
    ax : Axes, optional
        Where to draw; the current Axes if not given.

    Returns
    -------
    Axes
        With one image whose cell ``(frequency, recency)`` holds the probability; cells with
        frequency 0 and recency > 0 cannot happen and are left blank.

    Examples
    --------
    >>> plot_probability_alive_matrix(fit_bgnbd(summary))  # doctest: +SKIP
    """
    grid = _grid(model, max_frequency, T)
    values = model.probability_alive(grid)
    ax = _matrix(grid, values, "Probability alive (%)", unit, ax, vmin=0.0, vmax=1.0)
    percent_axis(ax.images[0].colorbar.ax.yaxis)  # type: ignore[union-attr]
    return ax


def plot_expected_purchases_matrix(
    model: BetaGeoFit,
    *,
    t: float = 1.0,
    max_frequency: int | None = None,
    T: float | None = None,
    unit: str = "days",
    ax: Axes | None = None,
) -> Axes:
    """Heat map of the purchases expected in the next ``t`` time units, by frequency and recency.

    Parameters
    ----------
    model : BetaGeoFit
        A fitted model, from :func:`selorax_analytics.fit_bgnbd`.
    t : float, default 1.0
        The horizon, in the model's time unit (days for :func:`customer_value` summaries).
    max_frequency, T, unit, ax
        As for :func:`plot_probability_alive_matrix`.

    Returns
    -------
    Axes
        With one image of expected purchases per ``(frequency, recency)`` cell.

    Examples
    --------
    >>> plot_expected_purchases_matrix(fit_bgnbd(summary), t=90)  # doctest: +SKIP
    """
    grid = _grid(model, max_frequency, T)
    values = model.expected_purchases(grid, t)
    return _matrix(grid, values, f"Expected purchases in the next {t:g} {unit}", unit, ax)


def plot_calibration_holdout(
    result: CalibrationHoldout, *, max_frequency: int = 7, ax: Axes | None = None
) -> Axes:
    """Mean predicted against actual holdout purchases per calibration frequency.

    Parameters
    ----------
    result : CalibrationHoldout
        What :func:`selorax_analytics.calibration_holdout` returned.
    max_frequency : int, default 7
        Customers with more calibration repeat purchases share the last bin (``7+``).
    ax : Axes, optional
        Where to draw; the current Axes if not given.

    Returns
    -------
    Axes
        Two lines, ``actual`` and ``predicted``; the title reports MAE and the totals.

    Examples
    --------
    >>> plot_calibration_holdout(calibration_holdout(orders, calibration_end="2026-01-01",
    ...                                              holdout_end="2026-07-01"))  # doctest: +SKIP
    """
    if not isinstance(result, CalibrationHoldout):
        raise DataError(
            f"`result` must be what `calibration_holdout` returns, got {type(result).__name__}."
        )
    table = result.by_frequency(max_frequency)
    ax = ax or plt.gca()
    positions = table["frequency"].to_numpy()
    ax.plot(positions, table["actual"], marker="o", label="actual")
    ax.plot(positions, table["predicted"], marker="s", linestyle="--", label="predicted")
    labels = [str(f) for f in positions]
    if len(labels) and positions[-1] == max_frequency:
        labels[-1] = f"{max_frequency}+"
    ax.set_xticks(positions, labels)
    ax.set(
        xlabel="Repeat purchases in the calibration period (count)",
        ylabel=f"Mean purchases per customer\nin the {result.holdout_days:g}-day holdout",
        title=(
            f"MAE {result.mae:.3f} per customer; holdout total {result.total_actual:,.0f} "
            f"actual, {result.total_predicted:,.0f} predicted"
        ),
    )
    legend_outside(ax)
    return ax


def _grid(model: BetaGeoFit, max_frequency: int | None, T: float | None) -> pd.DataFrame:
    if not isinstance(model, BetaGeoFit):
        raise DataError(f"`model` must be what `fit_bgnbd` returns, got {type(model).__name__}.")
    top = int(model.max_frequency if max_frequency is None else max_frequency)
    age = float(model.max_T if T is None else T)
    if top < 1 or not np.isfinite(age) or age <= 0:
        raise DataError(
            f"`max_frequency` must be at least 1 and `T` a number > 0, got {top!r} and {age!r}."
        )
    frequency, recency = np.meshgrid(np.arange(top + 1), np.linspace(0.0, age, _RECENCY_STEPS))
    grid = pd.DataFrame({"frequency": frequency.ravel(), "recency": recency.ravel(), "T": age})
    return grid[(grid["frequency"] > 0) | (grid["recency"] == 0)]


def _matrix(
    grid: pd.DataFrame,
    values: pd.Series,
    label: str,
    unit: str,
    ax: Axes | None,
    *,
    vmin: float | None = None,
    vmax: float | None = None,
) -> Axes:
    table = (
        grid.assign(value=values)
        .pivot(index="frequency", columns="recency", values="value")
        .sort_index()
        .sort_index(axis=1)
    )
    ax = ax or plt.gca()
    recency = table.columns.to_numpy(float)
    frequency = table.index.to_numpy(float)
    image = ax.imshow(
        table.to_numpy(float),
        origin="lower",
        aspect="auto",
        interpolation="nearest",
        extent=(recency[0], recency[-1], frequency[0] - 0.5, frequency[-1] + 0.5),
        vmin=vmin,
        vmax=vmax,
        cmap="viridis",
    )
    ax.figure.colorbar(image, ax=ax, label=label)
    ax.set(
        xlabel=f"Recency ({unit} from the first purchase to the last)",
        ylabel="Frequency (repeat purchases, count)",
        title=f"{label.removesuffix(' (%)')},\ncustomers of age T = {recency[-1]:g} {unit}",
    )
    return ax
