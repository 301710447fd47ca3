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

    That is the object a change's DELETE removes (a replaced grant's old assignment, whose
    successor is named only once its principal exists), else the change's own object. A new
    grant for a principal this apply creates has none until the principal id fills in its name.
    SQL changes are checked against the database catalog by whatever runs them.
    `plan/binding.py` has already refused operations that touch any other object.
    """
    if change.kind not in ARM_KINDS:
        return None
    deletes = [op.id for op in change.operations if op.method == "DELETE"]
    if len({armid.key(i) for i in deletes}) > 1:
        raise ValueError(f"{change.address}: its operations delete more than one object")
    if deletes and deletes[0] != KNOWN_AFTER_APPLY:
        return Target(change.kind.value, deletes[0])
    if change.id and change.id != KNOWN_AFTER_APPLY:
        return Target(change.kind.value, change.id)
    return None


def successor_of(change: Change) -> Target | None:
    """The other object a change writes, when it is not the fingerprinted one: the new
    assignment of a replaced grant. The plan saw none there, so one found now is stale."""
    first = target_of(change)
    if first is None or not change.id or change.id == KNOWN_AFTER_APPLY:
        return None
    if armid.key(change.id) == armid.key(first.id):
        return None
    return Target(change.kind.value, change.id)


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


# equivalent mutant [8 → 9]: how many reads run at once, never what they find
def check_plan(session: Session, plan: Plan, *, parallelism: int = 8) -> list[Stale]:
    """Every object of the plan whose live fingerprint differs from the plan's (bulk reads):
    each change's fingerprinted object, and any other object one of its operations writes."""
    later = _under_deleted_parent(plan)
    targets: dict[str, tuple[Target, str | None]] = {}
    for c in plan.changes:
        if c.address in later:
            continue
        if (t := target_of(c)) is not None:
            targets[c.address] = (t, c.live_fingerprint)
        if (s := successor_of(c)) is not None:
            targets[c.address + " (new)"] = (s, None)
    live = current_fingerprints(session, [t for t, _ in targets.values()], parallelism=parallelism)
    out: list[Stale] = []
    for address, (target, expected) in targets.items():
        key = fingerprint_key(target.kind, target.id)
        if key not in live:
            continue
        found = live[key]
        if found != expected:
            out.append(Stale(address.removesuffix(" (new)"), target.id, expected, found))
    return out
