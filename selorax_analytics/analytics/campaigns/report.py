"""Did the campaign work? Target against hold-out over the days after the send.

See :mod:`selorax_analytics.analytics.campaigns.statistics` for the intervals, tests and the
power calculation, and ``docs/campaigns.md`` for what the numbers mean.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from selorax_analytics.analytics._frames import check_columns, valid_mask
from selorax_analytics.analytics.campaigns import statistics as st
from selorax_analytics.analytics.campaigns.records import (
    GROUPS,
    Campaign,
    people_of_records,
    read_campaign,
)
from selorax_analytics.exceptions import DataError

#: The relative lift in conversion the power calculation sizes groups for.
DEFAULT_DETECTABLE_LIFT = 0.2
#: The power the calculation sizes groups for (:func:`statistics.people_needed`'s default).
POWER = 0.8
METRICS = ("conversion", "orders_per_person", "revenue_per_person", "incremental_revenue")


@dataclass(frozen=True)
class CampaignReport:
    """What :func:`campaign_report` found.

    Attributes
    ----------
    groups
        Index ``target``, ``holdout``: ``people``, ``buyers``, ``orders``, ``revenue``,
        ``conversion``, ``orders_per_person``, ``revenue_per_person``, and each group's own
        interval of the last three (``conversion_low``, ``conversion_high``: Wilson;
        ``orders_per_person_low``, ..., ``revenue_per_person_high``: bootstrap).
    effects
        Index ``conversion``, ``orders_per_person``, ``revenue_per_person``,
        ``incremental_revenue``: ``target``, ``holdout``, ``difference`` (target minus
        hold-out; for incremental revenue the revenue difference per person times the targeted
        people), ``low``, ``high`` (its interval), ``relative`` (``target / holdout - 1``),
        ``relative_low``, ``relative_high``, ``p_value`` and ``method``.
    verdict
        One sentence: an effect detected, no effect detected, or groups too small to tell.
    people_needed
        People per group to detect ``detectable_lift`` in conversion at 80 % power.

    For a person: ``verdict``, :attr:`sample_size` and :attr:`methods` are sentences;
    :meth:`summary` (``str(report)``, and its display in a notebook) joins them;
    ``sa.style(report.groups)`` and ``sa.style(report.effects)`` show the tables.
    """

    campaign: Campaign = field(repr=False)
    window_start: pd.Timestamp
    window_end: pd.Timestamp
    confidence: float
    detectable_lift: float
    groups: pd.DataFrame = field(repr=False)
    effects: pd.DataFrame = field(repr=False)
    people_needed: int
    verdict: str

    def _sizes(self) -> tuple[int, int]:
        people = self.groups["people"].to_dict()
        return int(people["target"]), int(people["holdout"])

    @property
    def sample_size(self) -> str:
        """The power calculation as a sentence: people needed per group, people this test had."""
        targeted, held = self._sizes()
        had = f"this test had {targeted:,} targeted and {held:,} held out"
        if self.people_needed == 0:
            return (
                f"Nobody bought in either group, so the people a test needs cannot be sized; {had}."
            )
        return (
            f"To detect a {self.detectable_lift:.0%} relative lift in conversion at "
            f"{POWER:.0%} power and {self.confidence:.0%} confidence, each group needs about "
            f"{self.people_needed:,} people; {had}."
        )

    @property
    def methods(self) -> str:
        """How the intervals and p-values were computed, as one footnote sentence."""
        targeted, _ = self._sizes()
        return (
            "Methods: conversion by the Newcombe hybrid score interval and a pooled "
            "two-proportion z-test (each group's own: Wilson); orders and revenue per person by "
            f"a percentile bootstrap of {st.BOOTSTRAP_RESAMPLES:,} resamples and Welch's t-test; "
            "incremental revenue is the revenue-per-person difference times the "
            f"{targeted:,} targeted people."
        )

    def summary(self) -> str:
        """The verdict, the power calculation and the methods, one sentence a line."""
        return "\n".join([self.verdict, self.sample_size, self.methods])

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        targeted, held = self._sizes()
        return (
            f"<CampaignReport {self.campaign.segment} by {self.campaign.format}: "
            f"{targeted:,} targeted, {held:,} held out. {self.verdict}>"
        )

    def _repr_html_(self) -> str:
        from html import escape

        return "".join(f"<p>{escape(line)}</p>" for line in self.summary().splitlines())


def _check_options(window_days: object, confidence: object, lift: object) -> None:
    if isinstance(window_days, bool) or not isinstance(window_days, int) or window_days < 1:
        raise DataError(
            f"`window_days` must be a whole number of days, 1 or more; got {window_days!r}."
        )
    for name, value in (("confidence", confidence), ("detectable_lift", lift)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
            raise DataError(
                f"`{name}` must be a share strictly between 0 and 1 (such as 0.95), got {value!r}."
            )


def _person_totals(
    campaign: Campaign, orders: pd.DataFrame, customers: pd.DataFrame | None, end: pd.Timestamp
) -> pd.DataFrame:
    """Per campaign person: ``group``, ``orders`` and ``revenue`` in the window."""
    check_columns(orders, ["user_id", "created_at", "grand_total", "order_status"], name="orders")
    owner = people_of_records(campaign, customers)
    created = pd.to_datetime(orders["created_at"], utc=True)
    keep = valid_mask(orders["order_status"], None) & (created >= campaign.sent_at).to_numpy()
    keep &= (created < end).to_numpy()
    bought = orders.loc[keep, ["user_id", "grand_total"]]
    person = pd.to_numeric(bought["user_id"]).astype("int64").map(owner)
    totals = (
        pd.DataFrame({"identity_id": person, "revenue": bought["grand_total"].astype("float64")})
        .dropna(subset=["identity_id"])
        .groupby("identity_id")["revenue"]
        .agg(orders="size", revenue="sum")
    )
    people = campaign.people.set_index("identity_id")
    out = people.join(totals).fillna({"orders": 0, "revenue": 0.0})
    return out.astype({"orders": "int64", "revenue": "float64"})


def _groups(totals: pd.DataFrame) -> pd.DataFrame:
    grouped = totals.groupby("group")
    groups = pd.DataFrame(
        {
            "people": grouped.size(),
            "buyers": grouped["orders"].apply(lambda s: int((s > 0).sum())),
            "orders": grouped["orders"].sum(),
            "revenue": grouped["revenue"].sum(),
        }
    ).reindex(list(GROUPS), fill_value=0)
    groups = groups.astype({"people": "int64", "buyers": "int64", "orders": "int64"})
    with np.errstate(divide="ignore", invalid="ignore"):
        for name, column in (("conversion", "buyers"), ("orders_per_person", "orders"),
                             ("revenue_per_person", "revenue")):  # fmt: skip
            groups[name] = groups[column] / groups["people"].where(groups["people"] > 0)
    groups.index.name = "group"
    return groups


def _ratio(a: float, b: float) -> float:
    return a / b - 1 if b > 0 else math.nan


def _pair(groups: pd.DataFrame, column: str) -> tuple[float, float]:
    """``column`` of the target and of the hold-out, as plain floats."""
    values = groups[column].to_dict()
    return float(values["target"]), float(values["holdout"])


def _conversion_row(groups: pd.DataFrame, confidence: float) -> dict[str, object]:
    buyers = tuple(int(v) for v in _pair(groups, "buyers"))
    people = tuple(int(v) for v in _pair(groups, "people"))
    assert len(buyers) == len(people) == 2
    p1, p2 = _pair(groups, "conversion")
    low, high = st.newcombe_interval(buyers, people, confidence)
    rel_low, rel_high = _katz_interval(buyers, people, confidence)
    return {
        "target": p1, "holdout": p2, "difference": p1 - p2, "low": low, "high": high,
        "relative": _ratio(p1, p2), "relative_low": rel_low, "relative_high": rel_high,
        "p_value": st.two_proportion_p_value(buyers, people),
        "method": "Newcombe hybrid score interval; pooled two-proportion z-test",
    }  # fmt: skip


def _katz_interval(
    buyers: tuple[int, int], people: tuple[int, int], confidence: float
) -> tuple[float, float]:
    """Interval of ``p1 / p2 - 1`` by Katz's log method; missing when a group has no buyer."""
    if 0 in buyers or 0 in people:
        return math.nan, math.nan
    spread = math.sqrt(sum(1 / b - 1 / n for b, n in zip(buyers, people, strict=True)))
    log_ratio = math.log((buyers[0] / people[0]) / (buyers[1] / people[1]))
    z = st._z(confidence)
    return math.exp(log_ratio - z * spread) - 1, math.exp(log_ratio + z * spread) - 1


