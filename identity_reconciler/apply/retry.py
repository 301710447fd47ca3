"""When a failed ARM write is tried again, when it counts as done, and how long to wait.

This is the only retry layer for apply's writes: `azure/execute.py` turns azure-core's
RetryPolicy off for them (`retry_total=0`), because two layers multiply (6 SDK attempts x 6 of
ours = 36 requests for one write) and the SDK layer cannot see what the others do. Here:

- 429: wait exactly the Retry-After ARM sent, and make every worker wait with it (a shared
  gate per request category), so a throttled run paces itself at the bucket's refill rate
  instead of stampeding; limited by time spent throttled, not by a count;
- 5xx and dropped connections: exponential backoff with seeded jitter (Retry-After if given);
- PrincipalNotFound right after this run created the principal: Entra replication; back off
  for up to `principal_wait` seconds;
- 409 from concurrent writes on one identity's federated credentials: back off and retry;
- 409 RoleAssignmentExists: done, if a read confirms the existing grant is the same one;
- 404 on DELETE: done (already gone).

Clock, sleep and randomness are injected, so this is tested without waiting.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from identity_reconciler.azure.errors import (
    ArmRequestError,
    ArmUnavailable,
    Conflict,
    NotFound,
    PrincipalNotFound,
    RoleAssignmentExists,
    ServerError,
    Throttled,
)
from identity_reconciler.azure.execute import retry_after_of

T = TypeVar("T")

REMAINING_HEADER = "x-ms-ratelimit-remaining-subscription"
DEFAULT_SPENT_WAIT = 1.0  # seconds to hold a spent bucket before any Retry-After was seen
RETRYABLE_CONFLICTS = frozenset(
    {
        "concurrentfederatedidentitycredentialswritesforsinglemanagedidentity",
        "anotheroperationinprogress",
    }
)


class Cancelled(Exception):
    """The run was interrupted while waiting to retry."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6  # per write, for 5xx, dropped connections and concurrent-write conflicts
    backoff: float = 1.0  # first wait; doubled per attempt
    backoff_max: float = 30.0
    throttle_budget: float = 900.0  # seconds one write may spend waiting out 429s
    principal_wait: float = 300.0  # seconds a new principal may take to replicate
    # A principal this run read rather than created may still be replicating: an earlier,
    # interrupted run can have created it moments ago. Waited out briefly, so a principal that
    # is really gone fails within a minute, not five.
    known_principal_wait: float = 60.0
    seed: int = 0


@dataclass(frozen=True)
class Attempted(Generic[T]):
    """A write that is done: its value (None when it was already done) and how it went."""

    value: T | None
    tries: int
    note: str | None = None  # "already gone", "exists as <name>"


def category(method: str) -> str:
    """ARM's throttling buckets: reads, deletes, and every other write."""
    m = method.upper()
    return "reads" if m in ("GET", "HEAD") else "deletes" if m == "DELETE" else "writes"


@dataclass(frozen=True)
class _Done:
    note: str


@dataclass(frozen=True)
class _Retry:
    delay: float
    why: str


