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
from identity_reconciler.core import armid
from identity_reconciler.plan import KNOWN_AFTER_APPLY, Change, ChangeKind, Plan

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


@dataclass(frozen=True)
class Target:
    """The live object a change's `live_fingerprint` describes."""

    kind: str
    id: str


def target_of(change: Change) -> Target | None:
    """The object the plan fingerprinted, or None while it cannot be named.

    That is the object a change's first DELETE removes (a replaced grant's old assignment, whose
    successor is named only once its principal exists), else the change's own object. A new
    grant for a principal this apply creates has none until the principal id fills in its name.
    SQL changes are checked against the database catalog by whatever runs them.
    """
    if change.kind not in ARM_KINDS:
        return None
    first = change.operations[0] if change.operations else None
    if first is not None and first.method == "DELETE" and first.id != KNOWN_AFTER_APPLY:
        return Target(change.kind.value, first.id)
    if change.id and change.id != KNOWN_AFTER_APPLY:
        return Target(change.kind.value, change.id)
    return None


def checkable(change: Change) -> bool:
    return target_of(change) is not None


def is_block(change: Change) -> bool:
    return change.kind in (ChangeKind.ATTACHMENT, ChangeKind.SYSTEM_ASSIGNED)


def _under_deleted_parent(plan: Plan) -> set[str]:
    """Addresses of credentials whose identity this plan deletes or re-creates first.

    Such a credential still exists now and is gone once its identity is deleted, so the plan
    (which describes it as it will be met) cannot be compared with it up front; it is compared
    right before its write, after the identity's change.
    """
    replaced = {
        armid.key(c.id)
        for c in plan.changes
        if c.kind is ChangeKind.IDENTITY and "delete" in c.actions and c.id
    }
    out = set()
    for c in plan.changes:
        if c.kind is ChangeKind.FEDERATED_CREDENTIAL and c.id:
            parsed = armid.try_parse_id(c.id)
            parent = parsed.parent_identity if parsed is not None else None
            if parent is not None and armid.key(parent) in replaced:
                out.add(c.address)
    return out


def check_plan(session: Session, plan: Plan, *, parallelism: int = 8) -> list[Stale]:
    """Every object of the plan whose live fingerprint differs from the plan's (bulk reads)."""
    later = _under_deleted_parent(plan)
    targets = {
        c.address: t
        for c in plan.changes
        if c.address not in later and (t := target_of(c)) is not None
    }
    live = current_fingerprints(session, targets.values(), parallelism=parallelism)
    out: list[Stale] = []
    for change in plan.changes:
        target = targets.get(change.address)
        if target is None:
            continue
        key = fingerprint_key(target.kind, target.id)
        if key not in live:
            continue
        found = live[key]
        if found != change.live_fingerprint:
            out.append(Stale(change.address, target.id, change.live_fingerprint, found))
    return out