def _mean_rows(
    totals: pd.DataFrame, groups: pd.DataFrame, confidence: float, seed: int
) -> list[dict[str, object]]:
    """Orders and revenue per person; adds each group's bootstrap interval to ``groups``."""
    rng = np.random.default_rng(seed)
    rows = []
    for column in ("orders", "revenue"):
        a = totals.loc[totals["group"] == "target", column].to_numpy(dtype="float64")
        b = totals.loc[totals["group"] == "holdout", column].to_numpy(dtype="float64")
        draws_a, draws_b = st.bootstrap_means(a, rng), st.bootstrap_means(b, rng)
        name = f"{column}_per_person"
        for group, draws in (("target", draws_a), ("holdout", draws_b)):
            interval = st.percentile_interval(draws, confidence)
            groups.loc[group, [f"{name}_low", f"{name}_high"]] = interval
        with np.errstate(divide="ignore", invalid="ignore"):
            relative = np.where(draws_b > 0, draws_a / draws_b - 1, np.nan)
        mean_a = float(a.mean()) if len(a) else math.nan
        mean_b = float(b.mean()) if len(b) else math.nan
        low, high = st.percentile_interval(draws_a - draws_b, confidence)
        rel_low, rel_high = st.percentile_interval(relative, confidence)
        rows.append({
            "target": mean_a, "holdout": mean_b, "difference": mean_a - mean_b,
            "low": low, "high": high, "relative": _ratio(mean_a, mean_b),
            "relative_low": rel_low, "relative_high": rel_high,
            "p_value": st.welch_p_value(a, b),
            "method": f"percentile bootstrap, {st.BOOTSTRAP_RESAMPLES} resamples; Welch t-test",
        })  # fmt: skip
    return rows


