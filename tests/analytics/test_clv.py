"""BG/NBD and Gamma-Gamma: published CDNOW results, numerical integration, SQL and the demo store.

Published numbers (``tests/data``, weeks): Fader, Hardie & Lee (2005) for BG/NBD and Fader &
Hardie (2013) for Gamma-Gamma. Published values are rounded, so agreement is asked to one unit
in their last digit.
"""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats
from scipy.special import hyp2f1

from selorax_analytics.analytics.clv import _math as _clv_math
from selorax_analytics.analytics.clv.value import (
    BetaGeoFit,
    GammaGammaFit,
    calibration_holdout,
    customer_value,
    fit_bgnbd,
    fit_gamma_gamma,
)
from selorax_analytics.exceptions import DataError

DATA = Path(__file__).parents[1] / "data"
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}
AS_OF = "2026-07-01"
DHAKA_OFFSET_S = 6 * 3600  # Asia/Dhaka is UTC+6 all year


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    raw = pd.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv")
    return raw.rename(columns={"x": "frequency", "t_x": "recency", "zbar": "monetary_value"})


@pytest.fixture(scope="module")
def cdnow_fit(cdnow) -> BetaGeoFit:
    return fit_bgnbd(cdnow)


def published_model() -> BetaGeoFit:
    return BetaGeoFit(
        **PUBLISHED_BGNBD,
        log_likelihood=math.nan,
        n_customers=0,
        iterations=0,
        message="",
        max_frequency=29,
        max_T=38.86,
    )


def one_customer(x: float, t_x: float, T: float) -> pd.DataFrame:
    return pd.DataFrame({"frequency": [x], "recency": [t_x], "T": [T]})


# --- published CDNOW results -------------------------------------------------------------------


def test_bgnbd_reproduces_published_cdnow_fit(cdnow_fit):
    for name, value in PUBLISHED_BGNBD.items():
        assert getattr(cdnow_fit, name) == pytest.approx(value, abs=1e-3), name
    assert cdnow_fit.log_likelihood == pytest.approx(-9582.4, abs=0.1)
    assert cdnow_fit.n_customers == 2357


def test_bgnbd_worked_example_expects_1_226_purchases(cdnow_fit):
    expected = cdnow_fit.expected_purchases(one_customer(2, 30.43, 38.86), t=39)
    assert expected.iloc[0] == pytest.approx(1.226, abs=1e-3)


def test_gamma_gamma_reproduces_published_cdnow_fit(cdnow):
    spend = fit_gamma_gamma(cdnow)
    assert spend.n_customers == 946
    for name, value in PUBLISHED_GG.items():
        assert getattr(spend, name) == pytest.approx(value, abs=1e-2), name


def test_fit_is_a_maximum_not_just_near_the_published_point(cdnow, cdnow_fit):
    groups = _clv_math.group_counts(cdnow["frequency"].to_numpy(float))
    data = (groups, cdnow["recency"].to_numpy(float), cdnow["T"].to_numpy(float))
    at_published = _clv_math.bgnbd_loglik(np.array([*PUBLISHED_BGNBD.values()]), *data)[0]
    assert cdnow_fit.log_likelihood >= at_published.sum()
    _, grad = _clv_math.bgnbd_loglik(cdnow_fit.array(), *data)
    assert np.max(np.abs(grad * cdnow_fit.array())) < 1e-2


