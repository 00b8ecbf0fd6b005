"""A circuit breaker per data provider: a dead provider must cost microseconds, not timeouts.

States: *closed* (calls go through; consecutive failures are counted), *open* (calls are refused
without any I/O until ``reset_after`` seconds have passed), *half-open* (exactly one trial call
is let through; its success closes the circuit, its failure opens it again for another
``reset_after``). Only the caller decides what a failure is (see ``broker.providers.http``).

The clock is injected so that tests drive time instead of sleeping. Standard library only.
"""

from __future__ import annotations

import time
from collections.abc import Callable

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"


class CircuitBreaker:
    def __init__(
        self, failures_to_open: int, reset_after: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if failures_to_open < 1:
            raise ValueError("failures_to_open must be at least 1")
        if reset_after < 0:
            raise ValueError("reset_after must not be negative")
        self._threshold = failures_to_open
        self._reset_after = reset_after
        self._clock = clock
        self._state = CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trial_in_flight = False

    @property
    def state(self) -> str:
        return self._state

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def allow(self) -> bool:
        """May a call go through now? In half-open state, only the first asker gets a yes."""
        if self._state == CLOSED:
            return True
        if self._state == OPEN:
            if self._clock() - self._opened_at < self._reset_after:
                return False
            self._state = HALF_OPEN
            self._trial_in_flight = False
        if self._trial_in_flight:
            return False
        self._trial_in_flight = True
        return True

    def record_success(self) -> None:
        self._state = CLOSED
        self._failures = 0
        self._trial_in_flight = False

    def record_failure(self) -> None:
        self._trial_in_flight = False
        if self._state == HALF_OPEN:
            self._open()
            return
        self._failures += 1
        if self._failures >= self._threshold:
            self._open()

    def release(self) -> None:
        """The allowed call ended without a verdict (cancelled): let the next caller try."""
        self._trial_in_flight = False

    def _open(self) -> None:
        self._state = OPEN
        self._opened_at = self._clock()
