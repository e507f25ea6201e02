"""Cash-on-delivery risk frames as people read them, for :func:`~selorax_analytics.style`.

``risk.people`` and ``risk.areas`` (:func:`~selorax_analytics.delivery_risk`) hold fifteen raw
columns: counts, rates as fractions, the interval in ``risk_low`` / ``risk_high``, times in UTC.
:func:`readable` turns them into text frames of eight columns that fit a 1280 px page: the
counts with separators, failed orders as ``5 of 7`` settled, the risk as a percentage with its
credible interval beside it in one column (``35.5% to 81.8%``), the shipping lost in whole taka,
and a city or area blank when the record has no address (said in the caption). The columns
left out (delivered, refused, cancelled after confirmation, the raw rate, the last failure) stay
in the frame. Other frames pass through untouched.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from selorax_analytics.presentation import numbers

#: Columns that mark ``DeliveryRisk.people`` and ``DeliveryRisk.areas``.
RISK_MARKS = frozenset(
    {"city", "area", "cod_orders", "settled", "failed", "risk", "risk_low", "risk_high",
     "shipping_lost"}
)  # fmt: skip
PEOPLE_MARKS = RISK_MARKS | {"identity_id"}
AREAS_MARKS = RISK_MARKS | {"people"}
#: File names of the full frames when the report writes them beside its pages.
PEOPLE_TABLE = "delivery_risk_people"
AREAS_TABLE = "delivery_risk_areas"
#: Left out of the shown table; still in the frame.
HIDDEN = ("delivered", "refused", "cancelled_after_confirmation", "observed_rate", "last_failed_at")

_RISK_NOTE = (
    "Risk: the chance the next cash-on-delivery order fails, pulled towards the store's rate "
    "when there are few settled orders; the interval is the {level} credible interval."
)
_FAILED_NOTE = "Failed: refused, returned or cancelled after confirmation, of the settled orders."
_NO_ADDRESS_NOTE = "Blank city and area: no address on the record of the person's latest COD order."


def readable(frame: pd.DataFrame) -> pd.DataFrame:
    """The text frame of ``risk.people`` or ``risk.areas``; any other frame itself.

    The result's ``attrs`` carry ``align_right`` (its number columns), ``notes`` (caption
    sentences) and ``table`` (the file name of the full frame).
    """
    columns = set(frame.columns)
    if columns >= PEOPLE_MARKS:
        return _people(frame)
    if columns >= AREAS_MARKS:
        return _areas(frame)
    return frame


def _level(frame: pd.DataFrame) -> str:
    return f"{float(frame.attrs.get('interval', 0.9)):.0%}"


def _text(value: Any) -> str:
    return "" if numbers.missing(value) else str(value)


def _person(value: Any) -> str:
    return "" if numbers.missing(value) else str(int(value))


def _shared(frame: pd.DataFrame, level: str) -> dict[str, list[str]]:
    """The columns people and areas share: orders, failed of settled, risk, interval, money."""
    return {
        "COD orders": [numbers.count(v) for v in frame["cod_orders"]],
        "failed of settled": [
            f"{numbers.count(k)} of {numbers.count(n)}" if not numbers.missing(n) else ""
            for k, n in zip(frame["failed"], frame["settled"], strict=True)
        ],
        "risk": [numbers.percent(v) for v in frame["risk"]],
        f"{level} interval": [
            ""
            if numbers.missing(low) or numbers.missing(high)
            else f"{numbers.percent(low)} to {numbers.percent(high)}"
            for low, high in zip(frame["risk_low"], frame["risk_high"], strict=True)
        ],
        "shipping lost": [numbers.taka(v) for v in frame["shipping_lost"]],
    }


def _people(frame: pd.DataFrame) -> pd.DataFrame:
    level = _level(frame)
    cells = {
        "person": [_person(v) for v in frame["identity_id"]],
        "city": [_text(v) for v in frame["city"]],
        "area": [_text(v) for v in frame["area"]],
    }
    notes = [_RISK_NOTE.format(level=level), _FAILED_NOTE]
    if (frame["city"].isna() & frame["area"].isna()).any():
        notes.append(_NO_ADDRESS_NOTE)
    return _finish(cells | _shared(frame, level), notes, PEOPLE_TABLE)


def _areas(frame: pd.DataFrame) -> pd.DataFrame:
    level = _level(frame)
    cells = {
        "city": [_text(v) for v in frame["city"]],
        "area": [_text(v) for v in frame["area"]],
        "people": [numbers.count(v) for v in frame["people"]],
    }
    notes = [_RISK_NOTE.format(level=level), _FAILED_NOTE]
    return _finish(cells | _shared(frame, level), notes, AREAS_TABLE)


def _finish(cells: dict[str, list[str]], notes: list[str], table: str) -> pd.DataFrame:
    shown = pd.DataFrame(cells, dtype="str")
    text = {"person", "city", "area"}
    shown.attrs = {
        "align_right": [c for c in shown.columns if c not in text],
        "notes": notes,
        "table": table,
    }
    return shown