def test_customer_summary_rebuilds_the_published_cdnow_summary(cdnow):
    from selorax_analytics.analytics.rfm import customer_summary

    raw = pd.read_csv(
        DATA / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["original_id", "id", "date", "cds", "dollars"],
    )
    noon = pd.to_datetime(raw["date"].astype(str), format="%Y%m%d") + pd.Timedelta(hours=12)
    orders = pd.DataFrame(
        {
            "user_id": raw["id"].astype("Int64"),
            "order_status": "delivered",
            "grand_total": raw["dollars"].astype(float),
            "created_at": noon.dt.tz_localize("Asia/Dhaka").dt.tz_convert("UTC"),
        }
    )
    ours = customer_summary(orders, as_of="1997-09-30", freq="W")
    both = ours.join(cdnow.set_index("ID"), suffixes=("", "_pub"))
    assert len(both) == len(cdnow) == 2357
    for column in ("frequency", "recency", "T", "monetary_value"):
        np.testing.assert_allclose(both[column], both[f"{column}_pub"], atol=0.005 + 1e-9)
    fitted = fit_bgnbd(ours)
    assert fitted.log_likelihood == pytest.approx(-9582.4, abs=0.5)  # from unrounded times


# --- the formulas against numerical integration of the model ----------------------------------


def _over_lambda(fn, r: float, alpha: float) -> float:
    """E[fn(lambda)] for lambda ~ Gamma(r, rate alpha), singular weight handled by quad."""
    norm = alpha**r / math.gamma(r)
    near, _ = integrate.quad(
        lambda lam: fn(lam) * math.exp(-alpha * lam), 0, 1, weight="alg", wvar=(r - 1, 0)
    )
    far, _ = integrate.quad(
        lambda lam: fn(lam) * lam ** (r - 1) * math.exp(-alpha * lam), 1, np.inf
    )
    return norm * (near + far)


def _over_p(fn, a: float, b: float) -> float:
    value, _ = integrate.quad(fn, 0, 1, weight="alg", wvar=(a - 1, b - 1))
    return value / math.exp(math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b))


def _integrated(x: int, t_x: float, T: float, t: float) -> tuple[float, float, float]:
    """Likelihood, P(alive) and E[purchases in (T, T+t]] by integrating over lambda and p."""
    r, alpha, a, b = PUBLISHED_BGNBD.values()
    alive = _over_p(lambda p: (1 - p) ** x, a, b) * _over_lambda(
        lambda lam: lam**x * math.exp(-lam * T), r, alpha
    )
    dead = 0.0
    if x > 0:
        dead = _over_p(lambda p: p * (1 - p) ** (x - 1), a, b) * _over_lambda(
            lambda lam: lam**x * math.exp(-lam * t_x), r, alpha
        )

    def alive_span(lam: float, p: float) -> float:  # expected purchases in t if alive now
        return -math.expm1(-lam * p * t) / p if p > 0 else lam * t

    future = _over_p(
        lambda p: (
            (1 - p) ** x
            * _over_lambda(lambda lam: lam**x * math.exp(-lam * T) * alive_span(lam, p), r, alpha)
        ),
        a,
        b,
    )
    total = alive + dead
    return total, alive / total, future / total


@pytest.mark.parametrize(
    ("x", "t_x", "T", "t"),
    [(0, 0.0, 38.86, 39.0), (2, 30.43, 38.86, 39.0), (1, 1.71, 38.86, 10.0), (12, 35.0, 38.0, 52)],
)
def test_bgnbd_formulas_match_numerical_integration(x, t_x, T, t):
    likelihood, alive, future = _integrated(x, t_x, T, t)
    model = published_model()
    row = one_customer(x, t_x, T)
    groups = _clv_math.group_counts(np.array([float(x)]))
    params = model.array()
    ll = _clv_math.bgnbd_loglik(params, groups, np.array([t_x]), np.array([T]))[0][0]
    assert ll == pytest.approx(math.log(likelihood), rel=1e-7)
    assert model.probability_alive(row).iloc[0] == pytest.approx(alive, rel=1e-7)
    assert model.expected_purchases(row, t).iloc[0] == pytest.approx(future, rel=1e-6)


def test_euler_form_equals_the_published_hypergeometric_form():
    r, alpha, a, b = PUBLISHED_BGNBD.values()
    x, t_x, T, t = np.array([1.0, 3.0, 6.0]), np.array([5.0, 20.0, 30.0]), 38.0, 20.0
    z = t / (alpha + T + t)
    head = (a + b + x - 1) / (a - 1)
    bracket = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(
        r + x, b + x, a + b + x - 1, z
    )
    odds = a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x)
    published = head * bracket / (1 + odds)
    ours = published_model().expected_purchases(
        pd.DataFrame({"frequency": x, "recency": t_x, "T": T}), t
    )
    np.testing.assert_allclose(ours.to_numpy(), published, rtol=1e-9)


