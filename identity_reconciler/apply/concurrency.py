"""How many writes an apply keeps in flight: as many as ARM's write bucket can take, no more.

ARM's writes bucket (per subscription and principal) holds 200 and refills 10 per second, and
reports what is left on every answer (`x-ms-ratelimit-remaining-subscription-writes`). A fixed
worker count is wrong at both ends: with real PUT latency (a role assignment takes 0.5–2 s) ten
workers cannot spend the burst nor even keep up with the refill (10 in flight at 1.6 s per
grant is 6 per second), and with fast writes and an empty bucket every extra worker only
queues at the gate. So the limit follows two measurements:

- while the bucket has room (the last answer's remaining count), up to half of what remains
  may be in flight, capped by `ceiling` (apply's `--parallelism`, default 32): the burst is
  spent at the rate latency allows;
- when it runs low, the limit falls to what keeps pace with the refill at the latency seen:
  `refill x latency` (Little's law), never below 1. With 30 ms writes that is one worker;
  with 800 ms writes, eight.

Latency is a moving average of the writes' own durations (waits at the gate excluded). Until a
write has answered, the limit is ten (or the ceiling, if lower).
"""

from __future__ import annotations

import math
import threading

WRITE_REFILL_PER_S = 10.0  # ARM's writes bucket refill, per subscription and principal
DEFAULT_CEILING = 32
_SMOOTHING = 0.2  # weight of the newest write in the latency average


class Concurrency:
    """The executor's in-flight limit for writes; fed from every write's answer."""

    def __init__(self, initial: int, ceiling: int, refill_per_s: float = WRITE_REFILL_PER_S):
        self.ceiling = max(1, ceiling)
        self._limit = max(1, min(initial, self.ceiling))
        self._refill = refill_per_s
        self._latency: float | None = None
        self._lock = threading.Lock()
        self.highest = self._limit
        self.lowest = self._limit

    def limit(self) -> int:
        with self._lock:
            return self._limit

    @property
    def latency(self) -> float | None:
        return self._latency

    def pace(self) -> int:
        """The in-flight count that keeps up with the refill at the latency seen so far."""
        latency = self._latency if self._latency is not None else 0.0
        return max(1, min(self.ceiling, math.ceil(self._refill * latency)))

    def timed(self, seconds: float) -> None:
        """One write took `seconds` (its own request, not the waits before it)."""
        with self._lock:
            last = self._latency
            self._latency = (
                seconds if last is None else (1 - _SMOOTHING) * last + _SMOOTHING * seconds
            )

    def observe(self, remaining: int | None) -> int:
        """A write's answer left `remaining` in its bucket (None: not said); the new limit."""
        with self._lock:
            if remaining is None:
                return self._limit
            self._limit = max(self.pace(), min(self.ceiling, remaining // 2))
            self.highest = max(self.highest, self._limit)
            self.lowest = min(self.lowest, self._limit)
            return self._limit


def remaining_of(value: str | None) -> int | None:
    """The header's integer, or None when absent or not a number."""
    try:
        return int(str(value)) if value is not None else None
    except ValueError:
        return None
