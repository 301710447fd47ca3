"""Apply's in-flight limit follows ARM's write budget and the writes' latency.

The limit's rules are tested directly; the behaviour through the real SDK against the emulator,
with PUTs made slow and counted at the server.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from identity_reconciler.apply import ApplyOptions, apply_plan
from identity_reconciler.apply.concurrency import Concurrency
from identity_reconciler.azure.clients import connect_emulator
from identity_reconciler.azure.localworld import world_for
from identity_reconciler.azure.reader import read_live
from identity_reconciler.core import privilege
from identity_reconciler.core.state import DesiredState
from identity_reconciler.plan import compute_plan
from identity_reconciler.spec import validate
from local_azure.api import RunningEmulator, Settings

SUB = "11111111-1111-1111-1111-111111111111"
RG = "rg-pace-prod-uks-01"


# --------------------------------------------------------------------------- the rules


def test_the_limit_grows_while_the_bucket_has_room() -> None:
    c = Concurrency(10, 32)
    c.timed(0.8)
    assert c.observe(199) == 32  # half of what remains, capped by the ceiling
    assert c.observe(40) == 20
    assert c.observe(None) == 20  # no header: unchanged


def test_the_limit_falls_to_the_refill_pace_when_the_bucket_runs_low() -> None:
    slow = Concurrency(10, 32)
    slow.timed(0.8)
    assert slow.observe(0) == 8  # 10 writes/s x 0.8 s keeps up with the refill
    fast = Concurrency(10, 32)
    fast.timed(0.03)
    assert fast.observe(1) == 1
    assert fast.lowest == 1
    assert fast.highest == 10


def test_one_at_a_time_stays_one_at_a_time() -> None:
    c = Concurrency(1, 1)
    c.timed(2.0)
    assert c.observe(1000) == 1


# --------------------------------------------------------------------------- through the SDK


def _role_ids(count: int) -> list[str]:
    text = resources.files("identity_reconciler.data").joinpath("builtin-roles.json").read_text()
    ids = sorted(str(r["id"]).lower() for r in json.loads(text))
    return [i for i in ids if not (privilege.of_guid(i).privileged)][:count]


def _specs(folder: Path, grants: int) -> DesiredState:
    scope = f"/subscriptions/{SUB}/resourceGroups/{RG}"
    lines = [
        f"subscription: {SUB}",
        f"defaults: {{location: uksouth, resource_group: {RG}, tags: {{env: prod}}}}",
        "identities:",
        "  - name: id-pace-prod-uks-01",
    ]
    if grants:
        lines.append("    roles:")
        lines += [f"      - {{role: {g}, scope: {scope}}}" for g in _role_ids(grants)]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pace.yaml").write_text("\n".join(lines) + "\n")
    desired = validate([str(folder)]).desired
    assert desired is not None
    return desired


def _slow_puts(emu: RunningEmulator, seconds: float) -> list[int]:
    """Each PUT takes `seconds` more; returns, per PUT, how many were in flight as it began."""
    router: Any = emu.router
    dispatch = router.dispatch
    lock = threading.Lock()
    now = [0]
    seen: list[int] = []

    def slow(ctx: Any, req: Any) -> Any:
        if req.method != "PUT":
            return dispatch(ctx, req)
        with lock:
            now[0] += 1
            seen.append(now[0])
        try:
            time.sleep(seconds)
            return dispatch(ctx, req)
        finally:
            with lock:
                now[0] -= 1

    router.dispatch = slow
    return seen


def _apply(
    tmp_path: Path,
    fresh_emulator: Callable[..., RunningEmulator],
    grants: int,
    limits: dict[str, Any] | None,
) -> list[int]:
    first = _specs(tmp_path / "a", 0)
    desired = _specs(tmp_path / "b", grants)
    emu = fresh_emulator(world=world_for(desired), settings=Settings())
    with connect_emulator(emu.info) as session:
        assert apply_plan(session, compute_plan(first, read_live(session, first))).ok
        plan = compute_plan(desired, read_live(session, desired))
        assert len(plan.changes) == grants
        if limits is not None:
            emu.configure(throttle=True, throttle_limits=limits)
        seen = _slow_puts(emu, 0.1)
        result = apply_plan(session, plan, options=ApplyOptions())
    assert result.ok
    assert len(seen) >= grants
    return seen


def test_slow_writes_with_budget_to_spare_run_more_than_ten_at_once(
    tmp_path: Path, fresh_emulator: Callable[..., RunningEmulator]
) -> None:
    seen = _apply(tmp_path, fresh_emulator, 60, None)  # unthrottled: a large remaining count
    assert max(seen) > 10


def test_a_low_remaining_writes_count_backs_the_apply_off(
    tmp_path: Path, fresh_emulator: Callable[..., RunningEmulator]
) -> None:
    # A small bucket that refills fast: the remaining count stays low all along.
    limits = {"writes": {"burst": 6, "per_second": 40}}
    seen = _apply(tmp_path, fresh_emulator, 40, limits)
    # The first ten start before any answer; once answers report the bucket nearly spent, a
    # 0.1 s write needs one in flight to keep pace with the refill, and few more are let go.
    later = seen[15:]
    assert later
    assert max(later) <= 4