def test_expected_purchases_new_is_the_zero_history_case():
    model = published_model()
    assert model.expected_purchases_new(0) == 0
    assert model.expected_purchases_new(39) == pytest.approx(
        model.expected_purchases(one_customer(0, 0.0, 0.0), 39).iloc[0]
    )


def test_gradients_match_finite_differences(cdnow):
    from scipy.optimize import approx_fprime

    x = cdnow["frequency"].to_numpy(float)
    groups = _clv_math.group_counts(x)
    t_x, T = cdnow["recency"].to_numpy(float), cdnow["T"].to_numpy(float)
    params = np.array([0.3, 5.0, 0.9, 2.0])
    _, grad = _clv_math.bgnbd_loglik(params, groups, t_x, T)
    numeric = approx_fprime(
        params, lambda p: _clv_math.bgnbd_loglik(p, groups, t_x, T)[0].sum(), 1e-7
    )
    np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-3)

    repeat = x > 0
    groups = _clv_math.group_counts(x[repeat])
    zbar = cdnow["monetary_value"].to_numpy(float)[repeat]
    params = np.array([5.0, 3.0, 12.0])
    _, grad = _clv_math.gamma_gamma_loglik(params, groups, zbar)
    numeric = approx_fprime(
        params, lambda p: _clv_math.gamma_gamma_loglik(p, groups, zbar)[0].sum(), 1e-7
    )
    np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-3)


def test_gamma_gamma_matches_numerical_integration():
    p, q, gam = PUBLISHED_GG.values()
    x, zbar = 3, 22.35

    def posterior(nu):
        return stats.gamma.pdf(zbar, p * x, scale=1 / (nu * x)) * stats.gamma.pdf(
            nu, q, scale=1 / gam
        )

    likelihood, _ = integrate.quad(posterior, 0, np.inf)
    mean, _ = integrate.quad(lambda nu: p / nu * posterior(nu), 0, np.inf)
    groups = _clv_math.group_counts(np.array([float(x)]))
    ll = _clv_math.gamma_gamma_loglik(np.array([p, q, gam]), groups, np.array([zbar]))[0][0]
    assert ll == pytest.approx(math.log(likelihood), rel=1e-7)
    spend = GammaGammaFit(p, q, gam, math.nan, 0, 0, "")
    row = pd.DataFrame(
        {"frequency": [x, 0], "recency": [10.0, 0], "T": [20.0, 20], "monetary_value": [zbar, 0]}
    )
    values = spend.expected_average_value(row)
    assert values.iloc[0] == pytest.approx(mean / likelihood, rel=1e-7)
    assert values.iloc[1] == pytest.approx(spend.mean_value) == pytest.approx(p * gam / (q - 1))


