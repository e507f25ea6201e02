"""The statistics of a campaign report: intervals, tests and the size a test needs.

Conversion (a share of people who bought)
    Each group's interval is Wilson's score interval. The interval of the difference
    ``p_target - p_holdout`` is Newcombe's hybrid score interval (Newcombe 1998, method 10):
    with Wilson limits ``(l1, u1)`` and ``(l2, u2)``, ``d - sqrt((p1 - l1)**2 + (u2 - p2)**2)``
    to ``d + sqrt((u1 - p1)**2 + (p2 - l2)**2)``. The p-value is the two-sided pooled z-test of
    two proportions (the chi-square test of the 2 x 2 table without continuity correction).

Orders and revenue per person (heavy-tailed: most people buy nothing, a few buy a lot)
    Intervals are percentile bootstrap intervals: :data:`BOOTSTRAP_RESAMPLES` resamples, the
    people of each group drawn with replacement within their group by
    ``numpy.random.default_rng(seed)``; the same seed gives the same interval. The p-value is
    Welch's unequal-variance t-test (``scipy.stats.ttest_ind(equal_var=False)``).

People needed
    Per group, to detect a relative lift ``lift`` over a base conversion ``p`` (so ``p`` against
    ``p * (1 + lift)``) with a two-sided test at level ``alpha`` and power ``power``:
    ``n = (z(1 - alpha/2) * sqrt(2 * pbar * (1 - pbar)) + z(power) * sqrt(p1 q1 + p2 q2))**2 /
    (p2 - p1)**2``, rounded up, with ``pbar`` the mean of the two (Fleiss, without continuity
    correction). For 10 % against 15 %, 5 % two-sided and 80 % power this is 686 per group.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

#: Resamples of the bootstrap intervals of orders and revenue per person.
BOOTSTRAP_RESAMPLES = 2000
#: People drawn per block of resamples (bounds memory: block * people integers at a time).
_BLOCK = 250


def _z(confidence: float) -> float:
    return float(stats.norm.ppf(0.5 + confidence / 2))


def wilson_interval(buyers: int, people: int, confidence: float) -> tuple[float, float]:
    """Wilson's score interval of ``buyers / people``; ``(nan, nan)`` for no people."""
    if people == 0:
        return math.nan, math.nan
    z = _z(confidence)
    p = buyers / people
    centre = (p + z * z / (2 * people)) / (1 + z * z / people)
    half = (
        z * math.sqrt(p * (1 - p) / people + z * z / (4 * people * people)) / (1 + z * z / people)
    )
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_interval(
    buyers: tuple[int, int], people: tuple[int, int], confidence: float
) -> tuple[float, float]:
    """Newcombe's hybrid score interval of ``p1 - p2`` (``buyers[0] / people[0]`` first)."""
    if 0 in people:
        return math.nan, math.nan
    p1, p2 = buyers[0] / people[0], buyers[1] / people[1]
    l1, u1 = wilson_interval(buyers[0], people[0], confidence)
    l2, u2 = wilson_interval(buyers[1], people[1], confidence)
    d = p1 - p2
    return d - math.hypot(p1 - l1, u2 - p2), d + math.hypot(u1 - p1, p2 - l2)


def two_proportion_p_value(buyers: tuple[int, int], people: tuple[int, int]) -> float:
    """Two-sided p-value of the pooled z-test that both groups convert alike."""
    if 0 in people:
        return math.nan
    pooled = sum(buyers) / sum(people)
    spread = pooled * (1 - pooled) * (1 / people[0] + 1 / people[1])
    if spread == 0:
        return 1.0
    z = (buyers[0] / people[0] - buyers[1] / people[1]) / math.sqrt(spread)
    return float(2 * stats.norm.sf(abs(z)))


def welch_p_value(target: np.ndarray, holdout: np.ndarray) -> float:
    """Two-sided p-value of Welch's t-test of the two means; 1 when both have no spread."""
    if len(target) < 2 or len(holdout) < 2:
        return math.nan
    if np.ptp(target) == 0 and np.ptp(holdout) == 0:
        return 1.0 if target[0] == holdout[0] else 0.0
    return float(stats.ttest_ind(target, holdout, equal_var=False).pvalue)


def bootstrap_means(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """:data:`BOOTSTRAP_RESAMPLES` means of ``values`` resampled with replacement."""
    n = len(values)
    if n == 0:
        return np.full(BOOTSTRAP_RESAMPLES, np.nan)
    means = np.empty(BOOTSTRAP_RESAMPLES)
    for start in range(0, BOOTSTRAP_RESAMPLES, _BLOCK):
        size = min(_BLOCK, BOOTSTRAP_RESAMPLES - start)
        picks = rng.integers(0, n, size=(size, n))
        means[start : start + size] = values[picks].mean(axis=1)
    return means


def percentile_interval(draws: np.ndarray, confidence: float) -> tuple[float, float]:
    """The central ``confidence`` share of ``draws`` (missing draws ignored)."""
    draws = draws[np.isfinite(draws)]
    if len(draws) == 0:
        return math.nan, math.nan
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    return float(low), float(high)


def people_needed(base: float, lift: float, *, confidence: float, power: float = 0.8) -> int:
    """People per group to detect conversion ``base * (1 + lift)`` against ``base``.

    See the module docstring for the formula; 0 when ``base`` is 0 or 1 or ``lift`` is 0
    (nothing to detect), as no finite group can tell those apart.
    """
    p1, p2 = base, min(base * (1 + lift), 1.0)
    if not 0 < p1 < 1 or p1 == p2:
        return 0
    pbar = (p1 + p2) / 2
    alpha_part = _z(confidence) * math.sqrt(2 * pbar * (1 - pbar))
    power_part = float(stats.norm.ppf(power)) * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    return math.ceil((alpha_part + power_part) ** 2 / (p2 - p1) ** 2)
