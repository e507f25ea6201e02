"""Log-likelihoods, gradients and predictions of the BG/NBD and Gamma-Gamma models.

Plain numpy/scipy on arrays; :mod:`selorax_analytics.analytics.clv.value` wraps them for frames.

Notation follows Fader, Hardie & Lee (2005) for BG/NBD (``x`` repeat purchases, ``t_x`` time of
the last one, ``T`` time since the first purchase; parameters ``r, alpha, a, b``) and Fader &
Hardie (2013) for Gamma-Gamma (``zbar`` mean repeat spend; parameters ``p, q, gamma``).

Everything is written in log space (``gammaln``, ``betaln``, ``logaddexp``, ``expm1``), and terms
that depend on the customer only through ``x`` are computed once per distinct ``x`` and gathered,
so a million customers cost a few array passes per evaluation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from scipy.optimize import OptimizeResult, minimize
from scipy.special import betaln, digamma, expit, gammaln

from selorax_analytics.exceptions import DataError

FloatArray = np.ndarray
Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]
_GRADIENT_TOLERANCE = 1e-4
_EXTREME = float(np.log(1e4))
_BOUND = 20.0
#: Terms of the expected-purchases series added per pass, and the most it may take.
_BLOCK = 64
_MAX_TERMS = 1_000_000


class Counts(NamedTuple):
    """Customers grouped by repeat count: ``values[inverse]`` restores the per-customer ``x``."""

    values: FloatArray
    inverse: np.ndarray
    counts: FloatArray


def group_counts(x: FloatArray) -> Counts:
    values, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    return Counts(values.astype(float), inverse, counts.astype(float))


def bgnbd_loglik(
    params: FloatArray, groups: Counts, t_x: FloatArray, T: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Per-customer log-likelihood and the gradient of its sum with respect to the parameters.

    ``L = B(a, b+x)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+T)^(r+x))
    + [x>0] B(a+1, b+x-1)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+t_x)^(r+x))``.
    """
    r, alpha, a, b = params
    xu, inv = groups.values, groups.inverse
    repeat = xu > 0
    bm1 = np.where(repeat, b + xu - 1.0, 1.0)
    rx = r + xu
    head_u = gammaln(rx) - gammaln(r) + r * np.log(alpha)
    beta0 = betaln(a, b)
    a2_u = betaln(a, b + xu) - beta0
    a3_u = np.where(repeat, betaln(a + 1.0, bm1) - beta0, -np.inf)
    log_t_big = np.log(alpha + T)
    log_t_last = np.log(alpha + t_x)
    rxc = rx[inv]
    a2 = a2_u[inv] - rxc * log_t_big
    a3 = a3_u[inv] - rxc * log_t_last
    mix = np.logaddexp(a2, a3)
    ll = head_u[inv] + mix
    w = np.exp(a3 - mix)  # weight of the "dropped out after the last purchase" branch
    n = groups.counts
    d_a2_da = digamma(a + b) - digamma(a + b + xu)
    d_a2_db = digamma(b + xu) - digamma(a + b + xu) - digamma(b) + digamma(a + b)
    grad = np.array(
        [
            n @ (digamma(rx) - digamma(r) + np.log(alpha))
            - np.sum(log_t_big + w * (log_t_last - log_t_big)),
            n.sum() * r / alpha - np.sum(rxc * ((1.0 - w) / (alpha + T) + w / (alpha + t_x))),
            n @ d_a2_da + np.sum(w) / a,
            n @ d_a2_db - np.sum(w / bm1[inv]),
        ]
    )
    return ll, grad


