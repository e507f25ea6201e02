"""What every plot shares: the Axes to draw on, legends outside the data, axes in ৳ and %."""

from __future__ import annotations

import functools
from collections.abc import Hashable, Mapping
from typing import TYPE_CHECKING, Any

from selorax_analytics.presentation import numbers

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.axis import Axis
    from matplotlib.legend import Legend

#: How each cohort period reads on an axis.
PERIOD_WORDS = {"M": "months", "W": "weeks", "Q": "quarters"}


def axes(ax: Axes | None) -> Axes:
    """``ax``, or pyplot's current Axes when none is given."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.gca()


def legend_outside(ax: Axes, **kwargs: Any) -> Legend:
    """A legend to the right of the Axes, clear of every bar, line and point."""
    return ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, **kwargs)


def taka_sign() -> str:
    """``৳`` when matplotlib's font can draw it, else ``Tk`` (never a missing-glyph box).

    DejaVu Sans, matplotlib's default, has no taka sign; a font that has one (Noto Sans
    Bengali, for instance) set as ``font.family`` brings the ``৳`` back.
    """
    import matplotlib as mpl
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    families = mpl.rcParams["font.family"]
    path = font_manager.findfont(font_manager.FontProperties(family=families))
    return _font_has(path, ord(numbers.TAKA), FT2Font)


@functools.cache
def _font_has(path: str, code: int, font: Any) -> str:
    return numbers.TAKA if font(path).get_char_index(code) else "Tk"


def taka_unit() -> str:
    """The unit in an axis label: ``(৳)``, or ``(Tk)`` when the font lacks the sign."""
    return f"({taka_sign()})"


def taka_axis(axis: Axis) -> None:
    """Tick labels in taka with separators (``৳ 12,000``; ``Tk 12,000`` without the glyph)."""
    from matplotlib.ticker import FuncFormatter

    sign = taka_sign()
    axis.set_major_formatter(
        FuncFormatter(lambda value, _: numbers.taka(value).replace(numbers.TAKA, sign))
    )


def percent_axis(axis: Axis, *, of: float = 1.0) -> None:
    """Tick labels as percentages of ``of`` (1.0 for shares, 100 for values already in %)."""
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda value, _: numbers.percent(value / of, digits=0)))


def periods_since(attrs: Mapping[Hashable, Any]) -> str:
    """The x label of cohort plots: ``months since first order`` (or since signup)."""
    words = PERIOD_WORDS.get(str(attrs.get("period", "")), "periods")
    start = "signup" if attrs.get("by") == "signup" else "first order"
    return f"{words} since {start}"
