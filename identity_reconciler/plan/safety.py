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

from identity_reconciler.core import armid, privilege
from identity_reconciler.core.state import SafetyPolicy
from identity_reconciler.plan import sql_safety
from identity_reconciler.plan.binding import check_bound
from identity_reconciler.plan.model import (
    KNOWN_AFTER_APPLY,
    Change,
    ChangeKind,
    Operation,
    Plan,
    Safety,
    Violation,
)

ALLOW_DELETE_IDENTITY = "--allow-delete-identity"
ALLOW_PRIVILEGED = "--allow-privileged"
ALLOW_MASS_CHANGE = "--allow-mass-change"
FLAGS = (ALLOW_DELETE_IDENTITY, ALLOW_PRIVILEGED, ALLOW_MASS_CHANGE)


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
        verdict = privilege.forced_at(guid, _kind(armid.try_parse(scope)))
        if verdict is not None:
            role = change.after.get("role", guid)
            return [_privileged(change, f"grants {role} on the whole of {scope}", verdict)]
    return []


def _privileged(change: Change, what: str, verdict: privilege.Privilege) -> Violation:
    return Violation(
        reason="privileged_grant",
        message=f"{change.address} {what}: it {verdict.why}",
        flag=ALLOW_PRIVILEGED,
        address=change.address,
    )


def _kind(scope: armid.Scope | None) -> armid.ScopeKind | None:
    return scope.kind if scope is not None else None


def _guid(role_definition_id: str) -> str:
    """The role GUID; an id that does not parse gives one no catalog holds (so: privileged)."""
    try:
        return armid.role_definition_guid(role_definition_id)
    except armid.ArmIdError:
        # equivalent mutant: '' is no catalog role either, so it is judged privileged
        return "unparseable"


def is_broad(scope: str) -> bool:
    """Subscription or management group (an unparseable scope counts as broad)."""
    return privilege.is_broad(_kind(armid.try_parse(scope)))


def operation_scope(op: Operation) -> armid.Scope | None:
    """The scope a role-assignment write acts on, parsed exactly as the write will send it."""
    parsed = armid.try_parse_id(op.id)
    if parsed is None or parsed.assignment is None:
        return None
    return parsed.scope


def check_safety(plan: Plan, flags: Iterable[str] = ()) -> list[Violation]:
    """The violations the given flags do not cover: apply refuses while this is not empty.

    `flags` are the forcing flags as typed (`--allow-delete-identity`, ...). Besides the stored
    verdict, the forced cases are read again from the changes and from the operations apply will
    run, after checking that each operation is bound to its change (`plan/binding.py`): the
    file's checksum shows an edit, but anyone can re-compute it, so the verdict proves nothing.
    """
    given = {f.strip() for f in flags}
    unknown = given - set(FLAGS)
    if unknown:
        raise ValueError(f"unknown safety flag(s) {sorted(unknown)}; known: {list(FLAGS)}")
    check_bound(plan)  # UnboundOperation: operations that do not do what their changes say
    found = list(plan.safety.violations)
    seen = {(v.flag, v.address) for v in found}
    for change in plan.changes:
        for violation in (
            *_forced(change),
            *_forced_operations(change),
            *sql_safety.forced_operations(change, ALLOW_PRIVILEGED),
        ):
            if (violation.flag, violation.address) not in seen:
                seen.add((violation.flag, violation.address))
                found.append(violation)
    return [v for v in found if v.flag not in given]


def _forced_operations(change: Change) -> list[Violation]:
    """Forced cases in what the operations write: privileged grants, identity deletes.

    Ids are parsed by armid exactly as the executor parses them; an id it refuses is judged at
    its worst (a delete of an identity, a grant at a broad scope) and never runs anyway.
    """
    out: list[Violation] = []
    for op in change.operations:
        parsed = armid.try_parse_id(op.id) if op.id != KNOWN_AFTER_APPLY else None
        kind = parsed.kind if parsed is not None else None
        if op.method == "DELETE" and kind in ("identity", None):
            out.append(
                Violation(
                    reason="identity_delete",
                    message=f"{change.address} deletes the identity {op.id}",
                    flag=ALLOW_DELETE_IDENTITY,
                    address=change.address,
                )
            )
        elif op.method == "PUT" and (kind in ("role_assignment", None)):
            props = (op.body or {}).get("properties") or {}
            guid = _guid(str(props.get("roleDefinitionId", "")))
            if parsed is not None:
                scope_kind = _kind(parsed.scope)
            elif op.id == KNOWN_AFTER_APPLY:
                scope_kind = _kind(armid.try_parse(str((change.after or {}).get("scope", ""))))
            else:
                scope_kind = None
            verdict = privilege.forced_at(guid, scope_kind)
            if verdict is not None:
                where = parsed.scope.id if parsed is not None else op.id
                what = f"grants role {guid} on the whole of {where}"
                out.append(_privileged(change, what, verdict))
    return out
