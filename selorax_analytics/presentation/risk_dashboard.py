"""The cash-on-delivery risk dashboard: move the threshold, see who leaves and what it saves."""

from __future__ import annotations

import ipywidgets as widgets
import pandas as pd

from selorax_analytics.analytics.delivery_risk import DeliveryRisk, delivery_risk
from selorax_analytics.presentation import numbers
from selorax_analytics.presentation._widgets import (
    Dashboard,
    guarded,
    show_message,
    show_plot,
    show_table,
)
from selorax_analytics.presentation.risk_plotting import plot_delivery_risk

#: Columns of the excluded people's table, riskiest first.
EXCLUDED_COLUMNS = ("identity_id", "city", "area", "settled", "failed", "risk", "shipping_lost")


def excluded_summary(risk: DeliveryRisk, threshold: float) -> dict[str, float]:
    """What leaving out people above ``threshold`` would have meant over the history.

    ``people`` left out, their ``refused`` parcels and the ``saved`` shipping both ways of
    those parcels (taka, the orders' own ``shipping``), and the ``delivered`` COD orders they
    also placed (business a shop would have had to take prepaid or lose).
    """
    out = risk.people.loc[risk.people["risk"] > threshold]
    return {
        "people": float(len(out)),
        "refused": float(out["refused"].sum()),
        "saved": float(out["shipping_lost"].sum()),
        "delivered": float(out["delivered"].sum()),
    }


def delivery_risk_dashboard(
    customers: pd.DataFrame,
    orders: pd.DataFrame,
    *,
    as_of: object,
    threshold: float = 0.4,
) -> Dashboard:
    """Cash-on-delivery risk: move the threshold; see who is excluded and what it saves.

    Parameters
    ----------
    customers, orders
        Customers and orders frames, as for :func:`~selorax_analytics.delivery_risk`.
    as_of
        Last day of the analysis (Asia/Dhaka calendar day).
    threshold
        Initial risk above which people would not be offered cash on delivery.

    Returns
    -------
    Dashboard
        Control ``threshold`` (0.05 to 0.95); outputs ``status`` (people excluded, their
        refused parcels, the shipping both ways they cost, the delivered orders they also
        placed), ``people`` (the risk distribution with the threshold) and ``excluded`` (the
        riskiest excluded people).

    Examples
    --------
    >>> sa.delivery_risk_dashboard(customers, orders, as_of="2026-07-01")  # doctest: +SKIP
    """
    risk = delivery_risk(customers, orders, as_of=as_of)
    controls: dict[str, widgets.Widget] = {
        "threshold": widgets.FloatSlider(
            description="Exclude risk above",
            value=threshold,
            min=0.05,
            max=0.95,
            step=0.05,
            readout_format=".0%",
            continuous_update=False,
            style={"description_width": "initial"},
        ),
    }
    outputs = {k: widgets.Output() for k in ("status", "people", "excluded")}

    def redraw() -> None:
        limit = float(controls["threshold"].value)
        seen = excluded_summary(risk, limit)
        show_message(
            outputs["status"],
            f"Above {numbers.percent(limit, 0)}: {numbers.count(seen['people'])} "
            f"{'person' if seen['people'] == 1 else 'people'}, who "
            f"refused {numbers.count(seen['refused'])} parcels (shipping both ways "
            f"{numbers.taka(seen['saved'])}) and took {numbers.count(seen['delivered'])} "
            f"delivered cash-on-delivery orders.",
        )
        show_plot(
            outputs["people"],
            lambda ax: plot_delivery_risk(risk, view="people", threshold=limit, ax=ax),
            width=6,
        )
        chosen = risk.people.loc[risk.people["risk"] > limit, list(EXCLUDED_COLUMNS)]
        show_table(
            outputs["excluded"],
            chosen.head(20),
            caption=f"The riskiest excluded people (of {len(chosen):,})",
            formats={"risk": numbers.percent, "shipping_lost": numbers.taka},
        )

    controls["threshold"].observe(guarded(outputs["status"], redraw), names="value")
    redraw()
    rows = [
        controls["threshold"],
        outputs["status"],
        widgets.HBox([outputs["people"], outputs["excluded"]]),
    ]
    return Dashboard("Delivery risk dashboard", controls, outputs, rows)