def _incremental_row(revenue: dict[str, object], targeted: int) -> dict[str, object]:
    scaled = {k: float(revenue[k]) * targeted for k in ("difference", "low", "high")}  # type: ignore[arg-type]
    return {
        "target": float(revenue["target"]) * targeted,  # type: ignore[arg-type]
        "holdout": float(revenue["holdout"]) * targeted,  # type: ignore[arg-type]
        **scaled,
        "relative": revenue["relative"], "relative_low": revenue["relative_low"],
        "relative_high": revenue["relative_high"], "p_value": revenue["p_value"],
        "method": "revenue per person difference x targeted people",
    }  # fmt: skip


def _verdict(groups: pd.DataFrame, conversion: dict[str, object], needed: int | None,
             confidence: float, lift: float) -> str:  # fmt: skip
    level = f"{confidence:.0%} confidence"
    people = groups["people"]
    p1, p2 = float(conversion["target"]), float(conversion["holdout"])  # type: ignore[arg-type]
    low, high = float(conversion["low"]), float(conversion["high"])  # type: ignore[arg-type]
    seen = f"conversion {p1:.1%} in the target against {p2:.1%} in the hold-out"
    if people.min() == 0:
        return "Groups too small to tell: one group has no people."
    if low > 0 or high < 0:
        way = "more" if low > 0 else "fewer"
        return (
            f"Effect detected at {level}: {seen}, {abs(p1 - p2) * 100:.1f} points {way} "
            f"(interval {low * 100:+.1f} to {high * 100:+.1f} points)."
        )
    if needed is None:
        return f"Groups too small to tell: nobody in either group bought in the window ({level})."
    if people.min() < needed:
        return (
            f"Groups too small to tell at {level}: {seen}; to detect a {lift:.0%} lift in "
            f"conversion each group needs about {needed:,} people, the smaller has "
            f"{int(people.min()):,}."
        )
    return (
        f"No effect detected at {level}: {seen} (interval of the difference "
        f"{low * 100:+.1f} to {high * 100:+.1f} points)."
    )


