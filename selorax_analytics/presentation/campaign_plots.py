"""The plot of a campaign report: target against hold-out, with each group's interval."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from selorax_analytics.analytics.campaigns.report import CampaignReport
from selorax_analytics.exceptions import DataError
from selorax_analytics.presentation import numbers

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_campaign"]

#: Bar colours: the targeted people, the held-out people.
GROUP_COLOURS = {"target": "#1f77b4", "holdout": "#bbbbbb"}
GROUP_LABELS = {"target": "targeted", "holdout": "held out"}
_PANELS = (
    ("conversion", "conversion (share who bought)", numbers.percent),
    ("revenue_per_person", "revenue per person (taka)", numbers.count),
)


def plot_campaign(
    report: CampaignReport, *, axes: tuple[Axes, Axes] | None = None
) -> tuple[Axes, Axes]:
    """Conversion and revenue per person of the targeted and held-out people, side by side.

    Each bar carries its group's interval as a whisker (Wilson for conversion, bootstrap for
    revenue per person, at the report's confidence); the title of each panel gives the
    difference and its interval.

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
    for ax, (metric, label, fmt) in zip(axes, _PANELS, strict=True):
        _panel(ax, report, metric, label, fmt)
    handles, labels = axes[1].get_legend_handles_labels()
    axes[1].legend(handles, labels, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
    return axes


def _panel(
    ax: Axes, report: CampaignReport, metric: str, label: str, fmt: Callable[[Any], str]
) -> None:
    from matplotlib.ticker import FuncFormatter

    groups = report.groups
    for x, group in enumerate(("target", "holdout")):
        value = float(groups[metric].to_dict()[group])
        low = float(groups[f"{metric}_low"].to_dict()[group])
        high = float(groups[f"{metric}_high"].to_dict()[group])
        ax.bar(x, value, color=GROUP_COLOURS[group], label=GROUP_LABELS[group], width=0.6)
        ax.errorbar(x, value, yerr=[[value - low], [high - value]], color="black", capsize=6)
        ax.annotate(fmt(value), (x, high), textcoords="offset points", xytext=(0, 7),
                    ha="center")  # fmt: skip
    ax.set_xticks([0, 1], [GROUP_LABELS[g] for g in ("target", "holdout")])
    ax.set_ylabel(label)
    ticks = (lambda v: numbers.percent(v, 0)) if metric == "conversion" else fmt
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: ticks(v)))
    ax.set_ylim(bottom=0)
    ax.margins(y=0.15)
    effect = {k: float(v) for k, v in report.effects.loc[metric, list(_ENDS)].to_dict().items()}
    if metric == "conversion":
        say = [_signed(effect[k] * 100, lambda v: numbers.number(v, 1)) for k in _ENDS]
        unit = "points"
    else:
        say = [_signed(effect[k], numbers.count) for k in _ENDS]
        unit = "taka"
    ax.set_title(
        f"difference {say[0]} {unit}\n({report.confidence:.0%} interval {say[1]} to {say[2]})",
        fontsize=10,
    )


_ENDS = ("difference", "low", "high")


def _signed(value: float, fmt: Callable[[float], str]) -> str:
    """``+1.5`` or ``-1.5`` through ``fmt``; blank when missing."""
    text = fmt(abs(value))
    return text if not text or value == 0 else ("+" if value > 0 else "-") + text
