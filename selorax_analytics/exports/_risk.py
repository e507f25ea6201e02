"""Leaving people with a high cash-on-delivery risk out of an export."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from selorax_analytics.analytics.delivery_risk import DeliveryRisk, risky_people
from selorax_analytics.exceptions import DataError


@dataclass(frozen=True)
class Exclusion:
    """The people (``identity_id``) whose risk is above ``threshold``."""

    people: pd.Index
    threshold: float


def exclusion(
    risk: DeliveryRisk | pd.DataFrame | None, exclude_risk_above: float | None
) -> Exclusion | None:
    """Who to leave out, or ``None`` when nothing is excluded."""
    if exclude_risk_above is None:
        return None
    if risk is None:
        raise DataError(
            f"`exclude_risk_above={exclude_risk_above!r}` needs `risk`: pass "
            "`risk=sa.delivery_risk(customers, orders, as_of=...)`."
        )
    return Exclusion(risky_people(risk, exclude_risk_above), float(exclude_risk_above))


def without_risky(
    people: pd.DataFrame, excluded: Exclusion | None
) -> tuple[pd.DataFrame, dict[str, object] | None]:
    """The segment's people without the excluded ones, and the manifest's record of it."""
    if excluded is None:
        return people, None
    risky = people["identity_id"].isin(excluded.people)
    note: dict[str, object] = {
        "exclude_risk_above": excluded.threshold,
        "excluded_people": int(risky.sum()),
    }
    return people.loc[~risky], note
