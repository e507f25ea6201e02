"""The dashboards of customers over time: cohorts (retention, LTV) and guests who sign up.

Built like every dashboard of :mod:`~selorax_analytics.presentation.dashboards` (also imported
from there): a :class:`Dashboard` of controls and outputs, recomputed through the public
analytics and plot functions when a control changes, plots on a fresh Figure shown as PNG.
"""

from __future__ import annotations

import ipywidgets as widgets
import pandas as pd

from selorax_analytics.analytics.cohorts import CohortMetric, cohort_table
from selorax_analytics.analytics.conversion import guest_conversion
from selorax_analytics.presentation._widgets import (
    Dashboard,
    guarded,
    percent,
    show_message,
    show_plot,
    show_table,
    taka,
)
from selorax_analytics.presentation.plotting import (
    plot_cohort_heatmap,
    plot_guest_funnel,
    plot_ltv_curves,
    plot_retention_curves,
)


def cohort_dashboard(
    orders: pd.DataFrame,
    *,
    as_of: object,
    customers: pd.DataFrame | None = None,
) -> Dashboard:
    """Acquisition cohorts: pick the period, the cohort basis and the heatmap's metric.

    Parameters
    ----------
    orders
        Orders frame (``load_orders``).
    as_of
        Last day of the analysis (Asia/Dhaka calendar day).
    customers
        Customers frame; needed for signup cohorts (without it only first-order cohorts are
        offered).

    Returns
    -------
    Dashboard
        Controls ``period`` (``"M"``, ``"W"``, ``"Q"``), ``by`` (``"first_order"`` or
        ``"signup"``) and ``metric`` (``"customers"``, ``"revenue"``, ``"orders"``,
        ``"ltv"``); outputs ``heatmap`` (the chosen metric's :func:`cohort_table`),
        ``curves`` (retention and LTV curves side by side) and ``status``.

    Examples
    --------
    >>> sa.cohort_dashboard(orders, as_of="2026-07-01", customers=customers)  # doctest: +SKIP
    """
    bases = [("First order", "first_order")]
    if customers is not None:
        bases.append(("Signup", "signup"))
    controls: dict[str, widgets.Widget] = {
        "period": widgets.Dropdown(
            description="Period", options=[("Month", "M"), ("Week", "W"), ("Quarter", "Q")]
        ),
        "by": widgets.Dropdown(description="Cohorts by", options=bases),
        "metric": widgets.Dropdown(
            description="Metric",
            options=[
                ("Retention", "customers"),
                ("Revenue", "revenue"),
                ("Orders", "orders"),
                ("LTV", "ltv"),
            ],
        ),
    }
    outputs = {k: widgets.Output() for k in ("status", "heatmap", "curves")}

    def table(metric: CohortMetric) -> pd.DataFrame:
        return cohort_table(
            orders,
            as_of=as_of,
            period=controls["period"].value,
            by=controls["by"].value,
            metric=metric,
            customers=customers,
        )

    def redraw() -> None:
        heat = table(controls["metric"].value)
        retention, ltv = table("customers"), table("ltv")
        show_plot(outputs["heatmap"], lambda ax: plot_cohort_heatmap(heat, ax=ax), width=9)
        show_plot(
            outputs["curves"],
            lambda a, b: (plot_retention_curves(retention, ax=a), plot_ltv_curves(ltv, ax=b)),
            panels=2,
            width=11,
        )
        partial = heat.attrs.get("partial_period")
        note = f"; {partial} is still running (partial)" if partial else ""
        show_message(
            outputs["status"],
            f"{len(heat):,} cohorts, {int(heat['cohort_size'].sum()):,} customers{note}.",
        )

    callback = guarded(outputs["status"], redraw)
    for control in controls.values():
        control.observe(callback, names="value")
    redraw()
    rows = [
        widgets.HBox(list(controls.values())),
        outputs["status"],
        outputs["heatmap"],
        outputs["curves"],
    ]
    return Dashboard("Cohort dashboard", controls, outputs, rows)


# -- guests ----------------------------------------------------------------------------------
def guest_dashboard(
    customers: pd.DataFrame,
    orders: pd.DataFrame,
    *,
    as_of: object,
    window_days: int = 90,
    history: pd.DataFrame | None = None,
) -> Dashboard:
    """Guest checkouts: pick the window in days; see the funnel and guests against accounts.

    Parameters
    ----------
    customers, orders
        Customers (guests included) and orders frames.
    as_of
        Last day of the analysis (Asia/Dhaka calendar day).
    window_days
        Initial window (days after the first guest order) for the funnel and cohort rates.
    history
        The cache's change history, passed on to :func:`guest_conversion`.

    Returns
    -------
    Dashboard
        Control ``window_days`` (7 to 365); outputs ``funnel`` (the guest funnel),
        ``groups`` (registered, guest and converted guest compared) and ``status``.

    Examples
    --------
    >>> sa.guest_dashboard(customers, orders, as_of="2026-07-01")  # doctest: +SKIP
    """
    controls: dict[str, widgets.Widget] = {
        "window_days": widgets.IntSlider(
            description="Window (days)",
            value=window_days,
            min=7,
            max=365,
            step=1,
            continuous_update=False,
            style={"description_width": "initial"},
        ),
    }
    outputs = {k: widgets.Output() for k in ("status", "funnel", "groups")}

    def redraw() -> None:
        window = controls["window_days"].value
        result = guest_conversion(
            customers, orders, as_of=as_of, window_days=window, history=history
        )
        show_plot(outputs["funnel"], lambda ax: plot_guest_funnel(result, ax=ax), width=6)
        show_table(
            outputs["groups"],
            result.groups,
            caption="Buying people by group",
            formats={
                "customer_share": percent,
                "revenue": taka,
                "avg_order_value": taka,
                "repeat_rate": percent,
            },
        )
        first = result.funnel["customers"].iloc[0] if len(result.funnel) else 0
        show_message(
            outputs["status"],
            f"Funnel of {first:,} guests whose first order is at least {window} days old.",
        )

    controls["window_days"].observe(guarded(outputs["status"], redraw), names="value")
    redraw()
    rows = [
        controls["window_days"],
        outputs["status"],
        widgets.HBox([outputs["funnel"], outputs["groups"]]),
    ]
    return Dashboard("Guest dashboard", controls, outputs, rows)
