"""What one running sandbox holds: its database, credentials, fault injector and counters."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

from selorax_analytics.sandbox.auth import Credential
from selorax_analytics.sandbox.db import Database
from selorax_analytics.sandbox.faults import FaultInjector


@dataclass
class SandboxState:
    db: Database
    tokens: dict[str, Credential]
    apps: dict[str, Credential]
    injector: FaultInjector = field(default_factory=FaultInjector)
    money_as_strings: bool = False
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    counts_lock: threading.Lock = field(default_factory=threading.Lock)
    in_flight: int = 0
    peak: int = 0

    def count(self, endpoint: str, credential: str) -> None:
        with self.counts_lock:
            self.counts[(endpoint, credential)] += 1

    def request_counts(self) -> dict[tuple[str, str], int]:
        with self.counts_lock:
            return dict(self.counts)

    def reset_counts(self) -> None:
        with self.counts_lock:
            self.counts.clear()
            self.peak = self.in_flight

    def enter(self) -> None:
        """A request arrived: one more in flight (the peak is kept)."""
        with self.counts_lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)

    def leave(self) -> None:
        with self.counts_lock:
            self.in_flight -= 1

    def peak_in_flight(self) -> int:
        with self.counts_lock:
            return self.peak
