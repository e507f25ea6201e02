"""Pacing shared by every worker of a client: ``Retry-After`` pauses and the ``X-RateLimit``
budget.

The budget is what the server last said remains in its window, less every request still in
flight (those may reach the server after the answer that reported it, and count against the
same window). When the window ends, one request probes the new one; the others wait for its
answer to learn the new budget, so a window's reset never releases a whole pool of workers
at once. Answers to requests sent before the current window began are stale: they free their
slot but say nothing about the budget.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable

from selorax_analytics.api._headers import RateLimit

#: The longest a worker blocks on the shared state before looking again, seconds.
POLL_SECONDS = 0.5


class Pacer:
    """Decides when the next request may go; thread-safe.

    Parameters
    ----------
    clock
        Monotonic seconds (injectable for tests).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._cond = threading.Condition()
        self._pause_until = 0.0
        self._budget: int | None = None  # None: no X-RateLimit seen, no pacing
        self._window_end = 0.0  # math.inf: a new window whose end a probe will tell
        self._generation = 0
        self._in_flight: Counter[int] = Counter()

    def acquire(self, limit: float = float("inf")) -> tuple[float, int]:
        """Block until a request may go: ``(seconds waited, generation)`` to hand to
        :meth:`release`; ``(-seconds needed, -1)`` without waiting when that is over ``limit``.
        """
        began = self._clock()
        with self._cond:
            while True:
                now = self._clock()
                waited = now - began
                delay = self._delay(now)
                if delay == 0.0:
                    self._in_flight[self._generation] += 1
                    return waited, self._generation
                if waited + delay > limit:
                    return -(waited + delay), -1
                self._cond.wait(min(delay, POLL_SECONDS))

    def _delay(self, now: float) -> float:
        """0.0 and one request taken from the budget, or how long to wait (under the lock)."""
        pause = self._pause_until - now
        if pause > 0:
            return pause
        if self._budget is None:
            return 0.0
        if now >= self._window_end:  # the window is over: probe the next one
            self._generation += 1
            self._window_end = float("inf")
            self._budget = 1
        if self._budget > 0:
            self._budget -= 1
            return 0.0
        if self._window_end == float("inf"):
            if self._in_flight[self._generation] == 0:  # the probe failed: probe again
                self._budget = 1
                return self._delay(now)
            return POLL_SECONDS  # the probe's answer will tell
        return self._window_end - now

    def release(self, generation: int, seen: RateLimit | None) -> None:
        """A request sent under ``generation`` got its answer (``seen``: its rate-limit headers)."""
        with self._cond:
            self._in_flight[generation] -= 1
            if self._in_flight[generation] <= 0:
                del self._in_flight[generation]
            if seen is not None and generation == self._generation:
                self._observe(seen)
            self._cond.notify_all()

    def _observe(self, seen: RateLimit) -> None:
        now = self._clock()
        budget = seen.remaining - sum(self._in_flight.values())
        # "0" may be a rounded-down fraction of a second: assume the rest of this second
        end = now + (seen.reset if seen.reset > 0 else 1.0)
        if self._budget is None or self._window_end == float("inf") or end > self._window_end + 1:
            self._budget, self._window_end = budget, end  # a window learnt, or a new one
        else:
            self._budget = min(self._budget, budget)
            self._window_end = max(self._window_end, end)

    def pause(self, seconds: float) -> None:
        """No request goes for ``seconds`` (a ``Retry-After``), whichever worker asked."""
        with self._cond:
            self._pause_until = max(self._pause_until, self._clock() + seconds)
            self._cond.notify_all()