def gamma_gamma_loglik(
    params: FloatArray, groups: Counts, zbar: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Per-customer log-likelihood of the mean spend ``zbar`` (``x > 0``) and its gradient.

    ``f(zbar) = G(px+q)/(G(px) G(q)) * gamma^q zbar^(px-1) x^(px) / (gamma + x zbar)^(px+q)``.
    """
    p, q, gam = params
    xu, inv = groups.values, groups.inverse
    px = p * xu
    head_u = gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(gam) + px * np.log(xu)
    x = xu[inv]
    log_z = np.log(zbar)
    log_sum = np.log(gam + x * zbar)
    pxc = px[inv]
    ll = head_u[inv] + (pxc - 1.0) * log_z - (pxc + q) * log_sum
    n = groups.counts
    grad = np.array(
        [
            n @ (xu * (digamma(px + q) - digamma(px) + np.log(xu))) + np.sum(x * (log_z - log_sum)),
            n @ (digamma(px + q) - digamma(q)) + n.sum() * np.log(gam) - np.sum(log_sum),
            n.sum() * q / gam - np.sum((pxc + q) / (gam + x * zbar)),
        ]
    )
    return ll, grad


def probability_alive(
    params: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray
) -> FloatArray:
    """``1 / (1 + [x>0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))``, as a logistic of a log-odds."""
    r, alpha, a, b = params
    repeat = x > 0
    bm1 = np.where(repeat, b + x - 1.0, 1.0)
    log_odds = np.log(a) - np.log(bm1) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    return np.where(repeat, expit(-log_odds), 1.0)


def expected_purchases(
    params: FloatArray, t: FloatArray | float, x: FloatArray, t_x: FloatArray, T: FloatArray
) -> FloatArray:
    """Expected repeat purchases in ``(T, T + t]`` given ``(x, t_x, T)`` (FHL 2005, eq. 10).

    The published form ``(a+b+x-1)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x)
    2F1(r+x, b+x; a+b+x-1; z)] * P(alive)`` with ``z = t/(alpha+T+t)`` is not evaluated as
    written: for large ``a`` and ``b`` (customers who barely differ in drop-out) the Gauss
    hypergeometric function overflows float64 in any of its Euler/Pfaff forms, and near ``a = 1``
    the bracket cancels against the ``1/(a-1)`` in front. Instead the same quantity is summed as
    the series it is made of, every term positive and bounded (see :func:`_alive_purchases`), so
    the result is accurate to a few units in the 13th digit for any ``a, b > 0``.
    """
    t, x, T = np.broadcast_arrays(np.asarray(t, dtype=float), x, T)
    rows, inverse = np.unique(
        np.stack([x.ravel(), T.ravel(), t.ravel()]), axis=1, return_inverse=True
    )
    alive_mean = _alive_purchases(params, rows[0], rows[1], rows[2])[inverse.ravel()]
    return alive_mean.reshape(x.shape) * probability_alive(params, x, t_x, T)


def _alive_purchases(params: FloatArray, x: FloatArray, T: FloatArray, t: FloatArray) -> FloatArray:
    """``E[X(T, T+t) | alive at T]`` as ``sum_n P(N = n) S_n``, every term positive.

    Given alive at ``T``, the purchase rate is Gamma(r+x, alpha+T) and the drop-out probability
    Beta(a, b+x), independently. ``N``, the purchases in ``(T, T+t]`` if nobody dropped out, is
    then negative binomial, ``P(N = n) = (r+x)_n / n! (1-z)^(r+x) z^n``, and the ``j``-th of them
    happens if the customer survived ``j`` drop-out chances, with probability
    ``s_j = E[(1-p)^j] = (b+x)_j / (a+b+x)_j``; ``S_n = s_0 + ... + s_(n-1)``. Expanding the
    published bracket in ``z`` gives the same series. Terms are computed in log space (``betaln``
    for the ``s_j``), blocks of terms are added until a geometric bound on the rest of the tail
    is below ``1e-16`` of the sum, so no division by ``a - 1`` and no cancellation occurs.
    """
    r, alpha, a, b = params
    k = r + x
    log_keep = np.log(alpha + T) - np.log(alpha + T + t)  # log(1 - z)
    with np.errstate(divide="ignore"):
        log_z = np.log(t) - np.log(alpha + T + t)
    total = np.zeros(len(x))
    active = np.flatnonzero(t > 0)
    log_pmf = k * log_keep  # log P(N = n) at the start of the block, per row
    carried = np.zeros(len(x))  # S_n at the start of the block
    start = 0
    while active.size:
        if start > _MAX_TERMS:
            raise DataError(
                f"The expected purchases did not converge within {_MAX_TERMS} terms for "
                f"{active.size} customer(s) (r={r:.3g}, alpha={alpha:.3g}, a={a:.3g}, "
                f"b={b:.3g}): the horizon is very long compared with alpha + T. Use a shorter "
                "horizon."
            )
        n = start + np.arange(_BLOCK, dtype=float)
        ka, za = k[active, None], log_z[active, None]
        steps = za + np.log(ka + n[:-1]) - np.log(n[:-1] + 1.0)
        lp = log_pmf[active, None] + np.concatenate(
            [np.zeros((active.size, 1)), np.cumsum(steps, axis=1)], axis=1
        )
        xa = x[active, None]
        log_s = betaln(a, b + xa + n) - betaln(a, b + xa)
        s = np.exp(log_s)
        partial = carried[active, None] + np.concatenate(
            [np.zeros((active.size, 1)), np.cumsum(s[:, :-1], axis=1)], axis=1
        )
        total[active] += np.sum(np.exp(lp) * partial, axis=1)
        last = n[-1]
        rho = np.exp(za[:, 0]) * np.maximum(1.0, (ka[:, 0] + last) / (last + 1.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            rest = np.exp(lp[:, -1]) * rho / (1.0 - rho) * (partial[:, -1] + s[:, -1] / (1.0 - rho))
        done = (rho < 1.0) & (rest <= 1e-16 * total[active])
        log_pmf[active] = lp[:, -1] + za[:, 0] + np.log(ka[:, 0] + last) - np.log(last + 1.0)
        carried[active] = partial[:, -1] + s[:, -1]
        active = active[~done]
        start += _BLOCK
    return total


def expected_average_value(params: FloatArray, x: FloatArray, zbar: FloatArray) -> FloatArray:
    """Posterior mean spend per purchase: ``p (gamma + x zbar) / (p x + q - 1)``."""
    p, q, gam = params
    return p * (gam + x * zbar) / (p * x + q - 1.0)


def simulate_bgnbd(
    rng: np.random.Generator, params: FloatArray, T: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Draw ``(x, t_x)`` from the BG/NBD generative process for observation lengths ``T``.

    Purchases follow a Poisson process with rate ``lambda ~ Gamma(r, alpha)``; after each repeat
    purchase the customer drops out with probability ``p ~ Beta(a, b)``. So ``x`` is the smaller
    of the Poisson count in ``(0, T]`` and a geometric number of purchases survived, and the
    ``x``-th of ``n`` uniform arrival times on ``(0, T]`` is ``T * Beta(x, n - x + 1)``.
    """
    r, alpha, a, b = params
    size = len(T)
    lam = rng.gamma(r, 1.0 / alpha, size)
    drop = rng.beta(a, b, size)
    n = rng.poisson(lam * T)
    x = np.minimum(n, rng.geometric(np.clip(drop, 1e-300, 1.0)))
    repeat = x > 0
    t_x = np.zeros(size)
    t_x[repeat] = T[repeat] * rng.beta(x[repeat], n[repeat] - x[repeat] + 1)
    return x.astype(float), t_x


