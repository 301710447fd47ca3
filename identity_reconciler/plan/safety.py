"""Safety: which plans apply refuses unless a person forces them with a named flag.

Two kinds of danger. Volume (octoDNS's rule): once at least `min_existing` managed objects
exist, deleting or updating more than the given percentage of them is refused — a wrong
subscription or a half-deleted spec file looks exactly like that. And always-forced cases,
whatever the volume: destroying an identity (its principal, client id and grants cannot be
restored; a re-created one is a different principal), and writing a privileged role at a
subscription or management group. The privileged case also needs a justified allowance in the
specs' policy; without it the plan has an error, which no flag overrides.

The verdict is computed from the plan's own changes and stored in it (under the checksum);
`check_safety` is what apply calls with the flags the user passed.
"""

from __future__ import annotations

from collections.abc import Iterable

from identity_reconciler.core import armid, roles
from identity_reconciler.core.state import SafetyPolicy
from identity_reconciler.plan import sql_safety
from identity_reconciler.plan.model import (
    KNOWN_AFTER_APPLY,
    Change,
    ChangeKind,
    Plan,
    Safety,
    Violation,
)
from identity_reconciler.plan.names import parse

ALLOW_DELETE_IDENTITY = "--allow-delete-identity"
ALLOW_PRIVILEGED = "--allow-privileged"
ALLOW_MASS_CHANGE = "--allow-mass-change"
FLAGS = (ALLOW_DELETE_IDENTITY, ALLOW_PRIVILEGED, ALLOW_MASS_CHANGE)
_ASSIGNMENTS = "/providers/microsoft.authorization/roleassignments/"
_IDENTITY_TYPE = "/providers/microsoft.managedidentity/userassignedidentities/"


def evaluate(changes: Iterable[Change], *, existing: int, policy: SafetyPolicy) -> Safety:
    """The safety verdict of a set of changes over `existing` live managed objects."""
    violations: list[Violation] = []
    deletes = updates = 0
    for change in changes:
        deletes += "delete" in change.actions
        updates += change.actions == ("update",)
        violations.extend(_forced(change))
        violations.extend(sql_safety.forced(change, ALLOW_PRIVILEGED))
    if existing >= policy.min_existing and existing > 0:
        for count, limit, verb in (
            (deletes, policy.max_delete_percent, "deleted"),
            (updates, policy.max_update_percent, "updated"),
        ):
            percent = 100.0 * count / existing
            if percent > limit:
                violations.append(
                    Violation(
                        reason=f"too_many_{'deletes' if verb == 'deleted' else 'updates'}",
                        message=(
                            f"{count} of {existing} existing managed objects ({percent:.0f} %) "
                            f"would be {verb}; the limit is {limit:g} % — check that the specs "
                            "and the target subscription are the ones you mean"
                        ),
                        flag=ALLOW_MASS_CHANGE,
                    )
                )
    return Safety(safe=not violations, existing=existing, violations=tuple(violations))


def _forced(change: Change) -> list[Violation]:
    if "delete" in change.actions and change.kind in (
        ChangeKind.IDENTITY,
        ChangeKind.SYSTEM_ASSIGNED,
    ):
        what = "re-created as a new principal" if change.is_replace else "deleted"
        return [
            Violation(
                reason="identity_delete",
                message=(
                    f"{change.address} would be {what}: its principal, client id and role "
                    "grants are lost for good"
                ),
                flag=ALLOW_DELETE_IDENTITY,
                address=change.address,
            )
        ]
    if change.kind is ChangeKind.GRANT and change.after is not None:
        guid = _guid(str(change.after.get("role_definition_id", "")))
        scope = str(change.after.get("scope", ""))
        if guid in roles.PRIVILEGED_ROLE_GUIDS and is_broad(scope):
            role = change.after.get("role", guid)
            return [
                Violation(
                    reason="privileged_grant",
                    message=f"{change.address} grants {role} on the whole of {scope}",
                    flag=ALLOW_PRIVILEGED,
                    address=change.address,
                )
            ]
    return []


def _guid(role_definition_id: str) -> str:
    try:
        return armid.role_definition_guid(role_definition_id)
    except armid.ArmIdError:
        return ""


def is_broad(scope: str) -> bool:
    """Subscription or management group (an unparseable scope counts as broad)."""
    parsed = parse(scope)
    return parsed is None or parsed.kind.breadth >= armid.ScopeKind.SUBSCRIPTION.breadth


def check_safety(plan: Plan, flags: Iterable[str] = ()) -> list[Violation]:
    """The violations the given flags do not cover: apply refuses while this is not empty.

    `flags` are the forcing flags as typed (`--allow-delete-identity`, ...). Besides the stored
    verdict, the forced cases are read again from the operations apply will run: the file's
    checksum shows an edit, but anyone can re-compute it, so the verdict alone proves nothing.
    """
    given = {f.strip() for f in flags}
    unknown = given - set(FLAGS)
    if unknown:
        raise ValueError(f"unknown safety flag(s) {sorted(unknown)}; known: {list(FLAGS)}")
    found = list(plan.safety.violations)
    seen = {(v.flag, v.address) for v in found}
    for change in plan.changes:
        for violation in (
            *_forced_operations(change),
            *sql_safety.forced_operations(change, ALLOW_PRIVILEGED),
        ):
            if (violation.flag, violation.address) not in seen:
                seen.add((violation.flag, violation.address))
                found.append(violation)
    return [v for v in found if v.flag not in given]


def _forced_operations(change: Change) -> list[Violation]:
    """Forced cases in what the operations write: privileged grants, identity deletes."""
    out: list[Violation] = []
    for op in change.operations:
        lowered = op.id.lower().rstrip("/")
        marker = lowered.find(_ASSIGNMENTS)
        _, found, name = lowered.partition(_IDENTITY_TYPE)
        if op.method == "DELETE" and found and "/" not in name:
            out.append(
                Violation(
                    reason="identity_delete",
                    message=f"{change.address} deletes the identity {op.id}",
                    flag=ALLOW_DELETE_IDENTITY,
                    address=change.address,
                )
            )
        elif op.method == "PUT" and (marker >= 0 or op.id == KNOWN_AFTER_APPLY):
            props = (op.body or {}).get("properties") or {}
            guid = _guid(str(props.get("roleDefinitionId", "")))
            scope = op.id[:marker] if marker >= 0 else str((change.after or {}).get("scope", ""))
            if guid in roles.PRIVILEGED_ROLE_GUIDS and is_broad(scope):
                out.append(
                    Violation(
                        reason="privileged_grant",
                        message=f"{change.address} grants role {guid} on the whole of {scope}",
                        flag=ALLOW_PRIVILEGED,
                        address=change.address,
                    )
                )
    return out
