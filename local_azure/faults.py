"""Realism knobs: ARM token-bucket throttling, injected 5xx, dropped connections, latency,
and the request counters that let tests and benchmarks see what clients really sent.

Real Azure throttles, fails and resets; clients that never meet those in tests break in
production. Every random choice here draws from one generator seeded from `Settings.seed`
(kept apart from `Context.rng`, so switching faults on does not change the ids handlers mint).
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from local_azure.kernel import ArmError, Settings


@dataclass
class BucketSpec:
    """A token bucket: `burst` requests at once, refilled at `per_second`."""

    burst: float
    per_second: float


def arm_limits() -> dict[str, BucketSpec]:
    """ARM's published per-subscription-and-principal limits (2024 token-bucket model)."""
    return {
        "reads": BucketSpec(250, 25),
        "writes": BucketSpec(200, 10),
        "deletes": BucketSpec(200, 10),
    }


# What ARM reports as remaining when nothing throttles: large, like the legacy hourly limits.
UNTHROTTLED_REMAINING = {"reads": 11999, "writes": 1199, "deletes": 14999}
_SINGULAR = {"reads": "read", "writes": "write", "deletes": "delete"}


def category(method: str) -> str:
    """ARM counts GET/HEAD as reads, DELETE as deletes, everything else as writes."""
    m = method.upper()
    if m in ("GET", "HEAD"):
        return "reads"
    if m == "DELETE":
        return "deletes"
    return "writes"


def subscription_of(path: str) -> str | None:
    parts = path.split("/", 3)
    if len(parts) >= 3 and parts[1].lower() == "subscriptions" and parts[2]:
        return parts[2]
    return None


def items_in(body: object) -> int:
    """How many items an answer carries: a list page's `value` entries, else 1 (0 if none)."""
    if isinstance(body, dict):
        value = body.get("value")
        if isinstance(value, list):
            return len(value)
        return 0 if "error" in body or not body else 1
    if isinstance(body, list):
        return len(body)
    return 0


class TokenBucket:
    __slots__ = ("last", "spec", "tokens")

    def __init__(self, spec: BucketSpec, now: float) -> None:
        self.spec = spec
        self.tokens = float(spec.burst)
        self.last = now

    def take(self, now: float) -> tuple[bool, int, int]:
        """Spend one token; returns (allowed, remaining, retry-after seconds)."""
        elapsed = max(0.0, now - self.last)
        self.last = now
        self.tokens = min(float(self.spec.burst), self.tokens + elapsed * self.spec.per_second)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True, int(self.tokens), 0
        rate = self.spec.per_second
        wait = (1.0 - self.tokens) / rate if rate > 0 else 3600.0
        return False, 0, max(1, math.ceil(wait))


@dataclass
class FaultKnobs:
    """Knobs beyond `Settings`: bucket sizes, and whether faults reach the token endpoint."""

    limits: dict[str, BucketSpec] = field(default_factory=arm_limits)
    token_endpoint_faults: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "throttle_limits": {
                k: {"burst": v.burst, "per_second": v.per_second} for k, v in self.limits.items()
            },
            "token_endpoint_faults": self.token_endpoint_faults,
        }


