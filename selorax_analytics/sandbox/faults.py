"""Stress options for the sandbox: latency, rate limits, server errors and dropped connections.

All are off by default. Random draws come from one generator seeded by ``Faults.seed``, in the
order requests arrive, so a run's fault rates are reproducible.

Rate limit [assumed, the platform publishes no numbers for these endpoints]: a fixed window of
``rate_window`` seconds per credential, ``rate_limit`` requests each. Every response then carries
``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (seconds until the
window resets); a request over the limit answers 429 with ``Retry-After`` in whole seconds.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Faults:
    """What to inject. Rates are fractions of requests; times are seconds."""

    latency: float = 0.0
    jitter: float = 0.0
    rate_limit: int | None = None
    rate_window: float = 1.0
    error_rate: float = 0.0
    drop_rate: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("latency", "jitter", "error_rate", "drop_rate", "rate_window"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(
                    f"Faults.{name} must be a finite number, at least 0, got {value!r}."
                )
        for name in ("error_rate", "drop_rate"):
            if getattr(self, name) > 1:
                raise ValueError(
                    f"Faults.{name} is a fraction from 0 to 1, got {getattr(self, name)!r}."
                )
        if self.rate_limit is not None and self.rate_limit < 1:
            raise ValueError(
                f"Faults.rate_limit must be at least 1 or None, got {self.rate_limit!r}."
            )
        if self.rate_window <= 0:
            raise ValueError(f"Faults.rate_window must be positive, got {self.rate_window!r}.")


@dataclass
class Decision:
    """What happens to one request."""

    delay: float = 0.0
    error: int | None = None
    drop: bool = False
    limited: bool = False
    retry_after: int = 0
    headers: dict[str, str] = field(default_factory=dict)


class FaultInjector:
    """Draws a :class:`Decision` per request; thread-safe.

    ``clock`` (seconds, monotonic) times the rate-limit windows; tests pass their own.
    """

    def __init__(
        self, faults: Faults | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}
        self.configure(faults or Faults())

    @property
    def faults(self) -> Faults:
        return self._faults

    def configure(self, faults: Faults) -> None:
        with self._lock:
            self._faults = faults
            self._random = random.Random(faults.seed)
            self._windows.clear()

    def decide(self, key: str) -> Decision:
        f = self._faults
        with self._lock:
            r = self._random
            decision = Decision(delay=f.latency + (r.uniform(0, f.jitter) if f.jitter else 0.0))
            if f.rate_limit is not None:
                self._rate(key, decision, f.rate_limit, f.rate_window)
            if not decision.limited and f.error_rate and r.random() < f.error_rate:
                decision.error = r.choice((500, 502, 503))
            if not decision.limited and decision.error is None and f.drop_rate:
                decision.drop = r.random() < f.drop_rate
        return decision

    def _rate(self, key: str, decision: Decision, limit: int, window: float) -> None:
        now = self.clock()
        start, used = self._windows.get(key, (now, 0))
        if now - start >= window:
            start, used = now, 0
        reset = max(window - (now - start), 0.0)
        if used >= limit:
            decision.limited = True
            decision.retry_after = max(1, math.ceil(reset))
        else:
            used += 1
        self._windows[key] = (start, used)
        decision.headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(limit - used, 0)),
            "X-RateLimit-Reset": str(math.ceil(reset)),
        }