def test_fit_recovers_simulated_parameters():
    rng = np.random.default_rng(7)
    T = rng.uniform(20, 60, 20_000)
    truth = np.array([*PUBLISHED_BGNBD.values()])
    x, t_x = _clv_math.simulate_bgnbd(rng, truth, T)
    summary = pd.DataFrame({"frequency": x, "recency": t_x, "T": T})
    model = fit_bgnbd(summary)
    ll_truth = _clv_math.bgnbd_loglik(truth, _clv_math.group_counts(x), t_x, T)[0].sum()
    assert 0 <= 2 * (model.log_likelihood - ll_truth) < stats.chi2.ppf(0.999, 4)
    assert model.r == pytest.approx(truth[0], rel=0.15)
    assert model.alpha == pytest.approx(truth[1], rel=0.25)
    # the simulated mean purchase count agrees with the model's unconditional expectation
    expected = np.mean([published_model().expected_purchases_new(t) for t in T[:2000]])
    sample = x[:2000]
    assert abs(sample.mean() - expected) < 4 * sample.std() / np.sqrt(len(sample))


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        (pd.DataFrame({"frequency": [0, 0], "recency": [0.0, 0], "T": [5.0, 6]}), "frequency` > 0"),
        (pd.DataFrame({"frequency": [1, 0], "recency": [7.0, 0], "T": [5.0, 6]}), "recency` > `T"),
        (pd.DataFrame({"frequency": [1, -1], "recency": [1.0, 0], "T": [5.0, 6]}), "`frequency`"),
        (pd.DataFrame({"frequency": [1, 0], "recency": [np.nan, 0], "T": [5.0, 6]}), "`recency`"),
        (pd.DataFrame({"frequency": [1.5, 0], "recency": [1.0, 0], "T": [5.0, 6]}), "whole"),
        (pd.DataFrame({"frequency": [1, 0], "recency": [1.0, 2], "T": [5.0, 6]}), "must be 0"),
        (pd.DataFrame({"frequency": [1], "T": [5.0]}), r"\['recency'\]"),
        (pd.DataFrame({"frequency": [1, 1], "recency": [0.0, 0], "T": [10.0, 10]}), "extreme"),
        (pd.DataFrame({"frequency": [5] * 4, "recency": [10.0] * 4, "T": [10.0] * 4}), "extreme"),
    ],
)
def test_bad_summaries_raise_data_error(frame, match):
    with pytest.raises(DataError, match=match):
        fit_bgnbd(frame)


def test_a_fit_that_stops_early_raises(cdnow, monkeypatch):
    from scipy.optimize import OptimizeResult

    def stops_at_start(fun, x0, **kwargs):
        value = fun(x0)
        level = value[0] if isinstance(value, tuple) else value
        return OptimizeResult(x=np.asarray(x0, float), fun=level, message="stopped", nit=0)

    monkeypatch.setattr(_clv_math, "minimize", stops_at_start)
    with pytest.raises(DataError, match=r"BG/NBD fit did not converge \(stopped"):
        fit_bgnbd(cdnow)
    with pytest.raises(DataError, match="Gamma-Gamma fit did not converge"):
        fit_gamma_gamma(cdnow)


def test_gamma_gamma_bad_money_raises():
    frame = pd.DataFrame({"frequency": [1, 2], "recency": [1.0, 2], "T": [5.0, 6]})
    with pytest.raises(DataError, match="monetary_value"):
        fit_gamma_gamma(frame)
    with pytest.raises(DataError, match="<= 0"):
        fit_gamma_gamma(frame.assign(monetary_value=[10.0, -1.0]))
    with pytest.raises(DataError, match="not a number"):
        fit_gamma_gamma(frame.assign(monetary_value=[10.0, np.nan]))


def test_bad_horizon_raises():
    with pytest.raises(DataError, match="horizon"):
        published_model().expected_purchases(one_customer(1, 1.0, 2.0), t=-1)


def test_inputs_are_not_mutated(cdnow):
    before = cdnow.copy()
    fit_bgnbd(cdnow)
    fit_gamma_gamma(cdnow)
    pd.testing.assert_frame_equal(cdnow, before)


# --- orders -> summary -> value ----------------------------------------------------------------


def _orders(rows: list[tuple[object, str, float, str]]) -> pd.DataFrame:
    """Orders from ``(user_id, order_status, grand_total, Dhaka wall time)``."""
    frame = pd.DataFrame(rows, columns=["user_id", "order_status", "grand_total", "local"])
    created = pd.to_datetime(frame.pop("local")).dt.tz_localize("Asia/Dhaka").dt.tz_convert("UTC")
    return frame.assign(
        user_id=frame["user_id"].astype("Int64"),
        order_status=frame["order_status"].astype("category"),
        created_at=created.astype("datetime64[us, UTC]"),
    )


