"""Result objects of the CLV fits: parameters, log-likelihood, convergence and predictions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from selorax_analytics.analytics.clv import _math as _m
from selorax_analytics.analytics.clv._summary import monetary_array, summary_arrays
from selorax_analytics.exceptions import DataError


@dataclass(frozen=True)
class BetaGeoFit:
    """A fitted BG/NBD model. Time is in the unit of the summary it was fitted on.

    Attributes
    ----------
    r, alpha : float
        Shape and rate of the gamma distribution of purchase rates.
    a, b : float
        Parameters of the beta distribution of the drop-out probability.
    log_likelihood : float
        Maximised log-likelihood on the fitted summary.
    n_customers, iterations : int
        Customers fitted; optimiser iterations used.
    message : str
        The optimiser's final message.
    max_frequency, max_T : float
        The largest ``frequency`` and ``T`` seen, the default extent of the matrix plots.
    """

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    n_customers: int
    iterations: int
    message: str
    max_frequency: float
    max_T: float

    @property
    def params(self) -> dict[str, float]:
        """``{"r", "alpha", "a", "b"}``."""
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b}

    def array(self) -> np.ndarray:
        return np.array([self.r, self.alpha, self.a, self.b])

    def probability_alive(self, summary: pd.DataFrame) -> pd.Series:
        """Probability that each customer of ``summary`` (frequency, recency, T) is still active."""
        x, t_x, T = summary_arrays(summary)
        p = _m.probability_alive(self.array(), x, t_x, T)
        return pd.Series(p, index=summary.index, name="p_alive")

    def expected_purchases(self, summary: pd.DataFrame, t: float) -> pd.Series:
        """Expected repeat purchases of each customer in the next ``t`` time units."""
        x, t_x, T = summary_arrays(summary)
        e = _m.expected_purchases(self.array(), _horizon(t), x, t_x, T)
        return pd.Series(finite(e, "expected purchases"), index=summary.index, name="expected")

    def expected_purchases_new(self, t: float) -> float:
        """Expected repeat purchases in ``t`` time units of a customer who just bought first."""
        zero = np.zeros(1)
        return float(_m.expected_purchases(self.array(), _horizon(t), zero, zero, zero)[0])


@dataclass(frozen=True)
class GammaGammaFit:
    """A fitted Gamma-Gamma spend model (same fields as :class:`BetaGeoFit` where shared).

    Spend per purchase is gamma with shape ``p`` and a customer-level rate that is itself gamma
    with shape ``q`` and rate ``gamma``; the population mean spend is ``p * gamma / (q - 1)``.
    """

    p: float
    q: float
    gamma: float
    log_likelihood: float
    n_customers: int
    iterations: int
    message: str

    @property
    def params(self) -> dict[str, float]:
        """``{"p", "q", "gamma"}``."""
        return {"p": self.p, "q": self.q, "gamma": self.gamma}

    @property
    def mean_value(self) -> float:
        """Population mean spend per purchase, ``p * gamma / (q - 1)`` (infinite if q <= 1)."""
        return self.p * self.gamma / (self.q - 1.0) if self.q > 1.0 else float("inf")

    def expected_average_value(self, summary: pd.DataFrame) -> pd.Series:
        """Expected spend per future purchase of each customer (frequency, monetary_value).

        A weighted mean of the population mean and the customer's own mean repeat spend,
        ``p (gamma + x zbar) / (p x + q - 1)``; customers without repeat purchases get the
        population mean.
        """
        x, _, _ = summary_arrays(summary)
        zbar = monetary_array(summary, x)
        if self.q <= 1.0 and np.any(x == 0):
            raise DataError(
                f"The spend model has q = {self.q:.3g} <= 1, so the population mean spend is "
                "infinite and customers without repeat purchases have no expected value; "
                "score only customers with `frequency` > 0, or fit on more repeat buyers."
            )
        value = _m.expected_average_value(self.array(), x, zbar)
        return pd.Series(value, index=summary.index, name="expected_avg_value")

    def array(self) -> np.ndarray:
        return np.array([self.p, self.q, self.gamma])


def _horizon(t: float) -> float:
    if not np.isfinite(t) or t < 0:
        raise DataError(f"The horizon `t` must be a finite number >= 0, got {t!r}.")
    return float(t)


def finite(values: np.ndarray, what: str) -> np.ndarray:
    if not np.all(np.isfinite(values)):
        raise DataError(
            f"The model gave non-finite {what} for {int(np.sum(~np.isfinite(values)))} "
            "customer(s); the fitted parameters are degenerate for this data (a near 1 or "
            "a + b near 1). Refit on a longer history."
        )
    return values