class Stats:
    """Request counters by method, route name and status (what `/_emulator/stats` shows)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._since = time.time()
            self._total = 0
            self._methods: Counter[str] = Counter()
            self._routes: Counter[str] = Counter()
            self._statuses: Counter[str] = Counter()
            self._events: Counter[str] = Counter()

    def record(self, method: str, route: str, status: int | None) -> None:
        """Count one request; `status` None means the connection was dropped."""
        with self._lock:
            self._total += 1
            self._methods[method] += 1
            self._routes[route] += 1
            self._statuses["dropped" if status is None else str(status)] += 1

    def event(self, name: str) -> None:
        with self._lock:
            self._events[name] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": self._total,
                "since": self._since,
                "by_method": dict(self._methods),
                "by_route": dict(self._routes),
                "by_status": dict(self._statuses),
                "faults": dict(self._events),
            }


class Faults:
    """Decides, per request, whether to delay, drop, throttle or fail it."""

    def __init__(self, settings: Settings, knobs: FaultKnobs | None = None) -> None:
        self.settings = settings
        self.knobs = knobs or FaultKnobs()
        self.stats = Stats()
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str, str], TokenBucket] = {}
        self.reseed(settings.seed)

    def reseed(self, seed: int) -> None:
        with self._lock:
            self._rng = random.Random(f"faults:{seed}")  # noqa: S311 - reproducible by design

    def reset_buckets(self) -> None:
        with self._lock:
            self._buckets.clear()

    def _chance(self, rate: float) -> bool:
        if rate <= 0.0:
            return False
        with self._lock:
            return self._rng.random() < rate

    def latency_s(self) -> float:
        return max(0.0, self.settings.latency_ms) / 1000.0

    def size_latency_s(self, body: object, size_bytes: int) -> float:
        """The latency an answer's size adds: per item listed and per KiB of body."""
        per_item = max(0.0, self.settings.latency_per_item_ms)
        per_kib = max(0.0, self.settings.latency_per_kib_ms)
        if per_item <= 0.0 and per_kib <= 0.0:
            return 0.0
        return (per_item * items_in(body) + per_kib * size_bytes / 1024.0) / 1000.0

    def should_drop(self) -> bool:
        return self._chance(self.settings.drop_rate)

    def injected_error(self) -> ArmError | None:
        """A 500 or 503 for a share `error_rate` of requests; 503s sometimes carry Retry-After."""
        if not self._chance(self.settings.error_rate):
            return None
        with self._lock:
            unavailable = self._rng.random() < 0.5
            retry_after = self._rng.random() < 0.5
        if not unavailable:
            return ArmError(
                500,
                "InternalServerError",
                f"Encountered internal server error. The tracking id is '{self._tracking_id()}'.",
            )
        headers = {"Retry-After": "1"} if retry_after else {}
        return ArmError(
            503,
            "ServiceUnavailable",
            "The server is currently unable to handle the request. Please retry.",
            headers=headers,
        )

    def _tracking_id(self) -> str:
        with self._lock:
            return "%032x" % self._rng.getrandbits(128)  # noqa: UP031

    def throttled(self, cat: str) -> bool:
        """Whether the bucket of category `cat` is in force."""
        return self.settings.throttle or (cat == "reads" and self.settings.throttle_reads)

    def throttle(self, method: str, path: str, principal: str) -> tuple[str, int, ArmError | None]:
        """Spend from the bucket of (subscription or tenant, principal, category).

        Returns the remaining-budget header name and value, and a 429 when the bucket is empty.
        """
        cat = category(method)
        header = f"x-ms-ratelimit-remaining-subscription-{cat}"
        if not self.throttled(cat):
            return header, UNTHROTTLED_REMAINING[cat], None
        sub = subscription_of(path)
        key = (sub.lower() if sub else "", principal.lower(), cat)
        now = time.monotonic()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = TokenBucket(self.knobs.limits[cat], now)
            allowed, remaining, retry_after = bucket.take(now)
        if allowed:
            return header, remaining, None
        self.stats.event("throttled")
        scope = f"subscription '{sub}'" if sub else "tenant"
        code = "SubscriptionRequestsThrottled" if sub else "TooManyRequests"
        headers = {"Retry-After": str(retry_after)}
        if self.settings.retry_after_on_429 is False:
            headers = {}
        return (
            header,
            0,
            ArmError(
                429,
                code,
                f"Number of '{_SINGULAR[cat]}' requests for {scope} actor '{principal}' "
                f"exceeded. Please try again after '{retry_after}' seconds after the time "
                "specified in the 'Retry-After' header. Refer to https://aka.ms/arm-throttling",
                headers=headers,
            ),
        )
