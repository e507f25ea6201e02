"""A campaign report's frames as people read them, for :func:`~selorax_analytics.style`.

``report.groups`` and ``report.effects`` (:func:`~selorax_analytics.campaign_report`) hold raw
numbers, intervals in ``*_low`` / ``*_high`` columns and, in ``effects``, a different unit on
each row. :func:`readable` turns them into text frames: each interval beside its value in one
column (``+8.7 points (+5.2 to +12.2 points)``, ``৳ 191 to ৳ 637``), p-values as ``< 0.001``,
and the methods in a caption note instead of a column. Other frames pass through untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from selorax_analytics.presentation import numbers

#: Columns that mark ``CampaignReport.groups`` and ``CampaignReport.effects``.
GROUPS_MARKS = frozenset(
    {"people", "buyers", "conversion", "conversion_low", "conversion_high", "revenue_per_person",
     "revenue_per_person_low"}
)  # fmt: skip
EFFECTS_MARKS = frozenset({"target", "holdout", "difference", "low", "high", "relative", "p_value"})
#: How the groups and the measures read.
GROUP_NAMES = {"target": "targeted", "holdout": "held out"}
MEASURE_NAMES = {
    "conversion": "conversion",
    "orders_per_person": "orders per person",
    "revenue_per_person": "revenue per person",
    "incremental_revenue": "incremental revenue",
}
#: Below this a p-value reads ``< 0.001``.
SMALLEST_P = 0.001

Text = Callable[[Any], str]


def readable(frame: pd.DataFrame) -> pd.DataFrame:
    """The text frame of a campaign report's ``groups`` or ``effects``; any other frame itself.

    The result's ``attrs`` carry ``align_right`` (its columns, all numbers) and ``notes``
    (caption sentences).
    """
    columns = set(frame.columns)
    if columns >= EFFECTS_MARKS:
        return _effects(frame)
    if columns >= GROUPS_MARKS:
        return _groups(frame)
    return frame


def p_value(value: Any) -> str:
    """``< 0.001`` below :data:`SMALLEST_P`, else three decimals; blank when missing."""
    if numbers.missing(value):
        return ""
    return f"< {SMALLEST_P}" if float(value) < SMALLEST_P else f"{float(value):.3f}"


def interval(low: Any, high: Any, text: Text, unit: str = "") -> str:
    """``low to high`` in ``text``'s form, ``unit`` after; blank when an end is missing."""
    if numbers.missing(low) or numbers.missing(high):
        return ""
    return f"{text(low)} to {text(high)}{unit}"


def signed(text: Text) -> Text:
    """``text`` with a ``+`` before positive values (negative ones carry their own ``-``)."""

    def write(value: Any) -> str:
        shown = text(value)
        return "+" + shown if shown and float(value) > 0 and not shown.startswith("-") else shown

    return write


def _level(frame: pd.DataFrame) -> str:
    return f"{float(frame.attrs.get('confidence', 0.95)):.0%}"


def _finish(shown: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    shown = shown.astype("str")
    shown.attrs = {"align_right": list(shown.columns), "notes": notes}
    return shown


def _groups(frame: pd.DataFrame) -> pd.DataFrame:
    level = _level(frame)
    rows = {}
    for group, row in frame.iterrows():
        rows[GROUP_NAMES.get(str(group), str(group))] = {
            "people": numbers.count(row["people"]),
            "buyers": numbers.count(row["buyers"]),
            "conversion": numbers.percent(row["conversion"]),
            f"conversion, {level} interval": interval(
                row["conversion_low"], row["conversion_high"], numbers.percent
            ),
            "revenue per person": numbers.taka_precise(row["revenue_per_person"]),
            f"revenue per person, {level} interval": interval(
                row.get("revenue_per_person_low"), row.get("revenue_per_person_high"), numbers.taka
            ),
        }
    shown = pd.DataFrame.from_dict(rows, orient="index")
    shown.index.name = "group"
    note = (
        "Each group's own interval: Wilson for conversion, a percentile bootstrap for revenue "
        "per person."
    )
    return _finish(shown, [note])


def _points(value: Any) -> str:
    return "" if numbers.missing(value) else numbers.number(float(value) * 100, 1)


#: Per measure: how its values read, how its difference and interval ends read, and the unit.
_MEASURE_TEXT: dict[str, tuple[Text, Text, Text, str]] = {
    "conversion": (numbers.percent, signed(_points), signed(_points), " points"),
    "orders_per_person": (numbers.number, signed(numbers.number), signed(numbers.number), ""),
    "revenue_per_person": (numbers.taka_precise, signed(numbers.taka), numbers.taka, ""),
    "incremental_revenue": (numbers.taka, signed(numbers.taka), numbers.taka, ""),
}


def _effects(frame: pd.DataFrame) -> pd.DataFrame:
    level = _level(frame)
    relative = signed(lambda v: numbers.percent(v, 0))
    rows = {}
    for measure, row in frame.iterrows():
        value, difference, end, unit = _MEASURE_TEXT.get(
            str(measure), (numbers.number, signed(numbers.number), signed(numbers.number), "")
        )
        span = interval(row["low"], row["high"], end, unit)
        rel_span = interval(row.get("relative_low"), row.get("relative_high"), relative)
        rows[MEASURE_NAMES.get(str(measure), str(measure))] = {
            "targeted": value(row["target"]),
            "held out": value(row["holdout"]),
            f"difference ({level} interval)": _with(difference(row["difference"]), span, unit),
            f"relative lift ({level} interval)": _with(relative(row["relative"]), rel_span),
            "p-value": p_value(row["p_value"]),
        }
    shown = pd.DataFrame.from_dict(rows, orient="index")
    shown.index.name = "measure"
    notes = ["Difference: targeted minus held out."]
    if "incremental_revenue" in frame.index:
        notes.append(
            "Incremental revenue: the revenue-per-person difference times the targeted people "
            "(held out: what they would have spent at the held-out rate)."
        )
    if "method" in frame.columns:
        notes.append(_methods(frame["method"]))
    return _finish(shown, notes)


def _methods(methods: pd.Series) -> str:
    """``Methods. Conversion: ... Orders per person, revenue per person: ...`` (same ones once)."""
    measures: dict[str, list[str]] = {}
    for measure, method in methods.items():
        measures.setdefault(str(method), []).append(MEASURE_NAMES.get(str(measure), str(measure)))
    said = (f"{', '.join(names).capitalize()}: {method}." for method, names in measures.items())
    return " ".join(["Methods.", *said])


def _with(value: str, span: str, unit: str = "") -> str:
    """``value unit (span)``, ``value unit`` when the interval is missing, blank without value."""
    if not value:
        return ""
    return f"{value}{unit} ({span})" if span else f"{value}{unit}"