def optimise(objective: Objective, size: int, name: str) -> OptimizeResult:
    """Minimise over log-parameters: BFGS, then Nelder-Mead and BFGS again if needed.

    Log-parameters are clipped to [-20, 20] so nothing overflows. Raises :class:`DataError`
    when the gradient does not vanish or a parameter runs off beyond ``1e-4`` or ``1e4`` (on
    time and money rescaled to their means), where the likelihood is flat and the data cannot
    pin the model down.
    """

    def clipped(theta: np.ndarray) -> tuple[float, np.ndarray]:
        return objective(np.clip(theta, -_BOUND, _BOUND))

    options = {"gtol": 1e-7, "maxiter": 2000}
    with np.errstate(all="ignore"):
        res = minimize(clipped, np.zeros(size), jac=True, method="BFGS", options=options)
        if not _stationary(res, clipped):
            rough = minimize(
                lambda th: clipped(th)[0],
                np.nan_to_num(res.x),
                method="Nelder-Mead",
                options={"maxiter": 4000, "xatol": 1e-8, "fatol": 1e-12},
            )
            res = minimize(clipped, rough.x, jac=True, method="BFGS", options=options)
        stationary = _stationary(res, clipped)
    res.x = np.clip(res.x, -_BOUND, _BOUND)
    values = ", ".join(f"{v:.3g}" for v in np.exp(res.x))
    if np.any(np.abs(res.x) > _EXTREME):
        raise DataError(
            f"The {name} fit ran off to extreme parameters ({values} on rescaled time and "
            "money): the data cannot pin the model down, typically too few repeat buyers or "
            "nobody dropping out. Use a longer history or more customers."
        )
    if not stationary:
        raise DataError(
            f"The {name} fit did not converge ({res.message}; last parameters {values} on "
            "rescaled time and money). Check the summary for outliers, or use a longer history "
            "or more customers."
        )
    return res


def _stationary(res: OptimizeResult, objective: Objective) -> bool:
    if not np.all(np.isfinite(res.x)) or not np.isfinite(res.fun):
        return False
    _, grad = objective(res.x)
    return bool(np.all(np.isfinite(grad)) and np.max(np.abs(grad)) < _GRADIENT_TOLERANCE)


def discounted_purchases(
    params: FloatArray,
    horizon: float,
    period: float,
    rate: float,
    data: tuple[FloatArray, FloatArray, FloatArray],
) -> FloatArray:
    """Expected purchases in ``(T, T + horizon]``, each period's share discounted.

    The horizon is cut into periods of length ``period`` (the last one may be shorter); the
    purchases expected in period ``k`` are divided by ``(1 + rate) ** (t_k / period)``, where
    ``t_k`` is the end of the period.
    """
    x, t_x, T = data
    ends = np.minimum(np.arange(1, int(np.ceil(horizon / period)) + 1) * period, horizon)
    total = np.zeros(len(x))
    before = np.zeros(len(x))
    for end in ends:
        cumulative = expected_purchases(params, end, x, t_x, T)
        total += (cumulative - before) / (1.0 + rate) ** (end / period)
        before = cumulative
    return total
