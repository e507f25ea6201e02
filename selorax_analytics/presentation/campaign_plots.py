"""The plot of a campaign report: target against hold-out, with each group's interval."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from selorax_analytics.analytics.campaigns.report import CampaignReport
from selorax_analytics.exceptions import DataError
from selorax_analytics.presentation import numbers
from selorax_analytics.presentation._axes import (
    legend_outside,
    percent_axis,
    taka_axis,
    taka_sign,
    taka_unit,
)
from selorax_analytics.presentation._campaign_tables import interval, signed

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_campaign"]

#: Bar colours: the targeted people, the held-out people.
GROUP_COLOURS = {"target": "#1f77b4", "holdout": "#bbbbbb"}
GROUP_LABELS = {"target": "targeted", "holdout": "held out"}
#: Room above the highest whisker, as a share of it, for the value labels (under the title).
HEADROOM = 0.3
_PANELS = ("conversion", "revenue_per_person")


def plot_campaign(
    report: CampaignReport, *, axes: tuple[Axes, Axes] | None = None
) -> tuple[Axes, Axes]:
    """Conversion and revenue per person of the targeted and held-out people, side by side.

    Each bar carries its group's interval as a whisker (Wilson for conversion, bootstrap for
    revenue per person, at the report's confidence) and its value above the whisker, inside
    the axes and clear of the title; the title of each panel gives the difference and its
    interval; the legend sits outside, right of the panels.

    Parameters
    ----------
    report : CampaignReport
        From :func:`selorax_analytics.campaign_report`.
    axes : pair of Axes, optional
        Where to draw the two panels; a new figure of two panels if not given.

    Returns
    -------
    tuple of Axes
        The conversion panel and the revenue-per-person panel.

    Examples
    --------
    >>> sa.plot_campaign(sa.campaign_report(record, orders))  # doctest: +SKIP
    """
    if not isinstance(report, CampaignReport):
        raise DataError(
            f"`report` must be what campaign_report returned, got {type(report).__name__}."
        )
    if axes is None:
        import matplotlib.pyplot as plt

        _, pair = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
        axes = (pair[0], pair[1])
    for ax, metric in zip(axes, _PANELS, strict=True):
        _panel(ax, report, metric)
    legend_outside(axes[1])
    return axes


def _texts(metric: str) -> tuple[str, Callable[[Any], str], Callable[[Any], str]]:
    """Axis label, the value labels' text, and the difference's text in the title."""
    sign = taka_sign()
    if metric == "conversion":
        points = signed(lambda v: numbers.number(float(v) * 100, 1))
        return "conversion: share who bought (%)", numbers.percent, points
    return (
        f"revenue per person in taka {taka_unit()}",
        lambda v: numbers.taka(v).replace(numbers.TAKA, sign),
        lambda v: signed(numbers.taka)(v).replace(numbers.TAKA, sign),
    )


def _panel(ax: Axes, report: CampaignReport, metric: str) -> None:
    label, value_text, difference_text = _texts(metric)
    groups = report.groups
    tops = []
    for x, group in enumerate(("target", "holdout")):
        value = float(groups[metric].to_dict()[group])
        low = float(groups[f"{metric}_low"].to_dict()[group])
        high = float(groups[f"{metric}_high"].to_dict()[group])
        ax.bar(x, value, color=GROUP_COLOURS[group], label=GROUP_LABELS[group], width=0.6)
        ax.errorbar(x, value, yerr=[[value - low], [high - value]], color="black", capsize=6)
        ax.annotate(value_text(value), (x, high), textcoords="offset points", xytext=(0, 4),
                    ha="center", va="bottom")  # fmt: skip
        tops.append(high if high == high else value)  # a missing interval: the bar's top
    ax.set_xticks([0, 1], [GROUP_LABELS[g] for g in ("target", "holdout")])
    ax.set_ylabel(label)
    if metric == "conversion":
        percent_axis(ax.yaxis)
    else:
        taka_axis(ax.yaxis)
    top = max([t for t in tops if t == t] or [0.0])
    ax.set_ylim(0, top * (1 + HEADROOM) if top > 0 else 1)
    effect = report.effects.loc[metric]
    unit = " points" if metric == "conversion" else ""
    ends = interval(effect["low"], effect["high"], difference_text, unit)
    if metric != "conversion":
        ends = interval(effect["low"], effect["high"], value_text)
    ax.set_title(
        f"difference {difference_text(effect['difference'])}{unit}\n"
        f"({report.confidence:.0%} interval {ends or 'not known'})",
        fontsize=10,
    )
