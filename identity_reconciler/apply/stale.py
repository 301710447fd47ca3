"""Is the plan still true? Compare every object's live fingerprint with the plan's.

A plan is reviewed, then applied later; if anyone changed an object it touches in between, the
reviewed writes may now do something nobody reviewed (a PATCH computed from an old identity
block would drop an identity someone attached since). Apply therefore reads every fingerprint in
bulk before its first write and refuses the whole plan if one differs, and checks each object
again right before writing it.
"""

from __future__ import annotations

from dataclasses import dataclass

from identity_reconciler.apply.graph import ARM_KINDS
from identity_reconciler.azure.clients import Session
from identity_reconciler.azure.fingerprints import current_fingerprints, fingerprint_key
from identity_reconciler.plan import Change, ChangeKind, Plan, needs_principal

STALE_CODE = "PlanStale"


@dataclass(frozen=True)
class Stale:
    """One object that is not as the plan saw it."""

    address: str
    object_id: str
    expected: str | None
    found: str | None

    @property
    def message(self) -> str:
        if self.expected is None:
            what = "now exists (the plan saw none)"
        elif self.found is None:
            what = "no longer exists"
        else:
            what = "changed since the plan was made"
        return f"plan is stale: re-run plan — {self.address} ({self.object_id}) {what}"


class StaleChange(Exception):
    """Raised for one change whose object changed: nothing is written for it."""

    code = STALE_CODE

    def __init__(self, stale: Stale) -> None:
        super().__init__(stale.message)
        self.stale = stale


def checkable(change: Change) -> bool:
    """ARM changes whose object is known before apply (not grants for a principal to come).

    SQL changes are checked against the database catalog by whatever runs them.
    """
    return change.kind in ARM_KINDS and bool(change.id) and not needs_principal(change)


def is_block(change: Change) -> bool:
    return change.kind in (ChangeKind.ATTACHMENT, ChangeKind.SYSTEM_ASSIGNED)


def check_plan(session: Session, plan: Plan, *, parallelism: int = 8) -> list[Stale]:
    """Every object of the plan whose live fingerprint differs from the plan's (bulk reads)."""
    changes = [c for c in plan.changes if checkable(c)]
    live = current_fingerprints(session, changes, parallelism=parallelism)
    out: list[Stale] = []
    for change in changes:
        assert change.id is not None
        key = fingerprint_key(change.kind.value, change.id)
        if key not in live:
            continue
        found = live[key]
        if found != change.live_fingerprint:
            out.append(Stale(change.address, change.id, change.live_fingerprint, found))
    return out