def _sql_summary(orders: pd.DataFrame, start: str, end: str) -> pd.DataFrame:
    """Summary (days) to the ``start`` day and purchase days up to ``end``, by plain SQL."""
    con = sqlite3.connect(":memory:")
    seconds = orders["created_at"].astype("int64") // 1_000_000
    pd.DataFrame(
        {
            "user_id": orders["user_id"].astype("float64"),
            "status": orders["order_status"].astype("str"),
            "amount": orders["grand_total"],
            "ts": seconds,
        }
    ).to_sql("orders", con)
    cut, stop = ((pd.Timestamp(v) - pd.Timestamp("1970-01-01")).days for v in (start, end))
    query = """
    WITH valid AS (
        SELECT CAST(user_id AS INTEGER) AS user_id, (ts + :off) / 86400 AS day, amount
        FROM orders WHERE status NOT IN ('cancelled', 'returned', 'failed')
        AND user_id IS NOT NULL),
    days AS (SELECT user_id, day, SUM(amount) AS amount FROM valid WHERE day <= :cut
             GROUP BY user_id, day),
    firsts AS (SELECT user_id, MIN(day) AS first, MAX(day) AS last, COUNT(*) AS n
               FROM days GROUP BY user_id),
    holdout AS (SELECT user_id, COUNT(DISTINCT day) AS actual FROM valid
                WHERE day > :cut AND day <= :stop GROUP BY user_id)
    SELECT f.user_id, f.n - 1 AS frequency, f.last - f.first AS recency, :cut - f.first AS T,
           COALESCE(SUM(CASE WHEN d.day > f.first THEN d.amount END) / (f.n - 1), 0.0)
               AS monetary_value,
           COALESCE(h.actual, 0) AS actual
    FROM firsts f JOIN days d USING (user_id) LEFT JOIN holdout h USING (user_id)
    GROUP BY f.user_id ORDER BY f.user_id
    """
    return pd.read_sql(query, con, params={"off": DHAKA_OFFSET_S, "cut": cut, "stop": stop})


@pytest.fixture(scope="module")
def demo_value(demo_frames) -> pd.DataFrame:
    return customer_value(demo_frames[1], as_of=AS_OF)


def test_customer_value_summary_matches_sql(demo_frames, demo_value):
    sql = _sql_summary(demo_frames[1], AS_OF, "2026-12-31")
    assert demo_value["user_id"].tolist() == sql["user_id"].tolist()
    for column in ("frequency", "recency", "T"):
        np.testing.assert_array_equal(demo_value[column].to_numpy(float), sql[column], column)
    np.testing.assert_allclose(demo_value["monetary_value"], sql["monetary_value"], rtol=1e-12)


def test_customer_value_on_the_demo_store(demo_value):
    v = demo_value
    assert list(v.columns) == [
        "user_id",
        "frequency",
        "recency",
        "T",
        "monetary_value",
        "p_alive",
        "expected_orders",
        "expected_avg_order_value",
        "clv",
    ]
    numbers = v.drop(columns="user_id").to_numpy(float)
    assert np.isfinite(numbers).all()
    assert v["p_alive"].between(0, 1).all()
    assert (v.loc[v["frequency"] == 0, "p_alive"] == 1).all()  # nobody seen dropping out yet
    assert (v["expected_orders"] >= 0).all() and (v["clv"] >= 0).all()
    heavy = v[(v["frequency"] >= 3) & (v["T"] - v["recency"] < 60)]
    assert len(heavy) > 10
    assert (
        heavy["expected_orders"].mean() > 3 * v.loc[v["frequency"] == 0, "expected_orders"].mean()
    )
    # repeat buyers seen lately are more alive than those silent for over a year
    repeat = v[v["frequency"] > 0]
    silence = repeat["T"] - repeat["recency"]
    lately, silent = repeat.loc[silence <= 60, "p_alive"], repeat.loc[silence > 365, "p_alive"]
    assert len(lately) > 10 and len(silent) > 10
    assert lately.mean() > silent.mean() + 0.2


