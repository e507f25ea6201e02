"""Dashboards: controls and outputs in one ipywidgets widget, over the public analytics.

Each ``*_dashboard`` function builds a :class:`Dashboard` and returns it without displaying it;
show it by making it the last expression of a notebook cell (or serve the notebook with Voila).
Changing a control recomputes through the public analytics, plot and export functions only,
and replaces what the outputs show. Plots are drawn on a fresh ``matplotlib.figure.Figure``
(no pyplot state) and shown as PNG; tables as HTML.

==================  ====================================================================
dashboard           controls -> outputs
==================  ====================================================================
``rfm_dashboard``   segment, as_of, segment map, export format -> R x F heatmap of the
                    segment, segment table, the segment's customers, export result
``cohort_dashboard``  period, cohort basis, metric -> heatmap of the metric, retention
                    and LTV curves
``guest_dashboard``   window in days -> guest funnel, guest versus registered table
==================  ====================================================================

``cohort_dashboard`` and ``guest_dashboard`` are in
:mod:`~selorax_analytics.presentation.lifecycle_dashboards` and also imported from here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import ipywidgets as widgets
import pandas as pd

from selorax_analytics.analytics.rfm import (
    DEFAULT_RFM_SEGMENTS,
    RFM_SEGMENTS_WITH_LOST,
    rfm_segments,
    segment_summary,
)
from selorax_analytics.exports.segments import (
    EXPORT_FORMATS,
    FORMAT_SUFFIXES,
    export_segment,
    segment_file_stem,
)
from selorax_analytics.presentation._widgets import (
    Dashboard,
    day,
    guarded,
    percent,
    show_message,
    show_plot,
    show_table,
    taka,
)

# cohort_dashboard and guest_dashboard are public from here too (sa.* and this module).
from selorax_analytics.presentation.lifecycle_dashboards import (
    cohort_dashboard as cohort_dashboard,
)
from selorax_analytics.presentation.lifecycle_dashboards import (
    guest_dashboard as guest_dashboard,
)
from selorax_analytics.presentation.plotting import (
    plot_rfm_grid,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

#: The segment picker's entry for every customer at once.
ALL_SEGMENTS = "All customers"
#: Segment maps offered by the RFM dashboard (a caller's own map is added as "Custom map").
SEGMENT_MAPS: Mapping[str, Mapping[str, str]] = {
    "10 segments": DEFAULT_RFM_SEGMENTS,
    "11 segments (with Lost)": RFM_SEGMENTS_WITH_LOST,
}
#: Rows of the chosen segment's customers shown (those who spent most).
CUSTOMER_ROWS = 20
_CUSTOMER_COLUMNS = [
    "user_id",
    "segment",
    "rfm_score",
    "recency_days",
    "frequency",
    "monetary",
    "last_order_at",
]


# -- RFM -------------------------------------------------------------------------------------
def rfm_dashboard(
    orders: pd.DataFrame,
    *,
    as_of: object,
    customers: pd.DataFrame | None = None,
    segment_map: Mapping[str, str] = DEFAULT_RFM_SEGMENTS,
    export_dir: str | os.PathLike[str] = "exports",
) -> Dashboard:
    """RFM segments to explore and export: pick a segment, a date and a segment map.

    Parameters
    ----------
    orders
        Orders frame (``load_orders``): ``user_id``, ``order_status``, ``grand_total``,
        ``created_at``. RFM is recomputed from it with :func:`rfm_segments` when ``as_of`` or
        the segment map changes.
    as_of
        Initial day of the analysis (Asia/Dhaka calendar day); the date picker changes it.
    customers
        Customers frame (``load_customers``), needed by the export button (contacts); without
        it the button is disabled.
    segment_map
        Initial segment map; offered with :data:`SEGMENT_MAPS` in the map picker.
    export_dir
        Folder the export button writes to, as ``<segment>.<format suffix>``.

    Returns
    -------
    Dashboard
        Controls ``segment`` (a segment or :data:`ALL_SEGMENTS`), ``as_of`` (date),
        ``segment_map``, ``format``, ``overwrite`` and ``export`` (a button); outputs
        ``grid`` (R x F heatmap of the chosen customers), ``segments`` (the
        :func:`segment_summary` table), ``customers`` (the chosen segment's
        :data:`CUSTOMER_ROWS` biggest spenders, with their count) and ``status``.

    Raises
    ------
    DataError
        When the initial RFM cannot be computed (missing columns, ``as_of`` before every
        order); later errors from the controls are shown in ``status``.

    Examples
    --------
    >>> sa.rfm_dashboard(orders, as_of="2026-07-01", customers=customers)  # doctest: +SKIP
    """
    maps = dict(SEGMENT_MAPS)
    if all(segment_map is not m and dict(segment_map) != dict(m) for m in maps.values()):
        maps["Custom map"] = segment_map
    initial_map = next(m for m in maps.values() if dict(m) == dict(segment_map))
    rfm = rfm_segments(orders, as_of=as_of, segment_map=initial_map)
    controls: dict[str, widgets.Widget] = {
        "segment": widgets.Dropdown(description="Segment", options=[ALL_SEGMENTS]),
        "as_of": widgets.DatePicker(description="As of", value=day(as_of)),
        "segment_map": widgets.Dropdown(
            description="Segment map",
            options=list(maps.items()),
            value=initial_map,
            style={"description_width": "initial"},
        ),
        "format": widgets.Dropdown(description="Format", options=list(EXPORT_FORMATS)),
        "overwrite": widgets.Checkbox(description="Overwrite", value=False, indent=False),
        "export": widgets.Button(description="Export segment", icon="download"),
    }
    outputs = {k: widgets.Output() for k in ("status", "grid", "segments", "customers")}
    view = _RfmView(orders, customers, Path(export_dir), controls, outputs, rfm)
    view.refresh_segments()
    status = outputs["status"]
    controls["segment"].observe(guarded(status, view.show_segment), names="value")
    controls["as_of"].observe(guarded(status, view.recompute), names="value")
    controls["segment_map"].observe(guarded(status, view.recompute), names="value")
    controls["export"].on_click(guarded(status, view.export))
    rows = [
        widgets.HBox([controls["segment"], controls["as_of"], controls["segment_map"]]),
        widgets.HBox([controls["format"], controls["overwrite"], controls["export"]]),
        status,
        widgets.HBox([outputs["grid"], outputs["segments"]]),
        outputs["customers"],
    ]
    return Dashboard("RFM dashboard", controls, outputs, rows)


class _RfmView:
    """State and redraws of one RFM dashboard."""

    def __init__(
        self,
        orders: pd.DataFrame,
        customers: pd.DataFrame | None,
        export_dir: Path,
        controls: dict[str, widgets.Widget],
        outputs: dict[str, widgets.Output],
        rfm: pd.DataFrame,
    ) -> None:
        self.orders, self.customers, self.export_dir = orders, customers, export_dir
        self.controls, self.outputs, self.rfm = controls, outputs, rfm
        self.updating = False

    def recompute(self) -> None:
        as_of, seg_map = self.controls["as_of"].value, self.controls["segment_map"].value
        if as_of is None:
            show_message(self.outputs["status"], "Pick an as-of date.", error=True)
            return
        self.rfm = rfm_segments(self.orders, as_of=as_of, segment_map=seg_map)
        self.refresh_segments()

    def refresh_segments(self) -> None:
        """New segment choices and table after RFM changed; keeps the chosen segment if it can."""
        summary = segment_summary(self.rfm)
        picker = self.controls["segment"]
        present = summary.loc[summary["customers"] > 0]
        options = [(f"{ALL_SEGMENTS} ({len(self.rfm):,})", ALL_SEGMENTS)] + [
            (f"{s} ({n:,})", s)
            for s, n in zip(present["segment"], present["customers"], strict=True)
        ]
        keep = picker.value if picker.value in {v for _, v in options} else ALL_SEGMENTS
        self.updating = True
        try:
            picker.options = options
            picker.value = keep
        finally:
            self.updating = False
        show_table(
            self.outputs["segments"],
            summary[["segment", "customers", "customer_share", "revenue", "revenue_share"]],
            caption=f"Segments on {self.controls['as_of'].value}",
            formats={"customer_share": percent, "revenue": taka, "revenue_share": percent},
        )
        show_message(self.outputs["status"], f"{len(self.rfm):,} customers with a valid order.")
        self.show_segment()

    def chosen(self) -> pd.DataFrame:
        segment = self.controls["segment"].value
        if segment == ALL_SEGMENTS:
            return self.rfm
        return self.rfm.loc[self.rfm["segment"] == segment]

    def show_segment(self) -> None:
        if self.updating:
            return
        segment, chosen = self.controls["segment"].value, self.chosen()
        self.controls["export"].disabled = self.customers is None or segment == ALL_SEGMENTS
        show_plot(self.outputs["grid"], lambda ax: _grid(chosen, segment, ax), width=5.5)
        top = chosen.sort_values(["monetary", "user_id"], ascending=[False, True])
        top = top.head(CUSTOMER_ROWS)[_CUSTOMER_COLUMNS]
        top = top.assign(last_order_at=top["last_order_at"].dt.strftime("%Y-%m-%d"))
        caption = f"{segment}: {len(chosen):,} customers; the {len(top)} who spent most"
        show_table(self.outputs["customers"], top, caption=caption, formats={"monetary": taka})

    def export(self) -> None:
        segment, fmt = self.controls["segment"].value, self.controls["format"].value
        if self.customers is None or segment == ALL_SEGMENTS:
            show_message(self.outputs["status"], "Pick one segment to export.", error=True)
            return
        path = self.export_dir / f"{segment_file_stem(segment)}{FORMAT_SUFFIXES[fmt]}"
        self.export_dir.mkdir(parents=True, exist_ok=True)
        result = export_segment(
            self.rfm,
            segment,
            path,
            customers=self.customers,
            format=fmt,
            overwrite=self.controls["overwrite"].value,
        )
        show_message(
            self.outputs["status"],
            f"Wrote {result.rows:,} rows of {segment} ({fmt}) to {result.path}; "
            f"{len(result.skipped):,} values or people left out, listed in {result.manifest_path.name}.",
        )


def _grid(chosen: pd.DataFrame, segment: str, ax: Axes) -> None:
    plot_rfm_grid(chosen, ax=ax)
    ax.set(title=f"{segment}: R x F grid ({len(chosen):,} customers)")


# -- cohorts ---------------------------------------------------------------------------------
