"""Plots of cash-on-delivery risk: areas ranked with their intervals, and people's risks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np

from selorax_analytics.analytics._frames import check_option
from selorax_analytics.analytics.delivery_risk import DeliveryRisk
from selorax_analytics.exceptions import DataError
from selorax_analytics.presentation._axes import axes, legend_outside

if TYPE_CHECKING:
    from matplotlib.axes import Axes

RISK_VIEWS = ("areas", "people")
#: Bands of settled COD orders a person's risk rests on, for the people view. People with COD
#: orders but none settled yet (open, or cancelled before confirmation) carry the store's rate.
EVIDENCE_BANDS = (
    (0, 0, "no settled order yet"),
    (1, 1, "1 settled order"),
    (2, 3, "2-3 settled"),
    (4, 10**9, "4 or more"),
)


def plot_delivery_risk(
    risk: DeliveryRisk,
    *,
    view: Literal["areas", "people"] = "areas",
    top: int = 15,
    threshold: float | None = None,
    ax: Axes | None = None,
) -> Axes:
    """The risk that the next cash-on-delivery order fails, by area or across people.

    Parameters
    ----------
    risk
        What :func:`~selorax_analytics.delivery_risk` returned.
    view
        ``"areas"``: the ``top`` riskiest areas as bars with their credible intervals and the
        store's rate; ``"people"``: how many people have each risk, by how many settled orders
        it rests on (every person with a COD order, also those with none settled yet).
    top
        Areas shown (``"areas"`` view).
    threshold
        A risk to mark with a line (such as an export's ``exclude_risk_above``).
    ax
        Axes to draw on; the current Axes by default.

    Returns
    -------
    Axes
    """
    if not isinstance(risk, DeliveryRisk):
        raise DataError(
            f"`risk` must be what sa.delivery_risk returned, got {type(risk).__name__}."
        )
    check_option(view, RISK_VIEWS, name="view")
    ax = axes(ax)
    if view == "areas":
        _areas(risk, top, ax)
    else:
        _people(risk, ax)
    if threshold is not None:
        ax.axvline(
            100 * threshold, color="#b00020", linestyle=":", label=f"threshold {threshold:.0%}"
        )
    legend_outside(ax, frameon=False)
    return ax


def _areas(risk: DeliveryRisk, top: int, ax: Axes) -> None:
    areas = risk.areas.head(top).iloc[::-1]
    labels = areas["area"] + ", " + areas["city"]
    y = np.arange(len(areas))
    low = 100 * (areas["risk"] - areas["risk_low"]).to_numpy()
    high = 100 * (areas["risk_high"] - areas["risk"]).to_numpy()
    ax.barh(y, 100 * areas["risk"], color="#4c72b0", label="risk (posterior mean)")
    ax.errorbar(
        100 * areas["risk"], y, xerr=[low, high], fmt="none", ecolor="#333333",
        label=f"{risk.interval:.0%} credible interval",
    )  # fmt: skip
    ax.scatter(
        100 * areas["observed_rate"], y, marker="|", s=120, color="#dd8452", zorder=3,
        label="observed rate",
    )  # fmt: skip
    ax.axvline(100 * risk.areas_prior.mean, color="#555555", linestyle="--", label="store's rate")
    ax.set_yticks(y, labels)
    ax.set(
        xlabel="risk that the next COD order fails (%)",
        ylabel="area, city",
        title=f"Cash-on-delivery risk by area (top {len(areas)}), as of {risk.as_of}",
    )


def _people(risk: DeliveryRisk, ax: Axes) -> None:
    people = risk.people
    bins = [float(b) for b in np.linspace(0, 100, 41)]
    stacks, names = [], []
    for low, high, name in EVIDENCE_BANDS:
        band = people["settled"].between(low, high)
        stacks.append(100 * people.loc[band, "risk"].to_numpy())
        names.append(f"{name} ({int(band.sum()):,} people)")
    ax.hist(stacks, bins=bins, stacked=True, label=names)
    ax.axvline(100 * risk.people_prior.mean, color="#555555", linestyle="--", label="store's rate")
    ax.set_yscale("log")
    ax.set(
        xlabel="risk that the next COD order fails (%)",
        ylabel="people (log scale)",
        title=f"Cash-on-delivery risk per person, as of {risk.as_of}",
    )