class Gate:
    """A shared pause per bucket: one 429 holds back every worker until its Retry-After.

    ARM also reports the bucket's remaining budget on every answer
    (`x-ms-ratelimit-remaining-subscription-writes`); when it reaches 0 the next write would be
    throttled, so the gate closes for as long as the last Retry-After said, before the 429.
    """

    def __init__(self, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._until: dict[str, float] = {}
        self._last_after: dict[str, float] = {}

    def hold(self, bucket: str, seconds: float) -> None:
        with self._lock:
            until = self._clock() + max(0.0, seconds)
            self._until[bucket] = max(self._until.get(bucket, 0.0), until)
            if seconds > 0:
                self._last_after[bucket] = seconds

    def observe(self, bucket: str, headers: Mapping[str, str]) -> bool:
        """Read the remaining budget from an answer; close the gate when it is spent."""
        value = headers.get(f"{REMAINING_HEADER}-{bucket}")
        try:
            remaining = int(str(value)) if value is not None else None
        except ValueError:
            return False
        if remaining is None or remaining > 0:
            return False
        with self._lock:
            seconds = self._last_after.get(bucket, DEFAULT_SPENT_WAIT)
            until = self._clock() + seconds
            self._until[bucket] = max(self._until.get(bucket, 0.0), until)
        return True

    def remaining(self, bucket: str) -> float:
        with self._lock:
            return max(0.0, self._until.get(bucket, 0.0) - self._clock())

    def wait(self, bucket: str) -> float:
        """Sleep until the bucket opens; returns the seconds waited."""
        waited = 0.0
        while True:
            left = self.remaining(bucket)
            if left <= 0.0:
                return waited
            self._sleep(left)
            waited += left


class Retrier:
    """Runs writes with the rules above; one instance is shared by all workers of a run."""

    def __init__(
        self,
        policy: RetryPolicy | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self.cancel = cancel or threading.Event()
        self._clock = clock
        self._sleep_fn = sleep
        self._rng = random.Random(self.policy.seed)  # noqa: S311 - jitter, not secrets
        self._rng_lock = threading.Lock()
        self.gate = Gate(clock, self._sleep)
        self._count_lock = threading.Lock()
        self.retries = 0  # attempts beyond the first, over the whole run
        self.throttled = 0  # 429 answers seen
        self.paced = 0  # answers that said the bucket was spent (the gate closed before a 429)

    def observe(self, method: str, headers: Mapping[str, str]) -> None:
        """Feed an answer's headers to the gate (pacing from the remaining-budget header)."""
        if self.gate.observe(category(method), headers):
            with self._count_lock:
                self.paced += 1

    def _sleep(self, seconds: float) -> None:
        if self.cancel.is_set():
            raise Cancelled("interrupted")
        if self._sleep_fn is not None:
            self._sleep_fn(seconds)
        elif self.cancel.wait(seconds):
            raise Cancelled("interrupted")

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter in [50 %, 100 %] of the step (seeded)."""
        step = min(self.policy.backoff_max, self.policy.backoff * 2.0 ** max(0, attempt - 1))
        with self._rng_lock:
            return step * (0.5 + 0.5 * self._rng.random())

    def call(
        self,
        write: Callable[[], T],
        *,
        method: str,
        confirm_exists: Callable[[], str | None] | None = None,
        new_principal: bool = False,
        on_wait: Callable[[str, float], None] | None = None,
    ) -> Attempted[T]:
        """`write()` until it succeeds or a rule says stop (then its ArmRequestError propagates).

        `confirm_exists()` answers the name of an equal grant (or None) after a 409
        RoleAssignmentExists; `new_principal` allows waiting out PrincipalNotFound.
        """
        bucket = category(method)
        tries = 0
        failures = 0
        throttles = 0
        throttled_for = 0.0
        principal_since: float | None = None
        while True:
            throttled_for += self.gate.wait(bucket)
            tries += 1
            if tries > 1:
                with self._count_lock:
                    self.retries += 1
            try:
                return Attempted(write(), tries)
            except ArmRequestError as exc:
                verdict = self._decide(
                    exc,
                    method=method,
                    failures=failures,
                    throttles=throttles,
                    throttled_for=throttled_for,
                    principal_since=principal_since,
                    new_principal=new_principal,
                    confirm_exists=confirm_exists,
                )
                if isinstance(verdict, _Done):
                    return Attempted(None, tries, verdict.note)
                if on_wait is not None:
                    on_wait(verdict.why, verdict.delay)
                if isinstance(exc, Throttled):
                    throttles += 1
                    with self._count_lock:
                        self.throttled += 1
                    self.gate.hold(bucket, verdict.delay)
                    continue
                if isinstance(exc, PrincipalNotFound) and principal_since is None:
                    principal_since = self._clock()
                failures += 1
                self._sleep(verdict.delay)

    def _decide(
        self,
        exc: ArmRequestError,
        *,
        method: str,
        failures: int,
        throttles: int,
        throttled_for: float,
        principal_since: float | None,
        new_principal: bool,
        confirm_exists: Callable[[], str | None] | None,
    ) -> _Retry | _Done:
        """Wait and retry, or done after all; re-raises `exc` to give up."""
        policy = self.policy
        if isinstance(exc, NotFound) and method.upper() == "DELETE":
            return _Done("already gone")
        if isinstance(exc, RoleAssignmentExists) and confirm_exists is not None:
            name = confirm_exists()
            if name is not None:
                return _Done(f"exists as role assignment {name}")
            raise exc
        if isinstance(exc, Throttled):
            after = exc.retry_after if exc.retry_after is not None else retry_after_of(exc)
            delay = after if after is not None else self.backoff(throttles + 1)
            if throttled_for + delay > policy.throttle_budget:
                raise exc
            return _Retry(delay, f"throttled (429): waiting {delay:.1f} s as ARM asked")
        if isinstance(exc, PrincipalNotFound):
            limit = policy.principal_wait if new_principal else policy.known_principal_wait
            waited = 0.0 if principal_since is None else self._clock() - principal_since
            if waited >= limit:
                raise exc
            delay = min(self.backoff(failures + 2), limit - waited)
            what = "new principal" if new_principal else "principal"
            return _Retry(delay, f"{what} not replicated yet: waiting {delay:.1f} s")
        transient = isinstance(exc, ServerError | ArmUnavailable) or (
            isinstance(exc, Conflict) and exc.code.lower() in RETRYABLE_CONFLICTS
        )
        if not transient or failures + 1 >= policy.attempts:
            raise exc
        after = retry_after_of(exc)
        delay = after if after is not None else self.backoff(failures + 1)
        return _Retry(delay, f"{exc.status or ''} {exc.code}: retrying in {delay:.1f} s".strip())
