"""Cash-on-delivery risk: how likely a person's (or an area's) next COD order is to fail.

What an order's status means
    The API gives an order's last status only, so the outcome of a cash-on-delivery order
    (``payment_method == "cod"``) is read from it (the assumption is in the README):

    =============================  ==========================================================
    outcome                        statuses
    =============================  ==========================================================
    delivered                      ``delivered``, ``completed`` (``DELIVERED_STATUSES``)
    refused                        ``returned``, ``failed``: the parcel went out and came back
                                   (``REFUSED_STATUSES``)
    cancelled after confirmation   ``cancelled``, last changed at least ``confirmation_hours``
                                   after it was placed (the shop had confirmed it by phone)
    not counted                    ``cancelled`` sooner (before confirmation), and open orders
                                   (pending, confirmed, processing, shipped, hold, ...)
    =============================  ==========================================================

    A *settled* COD order is delivered, refused or cancelled after confirmation; it *failed*
    when it was refused or cancelled after confirmation.

Shrinkage
    One refusal out of one order is not a 100% risk. Each person's failures ``k`` out of ``n``
    settled orders are read through a beta-binomial model fitted on the whole store: the
    person's failure chance is ``Beta(alpha, beta)`` across people, and ``alpha`` and ``beta``
    are the maximum-likelihood fit of the beta-binomial to every person's ``(k, n)``
    (:func:`fit_beta_binomial`). The risk of the next order is the posterior mean
    ``(alpha + k) / (alpha + beta + n)``; the interval holds the posterior
    ``Beta(alpha + k, beta + n - k)`` quantiles. Areas get the same treatment with a prior
    fitted over areas.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from selorax_analytics.analytics._frames import (
    as_of_day,
    check_columns,
    check_option,
    local_days,
    utc_micros,
)
from selorax_analytics.analytics._places import place_columns
from selorax_analytics.analytics.conversion import identities
from selorax_analytics.exceptions import DataError

DELIVERED_STATUSES: tuple[str, ...] = ("delivered", "completed")
REFUSED_STATUSES: tuple[str, ...] = ("returned", "failed")
CANCELLED_STATUSES: tuple[str, ...] = ("cancelled",)
COUNT_COLUMNS = ("cod_orders", "delivered", "refused", "cancelled_after_confirmation")
ORDER_COLUMNS = ("user_id", "order_status", "payment_method", "created_at", "updated_at")
FIT_METHODS = ("ml", "moments")
_US_PER_HOUR = 3_600_000_000


@dataclass(frozen=True)
class BetaPrior:
    """The store's ``Beta(alpha, beta)`` prior of a failure chance, fitted on its units."""

    alpha: float
    beta: float

    @property
    def mean(self) -> float:
        """The store's failure rate the shrinkage pulls towards."""
        return self.alpha / (self.alpha + self.beta)


@dataclass(frozen=True)
class DeliveryRisk:
    """What :func:`delivery_risk` found: one frame per person, one per area, and the priors."""

    people: pd.DataFrame
    areas: pd.DataFrame
    people_prior: BetaPrior
    areas_prior: BetaPrior
    as_of: str
    interval: float

    def summary(self) -> str:
        """What the store's numbers say, for a person: one sentence a line.

        The store's share of failed settled orders, how much history the prior is worth (so
        what one refusal does to a new person's risk), and the riskiest area.
        """
        return "\n".join([_store_sentence(self), _prior_sentence(self), _area_sentence(self)])

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return (
            f"<DeliveryRisk as of {self.as_of}: {len(self.people):,} people, "
            f"{_areas(len(self.areas))}. {_store_sentence(self)}>"
        )

    def _repr_html_(self) -> str:
        from html import escape

        return "".join(f"<p>{escape(line)}</p>" for line in self.summary().splitlines())


def _areas(n: int) -> str:
    return f"{n:,} area{'' if n == 1 else 's'}"


def _store_sentence(risk: DeliveryRisk) -> str:
    """``Across the store 13.9% of settled cash-on-delivery orders failed ...``."""
    people = risk.people
    failed, settled = int(people["failed"].sum()), int(people["settled"].sum())
    rate = failed / settled if settled else float("nan")
    return (
        f"Across the store {rate:.1%} of settled cash-on-delivery orders failed up to "
        f"{risk.as_of} ({failed:,} of {settled:,}: refused, returned or cancelled after "
        f"confirmation), placed by {int((people['settled'] > 0).sum()):,} people."
    )


