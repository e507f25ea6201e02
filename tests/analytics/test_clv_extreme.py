"""BG/NBD expected purchases at extreme fitted parameters, against mpmath at 50 digits.

The reference is the published formula (Fader, Hardie & Lee 2005, eq. 10) evaluated as written
in mpmath at 50 digits: ``(a+b+x-1)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x;
a+b+x-1; t/(alpha+T+t))] / (1 + [x>0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))``. At 50 digits
neither the overflow of float64 nor the cancellation near ``a = 1`` touches it. The 2F1 is
summed term by term (:func:`hypergeometric`), not taken from ``mpmath.hyp2f1``: at 50 digits that
returns 4.97455846352 for ``2F1(1.5, 554; 776; 0.919)`` (a = 223, b = 554, alpha = 30, t = 340),
wrong from the 9th digit (the plain sum and ``hyp2f1`` at 80 digits agree on 4.97455847548).
"""

from __future__ import annotations

import warnings

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from selorax_analytics.analytics.clv import _math as _clv_math
from selorax_analytics.analytics.clv.value import customer_value
from selorax_analytics.sandbox.fleet import fleet_specs
from selorax_analytics.sandbox.frames import api_frames
from selorax_analytics.sandbox.generator import DEFAULT_SEED, DEMO_AS_OF, generate_store

#: The BG/NBD fit of fleet store 1163 (``Sandbox(stores=200)``, default seed), in days.
STORE_1163 = (0.08259971854403776, 51.704848858108306, 379.1769199914936, 485.7049658519836)
#: Relative tolerance: the series is a few hundred positive terms, each good to ~1e-15.
RTOL = 1e-10


def hypergeometric(A, B, C, z):
    """Gauss's series ``sum (A)_n (B)_n / ((C)_n n!) z^n`` for ``0 <= z < 1``, to 45 digits.

    With ``A, B, C > 0`` every term is positive, and once ``n > A*B/C`` the ratio of successive
    terms is below ``z * max(1, (A+n)(B+n)/((C+n)(n+1)))``, so the tail is bounded geometrically.
    """
    total, term, n = mpmath.mpf(0), mpmath.mpf(1), 0
    while True:
        total += term
        ratio = (A + n) * (B + n) / ((C + n) * (n + 1)) * z
        bound = z * max(1, (A + n + 1) * (B + n + 1) / ((C + n + 1) * (n + 2)))
        term *= ratio
        n += 1
        if bound < 1 and term / (1 - bound) < total * mpmath.mpf("1e-45"):
            return total + term


def published(params, t: float, x: float, t_x: float, T: float) -> float:
    """FHL (2005) eq. 10 over P(alive), at 50 significant digits."""
    with mpmath.workdps(50):
        r, alpha, a, b = (mpmath.mpf(v) for v in params)
        x_, t_x_, T_, t_ = (mpmath.mpf(v) for v in (x, t_x, T, t))
        if abs(a - 1) < mpmath.mpf("1e-20"):
            a += mpmath.mpf("1e-20")  # removable singularity; the value is continuous there
        z = t_ / (alpha + T_ + t_)
        keep = (alpha + T_) / (alpha + T_ + t_)
        bracket = 1 - keep ** (r + x_) * hypergeometric(r + x_, b + x_, a + b + x_ - 1, z)
        head = (a + b + x_ - 1) / (a - 1)
        odds = 0
        if x > 0:
            odds = a / (b + x_ - 1) * ((alpha + T_) / (alpha + t_x_)) ** (r + x_)
        return float(head * bracket / (1 + odds))


def ours(params, t: float, x: float, t_x: float, T: float) -> float:
    arrays = (np.array([x]), np.array([t_x]), np.array([T]))
    return float(_clv_math.expected_purchases(np.array(params), t, *arrays)[0])


# Customers of store 1163 whose first order is days old: the published form's 2F1 overflows.
@pytest.mark.parametrize(
    ("x", "t_x", "T", "t"),
    [(0, 0.0, 0.0, 365.0), (0, 0.0, 3.0, 365.0), (0, 0.0, 9.0, 30.44), (1, 2.0, 5.0, 365.0)],
)
def test_store_1163_parameters_give_finite_expected_purchases(x, t_x, T, t):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow RuntimeWarning on the way either
        value = ours(STORE_1163, t, x, t_x, T)
    assert np.isfinite(value)
    assert value == pytest.approx(published(STORE_1163, t, x, t_x, T), rel=RTOL)


@pytest.mark.parametrize(
    ("params", "row"),
    [
        ((0.243, 4.414, 0.793, 2.426), (39.0, 2, 30.43, 38.86)),  # CDNOW (weeks)
        ((0.243, 4.414, 1.0, 2.426), (39.0, 2, 30.43, 38.86)),  # a = 1 exactly
        ((0.243, 4.414, 1.0 + 1e-9, 2.426), (39.0, 0, 0.0, 1.0)),  # next to it
        ((2.0, 30.0, 2000.0, 0.1), (365.0, 25, 300.0, 310.0)),  # almost everyone drops out
        ((0.5, 10.0, 0.1, 2000.0), (730.0, 60, 700.0, 720.0)),  # almost nobody drops out
        ((0.08, 51.7, 1500.0, 1900.0), (1e-6, 0, 0.0, 0.0)),  # a tiny horizon
    ],
)
def test_extreme_parameters_match_mpmath(params, row):
    t, x, t_x, T = row
    assert ours(params, t, x, t_x, T) == pytest.approx(published(params, t, x, t_x, T), rel=RTOL)


def test_zero_horizon_expects_nothing():
    assert ours(STORE_1163, 0.0, 3, 10.0, 20.0) == 0.0


# Realistic ranges in days: alpha >= 10 days (mean purchase rate r/alpha), horizons to a year.
@settings(max_examples=40, deadline=None)
@given(
    a=st.floats(0.1, 2000.0),
    b=st.floats(0.1, 2000.0),
    r=st.floats(0.05, 5.0),
    alpha=st.floats(10.0, 500.0),
    x=st.integers(0, 60),
    share=st.floats(0.0, 1.0),
    T=st.floats(0.0, 1000.0),
    t=st.one_of(st.just(0.0), st.floats(0.01, 400.0)),
)
def test_expected_purchases_match_the_published_formula(a, b, r, alpha, x, share, T, t):
    t_x = share * T if x > 0 else 0.0
    params = (r, alpha, a, b)
    assert ours(params, t, x, t_x, T) == pytest.approx(
        published(params, t, x, t_x, T), rel=RTOL, abs=1e-300
    )


def test_customer_value_on_fleet_store_1163_is_finite():
    spec = fleet_specs(200, DEFAULT_SEED)[162]
    assert spec.store_id == 1163
    store = generate_store(
        seed=spec.seed,
        customers=spec.customers,
        store_id=spec.store_id,
        rate_scale=spec.rate_scale,
    )
    _, orders = api_frames(store)
    value = customer_value(orders, as_of=DEMO_AS_OF)
    columns = ["p_alive", "expected_orders", "expected_avg_order_value", "clv"]
    assert np.isfinite(value[columns].to_numpy()).all()
    new = value[value["T"] < 10]
    assert len(new) > 0
    # A customer who just bought first: the population's expected purchases in a year, a
    # positive number below the Poisson bound r * t / alpha of a customer who never drops out.
    r, alpha = STORE_1163[:2]
    assert (new["expected_orders"] > 0).all()
    assert (new["expected_orders"] < r * 365 / alpha).all()