def test_clv_discounting_by_hand(demo_frames, demo_value):
    v = demo_value
    purchases = fit_bgnbd(v)
    spend = fit_gamma_gamma(v[(v["frequency"] == 0) | (v["monetary_value"] > 0)])
    row = v.nlargest(1, "frequency")
    month = 365.25 / 12
    ends = [min(k * month, 365) for k in range(1, 13)]
    cumulative = [0.0] + [purchases.expected_purchases(row, t).iloc[0] for t in ends]
    orders = [cumulative[k + 1] - cumulative[k] for k in range(12)]
    expected = spend.expected_average_value(row).iloc[0] * sum(
        n / 1.01 ** (t / month) for n, t in zip(orders, ends, strict=True)
    )
    assert row["clv"].iloc[0] == pytest.approx(expected, rel=1e-10)
    assert row["expected_orders"].iloc[0] == pytest.approx(cumulative[-1], rel=1e-12)

    flat = customer_value(demo_frames[1], as_of=AS_OF, discount_rate=0.0, margin=0.25)
    np.testing.assert_allclose(
        flat["clv"], 0.25 * flat["expected_orders"] * flat["expected_avg_order_value"], rtol=1e-9
    )
    steep = customer_value(demo_frames[1], as_of=AS_OF, discount_rate=0.05)
    assert (steep["clv"] <= v["clv"]).all() and (steep["clv"] < v["clv"]).any()
    longer = customer_value(demo_frames[1], as_of=AS_OF, horizon_days=730)
    assert (longer["expected_orders"] >= v["expected_orders"]).all()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"as_of": "not a date"}, "as_of"),
        ({"as_of": AS_OF, "discount_rate": 1.5}, "discount_rate"),
        ({"as_of": AS_OF, "horizon_days": 0}, "horizon_days"),
        ({"as_of": AS_OF, "margin": -1}, "margin"),
        ({"as_of": "2020-01-01"}, "before every valid order"),
        ({"as_of": "2024-01-03"}, "frequency` > 0"),
    ],
)
def test_customer_value_bad_input(demo_frames, kwargs, match):
    with pytest.raises(DataError, match=match):
        customer_value(demo_frames[1], **kwargs)


def test_customer_value_needs_order_columns(demo_frames):
    with pytest.raises(DataError, match="grand_total"):
        customer_value(demo_frames[1].drop(columns="grand_total"), as_of=AS_OF)


def test_calibration_holdout_matches_sql(demo_frames):
    orders = demo_frames[1]
    before = orders.copy()
    result = calibration_holdout(orders, calibration_end="2026-01-01", holdout_end="2026-07-01")
    sql = _sql_summary(orders, "2026-01-01", "2026-07-01")
    customers = result.customers
    assert customers["user_id"].tolist() == sql["user_id"].tolist()
    np.testing.assert_array_equal(customers["actual"], sql["actual"])
    np.testing.assert_array_equal(customers["T"], sql["T"])
    assert result.holdout_days == 181
    assert result.total_actual == sql["actual"].sum()
    assert result.total_predicted == pytest.approx(customers["predicted"].sum())
    assert result.mae == pytest.approx(np.abs(customers["predicted"] - sql["actual"]).mean())
    # the model should forecast the holdout total of a BG/NBD-like store to within 15 %
    assert result.total_predicted == pytest.approx(result.total_actual, rel=0.15)
    table = result.by_frequency(3)
    assert table["frequency"].tolist() == [0, 1, 2, 3]
    assert table["customers"].sum() == len(customers)
    top = customers[customers["frequency"] >= 3]
    assert table["actual"].iloc[-1] == pytest.approx(top["actual"].mean())
    pd.testing.assert_frame_equal(orders, before)


def test_calibration_holdout_bad_window(demo_frames):
    with pytest.raises(DataError, match="later day than `calibration_end`"):
        calibration_holdout(demo_frames[1], calibration_end="2026-01-01", holdout_end="2025-01-01")