def _prior_sentence(risk: DeliveryRisk) -> str:
    """How many orders of history the prior is worth, and what one refusal does with it."""
    prior = risk.people_prior
    weight = prior.alpha + prior.beta
    orders = max(1, round(weight))
    after = (prior.alpha + 1) / (weight + 1)
    return (
        f"The model treats a new person as if they had about {orders:,} "
        f"order{'s' if orders != 1 else ''} of that history, so one refusal moves a person's "
        f"risk from {prior.mean:.0%} to {after:.0%}, not to 100%."
    )


def _area_sentence(risk: DeliveryRisk) -> str:
    """The riskiest area with its interval, or why there are no areas."""
    if risk.areas.empty:
        return "No settled order has an address: there is no risk by area."
    top = risk.areas.iloc[0]
    return (
        f"Of {_areas(len(risk.areas))} the riskiest is {top['area']}, {top['city']}: "
        f"{top['risk']:.0%} ({risk.interval:.0%} interval {top['risk_low']:.0%} to "
        f"{top['risk_high']:.0%}), against {risk.areas_prior.mean:.0%} for an area with no "
        "history."
    )


def fit_beta_binomial(
    failures: np.ndarray | pd.Series,
    trials: np.ndarray | pd.Series,
    *,
    method: Literal["ml", "moments"] = "ml",
) -> BetaPrior:
    """Fit a beta-binomial to units that had ``failures`` out of ``trials`` each.

    ``"moments"`` matches the mean and the spread of ``failures / trials`` beyond the binomial
    (Kleinman's weighted estimator); ``"ml"`` maximises the beta-binomial likelihood, starting
    from the moments fit. Units with no trials are ignored.

    Raises
    ------
    DataError
        Unknown method, negative counts, failures above trials, or no unit with a trial.
    """
    check_option(method, FIT_METHODS, name="method")
    k = np.asarray(failures, dtype="float64")
    n = np.asarray(trials, dtype="float64")
    if k.shape != n.shape or (k < 0).any() or (k > n).any():
        raise DataError("`failures` must be counts between 0 and `trials`, of the same length.")
    k, n = k[n > 0], n[n > 0]
    if len(n) == 0:
        raise DataError("No unit has a settled order: there is nothing to fit the store's rate on.")
    start = _moments(k, n)
    return start if method == "moments" else _maximum_likelihood(k, n, start)


def _moments(k: np.ndarray, n: np.ndarray) -> BetaPrior:
    """Method of moments: ``mu`` the pooled rate, ``rho`` the over-dispersion."""
    mu = float(np.clip(k.sum() / n.sum(), 1e-4, 1 - 1e-4))
    rate = k / n
    spread = float(np.sum(n * (rate - mu) ** 2))
    binomial = mu * (1 - mu) * (len(n) - 1)
    extra = mu * (1 - mu) * float(np.sum(n - n**2 / n.sum()))
    rho = float(np.clip((spread - binomial) / extra, 1e-4, 0.99)) if extra > 0 else 1e-4
    size = 1 / rho - 1
    return BetaPrior(alpha=mu * size, beta=(1 - mu) * size)


def _maximum_likelihood(k: np.ndarray, n: np.ndarray, start: BetaPrior) -> BetaPrior:
    pairs, weight = np.unique(np.stack([k, n]), axis=1, return_counts=True)
    kk, nn = pairs

    def loss(x: np.ndarray) -> float:
        a, b = np.exp(x)
        terms = special.betaln(kk + a, nn - kk + b) - special.betaln(a, b)
        return -float(np.sum(weight * terms))

    x0 = np.log([start.alpha, start.beta])
    fit = optimize.minimize(loss, x0, method="L-BFGS-B", bounds=[(-7.0, 12.0)] * 2)
    a, b = np.exp(fit.x)
    return BetaPrior(alpha=float(a), beta=float(b))