def campaign_report(
    campaign: Campaign | str | os.PathLike[str],
    orders: pd.DataFrame,
    *,
    customers: pd.DataFrame | None = None,
    window_days: int = 30,
    confidence: float = 0.95,
    detectable_lift: float = DEFAULT_DETECTABLE_LIFT,
) -> CampaignReport:
    """Compare the targeted people with the held-out people over the days after the send.

    Parameters
    ----------
    campaign
        A :class:`Campaign` (:func:`read_campaign`) or the path of its record.
    orders
        The orders frame (``load_orders``), loaded after the window: ``user_id``,
        ``created_at``, ``grand_total``, ``order_status``. Cancelled, returned and failed
        orders do not count.
    customers
        The customers frame (``load_customers``), loaded after the window: records created
        since the export (a targeted person checking out as a guest) are matched to campaign
        people through :func:`selorax_analytics.identities` and the recorded phones and
        e-mails. Without it only the recorded ``user_id`` count.
    window_days
        Orders from ``campaign.sent_at`` up to (not including) this many days later count.
    confidence
        Level of every interval (default 0.95); tests are two-sided at ``1 - confidence``.
    detectable_lift
        The relative lift in conversion the power calculation sizes groups for (0.2: 20 %).

    Returns
    -------
    CampaignReport
        ``groups`` (people, buyers, conversion, orders and revenue per person), ``effects``
        (differences with intervals and p-values, and incremental revenue), ``people_needed``
        and a one-sentence ``verdict``.

    Raises
    ------
    DataError
        A bad option, a frame missing columns, or an unreadable record.

    Examples
    --------
    >>> report = sa.campaign_report("at_risk.sms.csv.campaign.json", orders,
    ...                             customers=customers)  # doctest: +SKIP
    >>> report.verdict  # doctest: +SKIP
    """
    _check_options(window_days, confidence, detectable_lift)
    if not isinstance(campaign, Campaign):
        campaign = read_campaign(campaign)
    end = campaign.sent_at + pd.Timedelta(days=window_days)
    totals = _person_totals(campaign, orders, customers, end)
    groups = _groups(totals)
    conversion = _conversion_row(groups, confidence)
    buyers, people = _pair(groups, "buyers"), _pair(groups, "people")
    for i, group in enumerate(GROUPS):
        interval = st.wilson_interval(int(buyers[i]), int(people[i]), confidence)
        groups.loc[group, ["conversion_low", "conversion_high"]] = interval
    orders_row, revenue_row = _mean_rows(totals, groups, confidence, campaign.seed)
    incremental = _incremental_row(revenue_row, int(_pair(groups, "people")[0]))
    effects = pd.DataFrame([conversion, orders_row, revenue_row, incremental], index=list(METRICS))
    effects = effects.astype({c: "float64" for c in effects.columns if c != "method"})
    effects["method"] = effects["method"].astype("str")
    groups.attrs["confidence"] = effects.attrs["confidence"] = confidence  # for sa.style
    base = next((float(p) for p in groups["conversion"][::-1] if p > 0), None)
    needed = (
        None
        if base is None
        else st.people_needed(base, detectable_lift, confidence=confidence, power=POWER)
    )
    verdict = _verdict(groups, conversion, needed, confidence, detectable_lift)
    return CampaignReport(
        campaign, campaign.sent_at, end, confidence, detectable_lift, groups, effects,
        needed if needed is not None else 0, verdict,
    )  # fmt: skip
