"""The seeded fault matrix: one small estate per seed, applied while ARM misbehaves.

Each seed gets its own in-process emulator (in-memory state), applies the estate's `before`
specs cleanly, adds objects that are not ours, then switches on one kind of fault
(`fault_kinds.kind_for`) and runs what a user runs: plan, apply, and again while the plan is not
empty, at most `MAX_ATTEMPTS` times. With the faults off it then checks the emulator's store
(`estate.check_estate`) and that one more plan is empty.

Apply's waits are scaled down (`scaled_retry`: 50 ms first backoff) so a seed takes a second or
two; what is retried and when is unchanged. ARM's Retry-After is whole seconds, so every 429 or
503 that carries one costs at least a second.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import estate
from fault_kinds import KINDS, OFF, FaultKind, HandlerFaults, Racer, kind_for, scaled_retry

from identity_reconciler.apply import ApplyOptions, ApplyResult, StalePlan, apply_plan
from identity_reconciler.azure.clients import Session, connect_emulator
from identity_reconciler.azure.errors import ArmRequestError as ClientError
from identity_reconciler.azure.localworld import world_for
from identity_reconciler.azure.reader import read_live
from identity_reconciler.core.state import DesiredState
from identity_reconciler.plan import compute_plan
from local_azure.api import RunningEmulator, running
from local_azure.kernel import Settings as EmulatorSettings

__all__ = ["KINDS", "MAX_ATTEMPTS", "SeedResult", "kind_for", "run_seed"]

MAX_ATTEMPTS = 3  # plan + apply runs a user makes before the estate must have converged


# --------------------------------------------------------------------------- one seed


@dataclass
class SeedResult:
    seed: int
    kind: str
    converged: bool
    attempts: int
    seconds: float
    requests: int
    retries: int
    throttled: int
    statuses: dict[str, int]
    events: dict[str, int]
    problems: list[str]
    changes: int
    failed: list[str]  # "address: error" of every change an apply reported failed
    applies: int = 0  # applies run (a plan whose read failed outright is re-run, not applied)

    @property
    def faults_met(self) -> int:
        """Fault events this seed went through (429s, 5xx, drops, PrincipalNotFound, races)."""
        return sum(self.events.values())


def _hand_grant_on_ours(session: Session, before: DesiredState, seed: int) -> None:
    """A grant someone made by hand to one of our identities: not ours, never deleted."""
    for ident in before.identities.values():
        if ident.name.startswith("id-svc"):
            got = session.msi(estate.SUB).user_assigned_identities.get(estate.RG, ident.name)
            estate.assign(session, estate.STORAGE, "Monitoring Reader", str(got.principal_id), seed)
            return


@contextmanager
def _faults(emu: RunningEmulator, kind: FaultKind, seed: int) -> Iterator[HandlerFaults]:
    handlers = HandlerFaults(emu, kind, seed)
    emu.configure(seed=seed, **kind.knobs)
    handlers.since = emu.context.clock()
    handlers.active = True
    try:
        yield handlers
    finally:
        handlers.active = False
        emu.configure(**OFF)


def _converge(
    session: Session,
    desired: DesiredState,
    options: ApplyOptions,
    on_result: Callable[[ApplyResult], None],
    refused: list[str],
    before_first_apply: Callable[[], None] = lambda: None,
) -> tuple[bool, int, int]:
    """Plan and apply until a plan is empty; (converged, attempts, changes in the first plan)."""
    first_changes = -1
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            plan = compute_plan(desired, read_live(session, desired), cloud="local")
        except ClientError:
            continue  # the read failed outright: the user runs plan again
        if first_changes < 0:
            first_changes = len(plan.changes)
        if not plan.has_changes:
            return True, attempt - 1, first_changes
        if attempt == 1:
            before_first_apply()
        try:
            on_result(apply_plan(session, plan, options=options))
        except (ClientError, StalePlan) as exc:  # refused or failed before any write
            refused.append(f"apply stopped before writing: {exc}")
    return False, MAX_ATTEMPTS, first_changes


def run_seed(seed: int, workdir: Path) -> SeedResult:
    kind = kind_for(seed)
    specs = estate.draw(seed)
    before = estate.desired_of(specs.before, workdir / f"s{seed}" / "before")
    after = estate.desired_of(specs.after, workdir / f"s{seed}" / "after")
    world = world_for(after, world_for(before))
    options = ApplyOptions(retry=scaled_retry(seed))
    results: list[ApplyResult] = []
    refused: list[str] = []
    with (
        running(world=world, settings=EmulatorSettings(seed=seed)) as emu,
        connect_emulator(emu.info) as session,
    ):
        estate.setup_unowned(session, seed)
        setup = compute_plan(before, read_live(session, before), cloud="local")
        assert apply_plan(session, setup).ok, "the fault-free setup apply failed"
        _hand_grant_on_ours(session, before, seed)
        unowned = estate.snapshot_unowned(emu.context.store)
        racer = Racer(emu, list(after.grants.values()), seed) if kind.racer else None
        emu.reset_stats()
        started = time.monotonic()
        with _faults(emu, kind, seed) as handlers:
            try:
                converged, attempts, changes = _converge(
                    session,
                    after,
                    options,
                    results.append,
                    refused,
                    before_first_apply=racer.start if racer is not None else lambda: None,
                )
            finally:
                if racer is not None:
                    racer.stop()
        seconds = time.monotonic() - started
        stats = emu.stats()
        final = compute_plan(after, read_live(session, after), cloud="local")
        problems = estate.check_estate(
            emu.context.store, after, unowned, extra_unowned=racer.created if racer else ()
        )
        if final.has_changes:
            converged = False
            problems.append(f"the plan after the run is not empty: {len(final.changes)} changes")
    events = dict(stats["faults"]) | dict(handlers.counts)
    if racer is not None:
        events["racer grants"] = len(racer.created)
        events["racer lost races"] = racer.lost_races
    exists = sum(1 for r in results for a in r.actions for n in a.notes if "exists as" in n)
    if exists:
        events["409 taken as done"] = exists
    return SeedResult(
        seed=seed,
        kind=kind.name,
        converged=converged and not problems,
        attempts=attempts,
        seconds=seconds,
        requests=int(stats["total"]),
        retries=sum(r.retries for r in results),
        throttled=sum(r.throttled for r in results),
        statuses=dict(stats["by_status"]),
        events=events,
        problems=problems,
        changes=changes,
        applies=len(results),
        failed=refused
        + [
            f"{a.address}: {a.failure.line() if a.failure else '?'}"
            for r in results
            for a in r.failed
        ],
    )