def posterior(
    failures: np.ndarray, trials: np.ndarray, prior: BetaPrior, *, interval: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Posterior mean and the central ``interval`` of ``Beta(alpha + k, beta + n - k)``."""
    a = prior.alpha + np.asarray(failures, dtype="float64")
    b = prior.beta + np.asarray(trials, dtype="float64") - failures
    tail = (1 - interval) / 2
    return a / (a + b), stats.beta.ppf(tail, a, b), stats.beta.ppf(1 - tail, a, b)


def cod_outcomes(
    orders: pd.DataFrame, *, as_of: object, confirmation_hours: float = 1.0
) -> pd.DataFrame:
    """The cash-on-delivery orders placed on or before ``as_of``, each with its outcome.

    Returns the COD rows of ``orders`` with boolean columns ``delivered``, ``refused``,
    ``cancelled_after_confirmation``, ``settled`` and ``failed`` (see the module docstring).
    """
    check_columns(orders, ORDER_COLUMNS, name="orders")
    day = as_of_day(as_of)
    created, aware = utc_micros(orders["created_at"], name="created_at")
    updated, _ = utc_micros(orders["updated_at"], name="updated_at")
    method = orders["payment_method"].astype("str").str.strip().str.lower()
    keep = (method == "cod").to_numpy() & (local_days(created, aware) <= day)
    keep &= orders["user_id"].notna().to_numpy()
    status = orders["order_status"].astype("str").str.strip().str.lower().to_numpy()[keep]
    waited = (updated - created)[keep] >= confirmation_hours * _US_PER_HOUR
    out = orders.loc[keep].copy()
    out["delivered"] = np.isin(status, DELIVERED_STATUSES)
    out["refused"] = np.isin(status, REFUSED_STATUSES)
    out["cancelled_after_confirmation"] = np.isin(status, CANCELLED_STATUSES) & waited
    out["failed"] = out["refused"] | out["cancelled_after_confirmation"]
    out["settled"] = out["failed"] | out["delivered"]
    return out


def delivery_risk(
    customers: pd.DataFrame,
    orders: pd.DataFrame,
    *,
    as_of: object,
    interval: float = 0.9,
    confirmation_hours: float = 1.0,
    spellings: Mapping[str, str] | None = None,
) -> DeliveryRisk:
    """The risk that each person's, and each area's, next cash-on-delivery order fails.

    Parameters
    ----------
    customers
        Customers frame (``load_customers``): ``user_id``, ``phone``, ``email`` and either
        ``city`` and ``area`` or ``address_json``. Records of one person are joined through
        :func:`~selorax_analytics.identities`.
    orders
        Orders frame (``load_orders``): ``user_id``, ``order_status``, ``payment_method``,
        ``created_at``, ``updated_at`` and, for the money lost, ``shipping``.
    as_of
        Orders placed after this Asia/Dhaka day are left out (ISO 8601).
    interval
        Probability of the credible interval (0.9: the 5% and 95% posterior quantiles).
    confirmation_hours
        A cancellation at least this long after the order came after confirmation.
    spellings
        Other spellings of cities and areas (lower case) to their name; by default
        :data:`~selorax_analytics.analytics._places.PLACE_SPELLINGS`.

    Returns
    -------
    DeliveryRisk
        ``people``: one row per person with COD orders, riskiest first: ``identity_id``,
        ``city``, ``area`` (of their latest COD order's record), ``cod_orders``, ``delivered``,
        ``refused``, ``cancelled_after_confirmation``, ``settled``, ``failed``,
        ``observed_rate``, ``risk``, ``risk_low``, ``risk_high``, ``last_failed_at``,
        ``shipping_lost`` (taka: twice the shipping of refused parcels).
        ``areas``: the same counts and risk per normalised ``city`` and ``area``, with
        ``people``; orders of records without an address are left out. ``people_prior`` and
        ``areas_prior`` are the fitted priors (``areas_prior`` is the people's when no settled
        order has an address).

    Raises
    ------
    DataError
        Missing columns, a bad ``as_of`` or ``interval``, or no settled COD order at all.

    Examples
    --------
    >>> risk = sa.delivery_risk(customers, orders, as_of="2026-07-01")  # doctest: +SKIP
    >>> risk.people.head()  # doctest: +SKIP
    """
    if not 0 < interval < 1:
        raise DataError(f"`interval` must be between 0 and 1 (such as 0.9), got {interval!r}.")
    check_columns(customers, ["user_id", "phone", "email"], name="customers")
    outcomes = cod_outcomes(orders, as_of=as_of, confirmation_hours=confirmation_hours)
    records = identities(customers)
    places = place_columns(records, spellings=spellings)
    who = pd.Series(records["identity_id"].to_numpy(), index=records["user_id"].to_numpy())
    outcomes["identity_id"] = outcomes["user_id"].map(who)
    outcomes = outcomes.loc[outcomes["identity_id"].notna()]
    at = pd.Series(range(len(records)), index=records["user_id"].to_numpy())
    where = places.iloc[at.reindex(outcomes["user_id"]).to_numpy()]
    outcomes["city"] = where["city"].to_numpy()
    outcomes["area"] = where["area"].to_numpy()
    people = _tally(outcomes, ["identity_id"])
    if people["settled"].sum() == 0:
        raise DataError("No settled cash-on-delivery order on or before `as_of`: no risk to tell.")
    latest = outcomes.sort_values("created_at").groupby("identity_id")[["city", "area"]].last()
    people = people.join(latest, on="identity_id")
    areas = _tally(outcomes.dropna(subset=["area"]), ["city", "area"])
    areas["people"] = (
        outcomes.dropna(subset=["area"])
        .groupby(["city", "area"])["identity_id"]
        .nunique()
        .to_numpy()
    )
    people_prior = fit_beta_binomial(people["failed"], people["settled"])
    # No address at all (or none on a settled order): no areas, and their prior is the people's.
    has_areas = areas["settled"].sum() > 0
    areas_prior = (
        fit_beta_binomial(areas["failed"], areas["settled"]) if has_areas else people_prior
    )
    return DeliveryRisk(
        people=_shrunk(people, people_prior, interval, ["identity_id", "city", "area"]),
        areas=_shrunk(areas, areas_prior, interval, ["city", "area", "people"]),
        people_prior=people_prior,
        areas_prior=areas_prior,
        as_of=str(pd.Timestamp(np.datetime64(as_of_day(as_of), "D")).date()),
        interval=interval,
    )


def _tally(outcomes: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Counts per unit: COD orders, each outcome, settled, failed, and the money lost."""
    lost = 2 * pd.to_numeric(outcomes.get("shipping", 0.0)) * outcomes["refused"]
    flags = outcomes[["delivered", "refused", "cancelled_after_confirmation", "settled", "failed"]]
    frame = flags.astype("int64").assign(
        cod_orders=1,
        shipping_lost=lost.astype("float64"),
        last_failed_at=outcomes["created_at"].where(outcomes["failed"]),
    )
    frame[keys] = outcomes[keys]
    grouped = frame.groupby(keys, sort=True)
    out = grouped.sum(numeric_only=True)
    out["last_failed_at"] = grouped["last_failed_at"].max()
    return out.reset_index()


def _shrunk(
    units: pd.DataFrame, prior: BetaPrior, interval: float, first: list[str]
) -> pd.DataFrame:
    k, n = units["failed"].to_numpy(), units["settled"].to_numpy()
    mean, low, high = posterior(k, n, prior, interval=interval)
    out = units.assign(
        observed_rate=np.where(n > 0, k / np.maximum(n, 1), np.nan),
        risk=mean,
        risk_low=low,
        risk_high=high,
    )
    columns = [
        *first,
        *COUNT_COLUMNS,
        "settled",
        "failed",
        "observed_rate",
        "risk",
        "risk_low",
        "risk_high",
        "last_failed_at",
        "shipping_lost",
    ]
    out = out[columns].sort_values(["risk", first[0]], ascending=[False, True])
    out = out.reset_index(drop=True)
    out.attrs["interval"] = interval  # how `sa.style` names the interval's columns
    return out


def risky_people(risk: DeliveryRisk | pd.DataFrame, threshold: float) -> pd.Index:
    """``identity_id`` of the people whose risk is above ``threshold`` (between 0 and 1)."""
    if not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
        raise DataError(
            f"A risk threshold must be between 0 and 1 (such as 0.4), got {threshold!r}."
        )
    people = risk.people if isinstance(risk, DeliveryRisk) else risk
    check_columns(people, ["identity_id", "risk"], name="risk")
    return pd.Index(people.loc[people["risk"] > threshold, "identity_id"].unique())
