"""Benchmark: fit BG/NBD and Gamma-Gamma on N customers and score them all.

Summaries are drawn (seeded) from the BG/NBD generative process with the published CDNOW
parameters (weeks), spend from the Gamma-Gamma process; ``T`` is uniform on 1 to 78 weeks.
Prints seconds per stage, peak traced memory, the recovered parameters, and the time of one
likelihood-and-gradient evaluation against a plain per-customer evaluation with a finite-
difference gradient, run in the same process.

    python bench/bench_clv.py                  # 1,000,000 customers
    python bench/bench_clv.py --customers 20000
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
import pandas as pd
from _common import add_smoke_flag, emit, machine_line
from scipy.special import betaln, gammaln

from selorax_analytics.analytics.clv import _math as _clv_math
from selorax_analytics.analytics.clv.value import fit_bgnbd, fit_gamma_gamma

BGNBD = np.array([0.243, 4.414, 0.793, 2.426])
GAMMA_GAMMA = np.array([6.25, 3.74, 15.44])
WEEKS_PER_MONTH = 365.25 / 12 / 7
#: ``--smoke``: customers synthesized.
SMOKE_CUSTOMERS = 5_000


def synthesize(customers: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    T = rng.uniform(1.0, 78.0, customers)
    x, t_x = _clv_math.simulate_bgnbd(rng, BGNBD, T)
    p, q, gam = GAMMA_GAMMA
    nu = rng.gamma(q, 1.0 / gam, customers)
    repeat = x > 0
    zbar = np.zeros(customers)
    zbar[repeat] = rng.gamma(p * x[repeat], 1.0 / (nu[repeat] * x[repeat]))
    return pd.DataFrame({"frequency": x, "recency": t_x, "T": T, "monetary_value": zbar})


def plain_loglik(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> float:
    """The same log-likelihood, every term per customer, no grouping."""
    r, alpha, a, b = params
    head = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    alive = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + T)
    with np.errstate(all="ignore"):
        dead = np.where(
            x > 0,
            betaln(a + 1, np.maximum(b + x - 1, 1e-300))
            - betaln(a, b)
            - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
    return float(np.sum(head + np.logaddexp(alive, dead)))


def timed(name: str, label: str, fn, *args, **kwargs):
    """``fn(*args, **kwargs)``, its seconds printed under ``label`` and as line ``name``."""
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    seconds = time.perf_counter() - start
    print(f"{label:<44} {seconds:8.2f} s")
    emit(name, seconds, "s")
    return out


def compare_evaluations(summary: pd.DataFrame) -> None:
    x, t_x, T = (summary[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    groups = _clv_math.group_counts(x)
    start = time.perf_counter()
    _clv_math.bgnbd_loglik(BGNBD, groups, t_x, T)
    ours = time.perf_counter() - start
    start = time.perf_counter()
    base = plain_loglik(BGNBD, x, t_x, T)
    for i in range(4):  # forward differences for the gradient
        step = BGNBD.copy()
        step[i] *= 1 + 1e-7
        plain_loglik(step, x, t_x, T)
    plain = time.perf_counter() - start
    assert np.isfinite(base)
    print(
        f"{'one likelihood + gradient (grouped, analytic)':<44} {ours:8.3f} s; plain with "
        f"finite differences {plain:.3f} s; ratio {plain / ours:.1f}x"
    )
    emit(
        "loglik_and_gradient", ours, "s", baseline="plain_finite_differences", baseline_value=plain
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20240101)
    add_smoke_flag(parser)
    args = parser.parse_args(argv)
    if args.smoke:  # every stage on a sample of seconds
        args.customers = SMOKE_CUSTOMERS
    print(machine_line())

    tracemalloc.start()
    total = time.perf_counter()
    summary = timed(
        "synthesize",
        f"synthesize {args.customers:,} summaries",
        synthesize,
        args.customers,
        args.seed,
    )
    print(f"  customers with repeat purchases: {int((summary['frequency'] > 0).sum()):,}")
    compare_evaluations(summary)
    fit_start = time.perf_counter()
    purchases = timed("fit_bgnbd", "fit BG/NBD", fit_bgnbd, summary)
    spend = timed("fit_gamma_gamma", "fit Gamma-Gamma", fit_gamma_gamma, summary)
    fit_seconds = time.perf_counter() - fit_start
    score_start = time.perf_counter()
    alive = timed("score_p_alive", "score P(alive)", purchases.probability_alive, summary)
    expected = timed(
        "score_expected_purchases",
        "score expected purchases in 52 weeks",
        purchases.expected_purchases,
        summary,
        52,
    )
    value = timed(
        "score_expected_value",
        "score expected value per purchase",
        spend.expected_average_value,
        summary,
    )
    discounted = timed(
        "score_discounted_purchases",
        "score discounted purchases (12 months)",
        _clv_math.discounted_purchases,
        purchases.array(),
        52.0,
        WEEKS_PER_MONTH,
        0.01,
        (
            summary["frequency"].to_numpy(float),
            summary["recency"].to_numpy(float),
            summary["T"].to_numpy(float),
        ),
    )
    clv = value.to_numpy() * discounted
    score_seconds = time.perf_counter() - score_start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert np.isfinite(clv).all() and alive.between(0, 1).all() and (expected >= 0).all()
    print(f"{'fit both models':<44} {fit_seconds:8.2f} s")
    print(f"{'score every customer':<44} {score_seconds:8.2f} s")
    print(f"{'total':<44} {time.perf_counter() - total:8.2f} s")
    print(f"{'peak traced memory':<44} {peak / 2**20:8.0f} MiB")
    emit("clv_fit", fit_seconds, "s", customers=args.customers)
    emit("clv_score", score_seconds, "s", customers=args.customers)
    emit("clv_peak_traced", peak / 2**20, "MiB", customers=args.customers)
    print(f"BG/NBD  true {BGNBD.tolist()}")
    print(
        f"        fit  {[round(v, 3) for v in purchases.params.values()]} "
        f"({purchases.iterations} iterations)"
    )
    print(f"Gamma-Gamma true {GAMMA_GAMMA.tolist()}")
    print(
        f"            fit  {[round(v, 3) for v in spend.params.values()]} "
        f"({spend.iterations} iterations)"
    )
    print(f"mean CLV (money units, 52 weeks, 1 %/month) {clv.mean():.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
