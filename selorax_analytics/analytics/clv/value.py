"""Customer lifetime value: the BG/NBD purchase model and the Gamma-Gamma spend model.

Which customers are still alive, how many orders each will place and what each is worth, from
three numbers per customer (``frequency`` repeat purchases, ``recency`` time of the last one and
``T`` time since the first, all counted from the first purchase) plus the mean repeat spend
``monetary_value``. The models and the published CDNOW results they reproduce:

- BG/NBD: Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way", Marketing Science
  24(2).
- Gamma-Gamma: Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value".

Fits maximise the log-likelihood over log-parameters with L-BFGS-B and its analytic gradient
(Nelder-Mead then L-BFGS-B again when the first run stops early), on time rescaled to its mean so
every start is well conditioned.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from selorax_analytics.analytics.clv import _math as _m
from selorax_analytics.analytics.clv._models import BetaGeoFit, GammaGammaFit, finite
from selorax_analytics.analytics.clv._summary import monetary_array, summary_arrays
from selorax_analytics.analytics.rfm import customer_summary
from selorax_analytics.exceptions import DataError

__all__ = [
    "BetaGeoFit",
    "CalibrationHoldout",
    "GammaGammaFit",
    "calibration_holdout",
    "customer_value",
    "fit_bgnbd",
    "fit_gamma_gamma",
]

#: Days in an average month; the discount rate of :func:`customer_value` is per such month.
DAYS_PER_MONTH = 365.25 / 12


def fit_bgnbd(summary: pd.DataFrame) -> BetaGeoFit:
    """Fit the BG/NBD model of repeat purchasing and drop-out by maximum likelihood.

    Parameters
    ----------
    summary : DataFrame
        One row per customer with ``frequency`` (repeat purchases, a whole number), ``recency``
        (time of the last purchase after the first) and ``T`` (time since the first purchase),
        all in one time unit, as :func:`selorax_analytics.customer_summary` returns.

    Returns
    -------
    BetaGeoFit
        Parameters, log-likelihood and methods to predict, in the summary's time unit.

    Raises
    ------
    DataError
        If a column is missing, a value is negative, NaN or not whole where it must be,
        ``recency > T``, nobody bought twice, or the fit does not converge.

    Examples
    --------
    >>> model = fit_bgnbd(summary)  # doctest: +SKIP
    >>> model.expected_purchases(summary, t=39)  # doctest: +SKIP
    """
    x, t_x, T = summary_arrays(summary)
    if not np.any(x > 0):
        raise DataError(
            f"None of the {len(x)} customers in `summary` has `frequency` > 0, so there is no "
            "repeat buying to fit; use a longer history or a later `as_of`."
        )
    scale = float(np.mean(T)) or 1.0
    groups = _m.group_counts(x)
    tx_s, T_s = t_x / scale, T / scale

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        params = np.exp(theta)
        ll, grad = _m.bgnbd_loglik(params, groups, tx_s, T_s)
        return -ll.sum() / len(x), -grad * params / len(x)

    res = _m.optimise(objective, 4, "BG/NBD")
    r, alpha_s, a, b = np.exp(res.x)
    params = np.array([r, alpha_s * scale, a, b])
    ll = float(_m.bgnbd_loglik(params, groups, t_x, T)[0].sum())
    return BetaGeoFit(
        r=float(r),
        alpha=float(params[1]),
        a=float(a),
        b=float(b),
        log_likelihood=ll,
        n_customers=len(x),
        iterations=int(res.nit),
        message=str(res.message),
        max_frequency=float(x.max()),
        max_T=float(T.max()),
    )


def fit_gamma_gamma(summary: pd.DataFrame) -> GammaGammaFit:
    """Fit the Gamma-Gamma model of spend per purchase on the customers with repeat purchases.

    Parameters
    ----------
    summary : DataFrame
        ``frequency`` and ``monetary_value`` (mean spend of the repeat purchases) per customer,
        plus ``recency`` and ``T``. Rows with ``frequency == 0`` are left out of the fit.

    Returns
    -------
    GammaGammaFit
        Parameters ``p, q, gamma`` (money in the summary's unit) and ``expected_average_value``.

    Raises
    ------
    DataError
        If a column is missing, a repeat buyer's ``monetary_value`` is not positive or NaN,
        nobody bought twice, or the fit does not converge.

    Examples
    --------
    >>> spend = fit_gamma_gamma(summary)  # doctest: +SKIP
    >>> spend.expected_average_value(summary)  # doctest: +SKIP
    """
    x, _, _ = summary_arrays(summary)
    zbar = monetary_array(summary, x)
    repeat = x > 0
    if not repeat.any():
        raise DataError(
            f"None of the {len(x)} customers in `summary` has `frequency` > 0; the spend model "
            "learns from repeat purchases only. Use a longer history or a later `as_of`."
        )
    if np.any(zbar[repeat] <= 0):
        bad = int(np.sum(zbar[repeat] <= 0))
        raise DataError(
            f"{bad} customer(s) with repeat purchases have `monetary_value` <= 0; the spend "
            "model needs positive amounts. Drop those rows before fitting."
        )
    xr, zr = x[repeat], zbar[repeat]
    scale = float(np.mean(zr))
    groups = _m.group_counts(xr)

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        params = np.exp(theta)
        ll, grad = _m.gamma_gamma_loglik(params, groups, zr / scale)
        return -ll.sum() / len(xr), -grad * params / len(xr)

    res = _m.optimise(objective, 3, "Gamma-Gamma")
    p, q, gam_s = np.exp(res.x)
    params = np.array([p, q, gam_s * scale])
    ll = float(_m.gamma_gamma_loglik(params, groups, zr)[0].sum())
    return GammaGammaFit(
        p=float(p),
        q=float(q),
        gamma=float(params[2]),
        log_likelihood=ll,
        n_customers=len(xr),
        iterations=int(res.nit),
        message=str(res.message),
    )


def customer_value(
    orders: pd.DataFrame,
    *,
    as_of: object,
    horizon_days: float = 365,
    discount_rate: float = 0.01,
    margin: float = 1.0,
) -> pd.DataFrame:
    """Probability alive, expected orders, expected order value and lifetime value per customer.

    Builds the per-customer summary in days with :func:`selorax_analytics.customer_summary`
    (valid orders on or before the ``as_of`` day; cancelled, returned and failed orders do not
    count; same-day orders merge into one purchase on the Asia/Dhaka calendar), fits
    :func:`fit_bgnbd` and :func:`fit_gamma_gamma` on it and scores every customer.

    The value is ``margin * expected_avg_order_value * sum_k E_k / (1 + discount_rate) ** (t_k /
    30.44)``: the horizon is cut into average months (365.25 / 12 days, the last one possibly
    shorter), ``E_k`` is the number of orders expected in month ``k`` and ``t_k`` the day that
    month ends, so ``discount_rate`` is a monthly rate applied at the end of each month.

    Parameters
    ----------
    orders : DataFrame
        Orders as :func:`selorax_analytics.load_orders` returns them (``user_id``,
        ``order_status``, ``grand_total``, ``created_at``).
    as_of : date-like
        Last day of observation, inclusive (an Asia/Dhaka calendar day); later orders are
        ignored.
    horizon_days : float, default 365
        How far ahead to count orders and value.
    discount_rate : float, default 0.01
        Monthly discount rate (0.01 a month is about 12.7 % a year); 0 for no discounting.
    margin : float, default 1.0
        Share of order value that is profit; 1.0 gives revenue lifetime value.

    Returns
    -------
    DataFrame
        One row per customer, sorted by ``user_id``: ``user_id``, ``frequency``, ``recency``,
        ``T`` (days), ``monetary_value`` (mean repeat order value), ``p_alive``,
        ``expected_orders`` (in the horizon), ``expected_avg_order_value``, ``clv``.

    Raises
    ------
    DataError
        For missing columns, no valid orders, no repeat buyers, a fit that does not converge or
        a bad option value.

    Examples
    --------
    >>> value = customer_value(orders, as_of="2026-07-01")  # doctest: +SKIP
    >>> rfm.merge(value[["user_id", "p_alive", "clv"]], on="user_id")  # doctest: +SKIP
    """
    _check_positive(horizon_days, "horizon_days")
    _check_positive(margin, "margin")
    if not (np.isfinite(discount_rate) and 0 <= discount_rate < 1):
        raise DataError(f"`discount_rate` is a monthly rate in [0, 1), got {discount_rate!r}.")
    summary = _daily_summary(orders, as_of)
    purchases = fit_bgnbd(summary)
    spend = fit_gamma_gamma(summary[(summary["frequency"] == 0) | (summary["monetary_value"] > 0)])
    value = spend.expected_average_value(summary).to_numpy()
    data = summary_arrays(summary)
    discounted = _m.discounted_purchases(
        purchases.array(), float(horizon_days), DAYS_PER_MONTH, discount_rate, data
    )
    return summary.assign(
        p_alive=purchases.probability_alive(summary).to_numpy(),
        expected_orders=purchases.expected_purchases(summary, horizon_days).to_numpy(),
        expected_avg_order_value=value,
        clv=margin * value * finite(discounted, "discounted purchases"),
    )


@dataclass(frozen=True, eq=False)
class CalibrationHoldout:
    """A BG/NBD model fitted on a calibration period and checked on the holdout after it.

    Attributes
    ----------
    customers : DataFrame
        One row per customer who bought in the calibration period: ``user_id``, ``frequency``,
        ``recency``, ``T``, ``monetary_value`` (calibration, days), ``actual`` (purchase days in
        the holdout) and ``predicted`` (expected purchases in the holdout).
    model : BetaGeoFit
        The model fitted on the calibration summary.
    holdout_days : float
        Length of the holdout period.
    mae : float
        Mean absolute error of ``predicted`` against ``actual`` per customer.
    total_actual, total_predicted : float
        Purchases in the holdout over all customers, observed and predicted.
    """

    customers: pd.DataFrame
    model: BetaGeoFit
    holdout_days: float
    mae: float
    total_actual: float
    total_predicted: float

    def by_frequency(self, max_frequency: int = 7) -> pd.DataFrame:
        """Mean actual and predicted holdout purchases per calibration ``frequency``.

        Frequencies above ``max_frequency`` share the last bin. Columns: ``frequency`` (the bin's
        lowest value), ``customers``, ``actual``, ``predicted``.
        """
        if max_frequency < 1:
            raise DataError(f"`max_frequency` must be at least 1, got {max_frequency!r}.")
        frame = self.customers.assign(
            frequency=self.customers["frequency"].clip(upper=max_frequency)
        )
        table = frame.groupby("frequency", sort=True).agg(
            customers=("user_id", "size"),
            actual=("actual", "mean"),
            predicted=("predicted", "mean"),
        )
        return table.reset_index()


def calibration_holdout(
    orders: pd.DataFrame, *, calibration_end: object, holdout_end: object
) -> CalibrationHoldout:
    """Fit BG/NBD on the orders up to ``calibration_end`` and compare with the days after it.

    Parameters
    ----------
    orders : DataFrame
        Orders as :func:`selorax_analytics.load_orders` returns them.
    calibration_end, holdout_end : date-like
        Last days (inclusive, Asia/Dhaka calendar) of the calibration period and of the holdout;
        the holdout runs from the day after ``calibration_end`` to ``holdout_end``.

    Returns
    -------
    CalibrationHoldout
        Per-customer calibration summary with ``actual`` and ``predicted`` holdout purchases,
        the fitted model, MAE and totals; see :func:`plot_calibration_holdout`.

    Raises
    ------
    DataError
        If ``holdout_end`` is not after ``calibration_end``, or as for :func:`fit_bgnbd`.

    Examples
    --------
    >>> check = calibration_holdout(orders, calibration_end="2026-01-01",
    ...                             holdout_end="2026-07-01")  # doctest: +SKIP
    >>> check.mae, check.total_actual, check.total_predicted  # doctest: +SKIP
    """
    summary = _daily_summary(orders, calibration_end)
    later = _daily_summary(orders, holdout_end).set_index("user_id")
    later = later.reindex(summary["user_id"])
    gap = later["T"].to_numpy() - summary["T"].to_numpy()
    days = float(gap[0])
    if not days > 0 or np.isnan(gap).any():
        raise DataError(
            f"`holdout_end` ({holdout_end!r}) must be a later day than `calibration_end` "
            f"({calibration_end!r}); the holdout is the period between them."
        )
    model = fit_bgnbd(summary)
    actual = (later["frequency"] - summary["frequency"].to_numpy()).to_numpy(float)
    predicted = model.expected_purchases(summary, days).to_numpy()
    customers = summary.assign(actual=actual, predicted=predicted)
    return CalibrationHoldout(
        customers=customers,
        model=model,
        holdout_days=float(days),
        mae=float(np.mean(np.abs(predicted - actual))),
        total_actual=float(actual.sum()),
        total_predicted=float(predicted.sum()),
    )


def _daily_summary(orders: pd.DataFrame, as_of: object) -> pd.DataFrame:
    summary = customer_summary(orders, as_of=as_of, freq="D").rename_axis("user_id")
    summary = summary.reset_index()
    return summary.assign(
        user_id=summary["user_id"].astype("Int64"),
        frequency=summary["frequency"].astype("int64"),
    )


def _check_positive(value: float, name: str) -> None:
    if not (isinstance(value, int | float) and np.isfinite(value) and value > 0):
        raise DataError(f"`{name}` must be a finite number > 0, got {value!r}.")
