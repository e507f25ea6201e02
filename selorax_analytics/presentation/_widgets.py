"""The widget pieces the dashboards share: the :class:`Dashboard` box and how outputs show.

An output holds one display bundle at a time: a plot as PNG, a table as HTML, a message in
colour, each with a ``text/plain`` twin.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as widgets
import pandas as pd

from selorax_analytics.exceptions import SeloraxError


class Dashboard(widgets.VBox):
    """A dashboard: named controls and outputs, laid out in a ``VBox``.

    Attributes
    ----------
    controls : dict of str to Widget
        The inputs by name. Setting ``controls["segment"].value`` redraws what depends on it.
    outputs : dict of str to ipywidgets.Output
        What is shown, by name. Each holds one display bundle (``text/html`` for tables,
        ``image/png`` for plots, always with ``text/plain``); ``outputs["status"]`` holds
        messages, such as an error from the analytics or where an export went.
    """

    def __init__(
        self,
        name: str,
        controls: Mapping[str, widgets.Widget],
        outputs: Mapping[str, widgets.Output],
        rows: list[widgets.Widget],
    ) -> None:
        super().__init__(children=rows)
        self.dashboard_name = name
        self.controls = dict(controls)
        self.outputs = dict(outputs)

    def __repr__(self) -> str:
        values = ", ".join(
            f"{key}={_control_text(w)}" for key, w in self.controls.items() if hasattr(w, "value")
        )
        return f"<{self.dashboard_name}: {values}>"


def _control_text(widget: widgets.Widget) -> str:
    if isinstance(widget, widgets.Dropdown):
        return repr(widget.label)
    if isinstance(widget.value, dt.date):
        return widget.value.isoformat()
    return repr(widget.value)


# -- what the outputs show ---------------------------------------------------------------------
def _show(output: widgets.Output, data: dict[str, str]) -> None:
    output.outputs = ({"output_type": "display_data", "data": data, "metadata": {}},)


def show_plot(
    output: widgets.Output, draw: Callable[..., object], *, panels: int = 1, width: float = 7.5
) -> None:
    """Draw ``draw(*axes)`` on a new figure and show it as PNG."""
    from matplotlib.figure import Figure

    # Constrained layout keeps room for legends outside the data, between panels too.
    fig = Figure(figsize=(width, 4.2), dpi=96, layout="constrained")
    axes = fig.subplots(1, panels, squeeze=False)[0]
    draw(*axes)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    titles = "; ".join(ax.get_title() for ax in axes if ax.get_title())
    _show(
        output,
        {
            "image/png": base64.b64encode(buffer.getvalue()).decode("ascii"),
            "text/plain": f"<Figure: {titles}>",
        },
    )


def show_table(
    output: widgets.Output,
    frame: pd.DataFrame,
    *,
    caption: str = "",
    formats: Mapping[str, Callable[[Any], str]] | None = None,
) -> None:
    shown = frame.copy()
    for column, fmt in (formats or {}).items():
        shown[column] = shown[column].map(lambda v, f=fmt: "" if pd.isna(v) else f(v))
    table = shown.to_html(index=False, na_rep="", border=0, classes="selorax-table")
    head = f"<p>{_escape(caption)}</p>" if caption else ""
    text = (caption + "\n" if caption else "") + shown.to_string(index=False)
    _show(output, {"text/html": head + table, "text/plain": text})


def show_message(output: widgets.Output, message: str, *, error: bool = False) -> None:
    colour = "#b00020" if error else "#1b5e20"
    html = f'<p style="color:{colour}">{_escape(message)}</p>'
    _show(output, {"text/html": html, "text/plain": message})


def _escape(text: str) -> str:
    import html

    return html.escape(text)


def guarded(status: widgets.Output, action: Callable[[], None]) -> Callable[..., None]:
    """A callback running ``action``; a package error is shown in ``status`` instead of lost."""

    def callback(*_: object) -> None:
        try:
            action()
        except (SeloraxError, FileExistsError) as exc:
            show_message(status, str(exc), error=True)

    return callback


def percent(value: float) -> str:
    return f"{value:.1%}"


def taka(value: float) -> str:
    return f"{value:,.0f}"


def day(value: object) -> dt.date:
    return pd.Timestamp(value).date()  # type: ignore[arg-type]
