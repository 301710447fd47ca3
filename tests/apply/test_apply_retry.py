"""Retry rules with a fake clock: what is retried, for how long, and what counts as done."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from identity_reconciler.apply.retry import Cancelled, Retrier, RetryPolicy
from identity_reconciler.azure.errors import (
    ArmRequestError,
    ArmUnavailable,
    BadRequest,
    Conflict,
    NotFound,
    PrincipalNotFound,
    RoleAssignmentExists,
    ServerError,
    Throttled,
)


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.now += seconds


def retrier(policy: RetryPolicy | None = None) -> tuple[Retrier, FakeTime]:
    t = FakeTime()
    return Retrier(policy or RetryPolicy(), clock=t.clock, sleep=t.sleep), t


def failing(*errors: ArmRequestError, value: str = "ok") -> Callable[[], str]:
    """A write that raises `errors` in turn, then succeeds."""
    queue = list(errors)

    def write() -> str:
        if queue:
            raise queue.pop(0)
        return value

    return write


def throttled(after: float | None = 3) -> Throttled:
    return Throttled(429, "SubscriptionRequestsThrottled", "slow down", retry_after=after)


def test_429_waits_exactly_retry_after_and_is_not_limited_by_count() -> None:
    r, t = retrier()
    got = r.call(failing(*[throttled(3)] * 9), method="PUT")
    assert got.value == "ok"
    assert got.tries == 10
    assert t.sleeps == [3.0] * 9
    assert r.throttled == 9


def test_429_holds_every_worker_of_the_same_bucket() -> None:
    r, t = retrier()
    r.call(failing(throttled(5)), method="PUT")  # leaves the writes gate closed until +5 s
    r.gate.hold("writes", 5)
    start = t.now
    r.call(failing(), method="PUT")
    assert t.now - start == pytest.approx(5)
    before = t.now
    r.call(failing(), method="DELETE")  # deletes are another bucket: not held
    assert t.now == before


def test_429_gives_up_after_the_throttle_budget() -> None:
    r, t = retrier(RetryPolicy(throttle_budget=10))
    with pytest.raises(Throttled):
        r.call(failing(*[throttled(4)] * 10), method="PUT")
    assert sum(t.sleeps) <= 10


def test_429_without_retry_after_backs_off() -> None:
    r, t = retrier(RetryPolicy(backoff=1, seed=7))
    r.call(failing(throttled(None), throttled(None)), method="PUT")
    assert 0.5 <= t.sleeps[0] <= 1.0
    assert 1.0 <= t.sleeps[1] <= 2.0


def test_5xx_and_dropped_connections_back_off_exponentially_then_give_up() -> None:
    r, t = retrier(RetryPolicy(attempts=4, backoff=1, backoff_max=30, seed=1))
    errors = [
        ServerError(500, "InternalServerError", "x"),
        ArmUnavailable(0, "ArmUnavailable", "reset"),
    ]
    with pytest.raises(ArmUnavailable):  # the 4th attempt's error is the one reported
        r.call(failing(*(errors * 3)), method="PUT")
    assert len(t.sleeps) == 3  # 4 attempts
    for n, slept in enumerate(t.sleeps, start=1):
        step = 2 ** (n - 1)
        assert step / 2 <= slept <= step


def test_jitter_is_seeded() -> None:
    def sleeps(seed: int) -> list[float]:
        r, t = retrier(RetryPolicy(seed=seed))
        r.call(failing(*[ServerError(503, "ServiceUnavailable", "x")] * 4), method="PUT")
        return t.sleeps

    assert sleeps(3) == sleeps(3)
    assert sleeps(3) != sleeps(4)


def test_5xx_honours_retry_after_when_the_answer_carries_one() -> None:
    err = ServerError(503, "ServiceUnavailable", "busy")
    err.retry_after = 7  # type: ignore[attr-defined]  # what azure/execute.py sets
    r, t = retrier()
    r.call(failing(err), method="PUT")
    assert t.sleeps == [7.0]


def test_principal_not_found_is_waited_out_for_a_new_principal() -> None:
    r, t = retrier(RetryPolicy(principal_wait=300))
    pnf = PrincipalNotFound(400, "PrincipalNotFound", "replicating")
    got = r.call(failing(*[pnf] * 5), method="PUT", new_principal=True)
    assert got.value == "ok"
    assert len(t.sleeps) == 5
    assert all(s > 0 for s in t.sleeps)


def test_principal_not_found_gives_up_after_principal_wait() -> None:
    r, t = retrier(RetryPolicy(principal_wait=20))
    pnf = PrincipalNotFound(400, "PrincipalNotFound", "replicating")
    with pytest.raises(PrincipalNotFound):
        r.call(failing(*[pnf] * 100), method="PUT", new_principal=True)
    assert sum(t.sleeps) == pytest.approx(20, abs=0.01)


def test_principal_not_found_for_a_principal_read_from_arm_is_waited_out_briefly() -> None:
    # An interrupted earlier run may have created it moments ago; a deleted one fails in 60 s.
    r, t = retrier(RetryPolicy(principal_wait=300, known_principal_wait=60))
    pnf = PrincipalNotFound(400, "PrincipalNotFound", "gone")
    with pytest.raises(PrincipalNotFound):
        r.call(failing(*[pnf] * 100), method="PUT")
    assert sum(t.sleeps) == pytest.approx(60, abs=0.01)
    r, t = retrier(RetryPolicy(known_principal_wait=60))
    assert r.call(failing(pnf, pnf), method="PUT").value == "ok"


def test_principal_not_found_for_a_known_principal_fails_at_once_without_a_wait() -> None:
    r, t = retrier(RetryPolicy(known_principal_wait=0))
    with pytest.raises(PrincipalNotFound):
        r.call(failing(PrincipalNotFound(400, "PrincipalNotFound", "gone")), method="PUT")
    assert t.sleeps == []


def test_role_assignment_exists_is_done_when_the_same_grant_is_confirmed() -> None:
    r, _ = retrier()
    exists = RoleAssignmentExists(
        409, "RoleAssignmentExists", "The role assignment already exists."
    )
    got = r.call(failing(exists), method="PUT", confirm_exists=lambda: "legacy-name")
    assert got.value is None
    assert got.note == "exists as role assignment legacy-name"


def test_role_assignment_exists_fails_when_the_read_finds_no_equal_grant() -> None:
    r, _ = retrier()
    exists = RoleAssignmentExists(409, "RoleAssignmentExists", "exists")
    with pytest.raises(RoleAssignmentExists):
        r.call(failing(exists), method="PUT", confirm_exists=lambda: None)


def test_404_on_delete_is_done_but_404_on_put_fails() -> None:
    r, _ = retrier()
    got = r.call(failing(NotFound(404, "NotFound", "gone")), method="DELETE")
    assert got.note == "already gone"
    with pytest.raises(NotFound):
        r.call(failing(NotFound(404, "ResourceGroupNotFound", "no rg")), method="PUT")


def test_concurrent_credential_write_conflict_is_retried_other_conflicts_are_not() -> None:
    r, t = retrier()
    concurrent = Conflict(
        409, "ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity", "busy"
    )
    assert r.call(failing(concurrent, concurrent), method="PUT").tries == 3
    with pytest.raises(Conflict):
        r.call(failing(Conflict(409, "Conflict", "something else")), method="PUT")
    with pytest.raises(BadRequest):
        r.call(failing(BadRequest(400, "InvalidRequest", "no")), method="PUT")
    assert len(t.sleeps) == 2


def test_cancel_interrupts_a_wait() -> None:
    cancel = threading.Event()
    r = Retrier(RetryPolicy(), cancel=cancel)
    cancel.set()
    with pytest.raises(Cancelled):
        r.call(failing(ServerError(500, "InternalServerError", "x")), method="PUT")


def test_real_sleep_wakes_on_cancel() -> None:
    cancel = threading.Event()
    r = Retrier(RetryPolicy(), cancel=cancel)
    threading.Timer(0.05, cancel.set).start()
    with pytest.raises(Cancelled):
        r.call(failing(throttled(30)), method="PUT")


def test_a_spent_budget_closes_the_gate_for_the_last_retry_after() -> None:
    r, t = retrier()
    r.observe("PUT", {"x-ms-ratelimit-remaining-subscription-writes": "17"})
    assert r.gate.remaining("writes") == 0
    r.observe("PUT", {"x-ms-ratelimit-remaining-subscription-writes": "0"})
    assert r.gate.remaining("writes") == pytest.approx(1.0)  # no Retry-After seen yet: 1 s
    r.call(failing(throttled(4)), method="PUT")
    t.now += 10
    r.observe("PUT", {"x-ms-ratelimit-remaining-subscription-writes": "0"})
    assert r.gate.remaining("writes") == pytest.approx(4.0)
    assert r.gate.remaining("deletes") == 0
    assert r.paced == 2
    r.observe("GET", {"x-ms-ratelimit-remaining-subscription-reads": "not a number"})
    assert r.gate.remaining("reads") == 0
