"""Role grants: match the specs' grants to live role assignments, and never delete others'.

A desired grant is matched by (scope, role GUID, principal id), which survives every spelling
quirk ARM has. A grant we created carries a deterministic name (uuid5 of that triple), so
ownership is read from the name alone: an owned grant that the specs no longer want is deleted
when its principal is ours; an unowned grant is never deleted, and one equal to a desired grant
is only reported (or, with adopt, accepted as it is).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Literal

from identity_reconciler.core import armid, ownership, privilege
from identity_reconciler.core.live import LiveGrant
from identity_reconciler.core.state import DesiredGrant, PrincipalKind
from identity_reconciler.plan import normalise, protect
from identity_reconciler.plan.context import DiffContext, Draft, Fate, SystemFate, where
from identity_reconciler.plan.model import (
    KNOWN_AFTER_APPLY,
    ChangeKind,
    Operation,
    Principal,
    Reason,
)
from identity_reconciler.plan.names import role_name

PRINCIPAL_TYPE = "ServicePrincipal"
GrantKey = tuple[str, str, str]


# equivalent mutant: nothing assigns to a _Resolved or hashes one
@dataclass(frozen=True)
class _Resolved:
    """A grant's principal as far as the plan knows it."""

    kind: Literal["user_assigned", "system_assigned"]
    ref_id: str
    principal_id: str  # or KNOWN_AFTER_APPLY
    name: str
    group: str
    creator: str | None = None  # the change that creates the principal


def canonical_scope(scope: str) -> str:
    parsed = armid.try_parse(scope)
    return parsed.id if parsed is not None else scope.rstrip("/")


def live_guid(grant: LiveGrant) -> str:
    if grant.role_definition_guid:
        return grant.role_definition_guid.lower()
    return armid.role_definition_guid(grant.role_definition_id)


def is_owned(grant: LiveGrant) -> bool:
    return ownership.is_owned_assignment(
        grant.name, grant.scope, live_guid(grant), grant.principal_id
    )


def plan_grants(ctx: DiffContext) -> None:
    index: dict[GrantKey, list[LiveGrant]] = defaultdict(list)
    for grant in ctx.live.grants.values():
        key = (armid.key(grant.scope), live_guid(grant), grant.principal_id.lower())
        index[key].append(grant)
    matched: set[str] = set()
    for gkey in sorted(ctx.desired.grants):
        _plan_desired(ctx, ctx.desired.grants[gkey], index, matched)
    for gid in sorted(ctx.live.grants):
        grant = ctx.live.grants[gid]
        if armid.key(grant.id) in matched:
            continue
        principal = ctx.principals.get(grant.principal_id.lower())
        if principal is None:
            if is_orphan(ctx, grant):
                _delete_orphan(ctx, grant)
            continue
        if not is_owned(grant):
            continue
        ctx.existing += 1
        guid = live_guid(grant)
        address = ctx.names.grant_address(principal.name, role_name(guid), grant.scope)
        draft = ctx.add(
            Draft(
                address=address,
                kind=ChangeKind.GRANT,
                actions=("delete",),
                reason=principal.delete_reason,
                group=principal.group,
                id=grant.id,
                before=_live_view(grant),
                after=None,
                live_fingerprint=grant.fingerprint,
                operations=(Operation(method="DELETE", id=grant.id),),
            )
        )
        protect.grant_deleted(ctx, draft, principal.ref_key, grant.scope, guid)
        waiting = ctx.get(principal.waits) if principal.waits else None
        if waiting is not None:
            waiting.depends_on.add(draft.address)
    protect.make_before_break(ctx)


def is_orphan(ctx: DiffContext, grant: LiveGrant) -> bool:
    """An owned grant (name and marker) whose principal provably no longer exists.

    Provably: the reader listed every identity principal of the subscriptions read
    (`principals_complete`) and this one is not among them, and the grant lies in the managed
    scope, where this repository answers for what identity-reconciler made.
    """
    return (
        ctx.live.principals_complete
        and grant.principal_id.lower() not in ctx.live_principals
        and is_owned(grant)
        and ownership.DESCRIPTION_MARKER in (grant.description or "")
        and ctx.in_managed_scope(grant.scope)
    )


def _delete_orphan(ctx: DiffContext, grant: LiveGrant) -> None:
    ctx.existing += 1
    guid = live_guid(grant)
    who = f"deleted-principal-{grant.principal_id.lower()}"
    ctx.add(
        Draft(
            address=ctx.names.grant_address(who, role_name(guid), grant.scope),
            kind=ChangeKind.GRANT,
            actions=("delete",),
            reason=Reason.DELETE_BECAUSE_PRINCIPAL_DELETED,
            group=f"{ChangeKind.GRANT.value}.{who}",
            id=grant.id,
            before=_live_view(grant),
            after=None,
            live_fingerprint=grant.fingerprint,
            operations=(Operation(method="DELETE", id=grant.id),),
        )
    )


def _plan_desired(
    ctx: DiffContext,
    g: DesiredGrant,
    index: dict[GrantKey, list[LiveGrant]],
    matched: set[str],
) -> None:
    resolved = _resolve(ctx, g)
    if resolved is None:
        return
    scope = canonical_scope(g.scope)
    guid = g.role_definition_guid.lower()
    role = role_name(guid, g.role_name)
    address = ctx.names.grant_address(resolved.name, role, scope)
    source = where(g.source)
    pid = resolved.principal_id
    found = index.get((armid.key(scope), guid, pid.lower()), [])
    owned = [lg for lg in found if is_owned(lg)]
    for lg in found:
        matched.add(armid.key(lg.id))
    if owned:
        live = owned[0]
        ctx.existing += 1
        reason = _update_reason(g, live)
        if reason is not None:
            _privileged(ctx, g, scope, guid, role=role, address=address)
            body = _body(g, scope, guid, live.principal_id)
            ctx.add(
                Draft(
                    address=address,
                    kind=ChangeKind.GRANT,
                    actions=("update",),
                    reason=reason,
                    group=resolved.group,
                    id=live.id,
                    before=_live_view(live),
                    after=_desired_view(
                        g, scope, guid, role=role, principal_id=live.principal_id, name=live.name
                    ),
                    live_fingerprint=live.fingerprint,
                    operations=(Operation(method="PUT", id=live.id, body=body),),
                    principal=_principal(resolved),
                    source=source,
                )
            )
        return
    if found:
        other = found[0]
        if ctx.adopt:
            ctx.notice(
                "grant_adopted",
                f"{role} on {ctx.names.scope(scope)} for {resolved.name} exists as role "
                f"assignment {other.name}, which identity-reconciler did not create; adopted "
                "as it is (kept under its own name, never deleted by identity-reconciler)",
                address,
                source,
            )
        else:
            ctx.notice(
                "grant_not_owned",
                f"{role} on {ctx.names.scope(scope)} for {resolved.name} exists as role "
                f"assignment {other.name} but is not owned by identity-reconciler; adopt it "
                "with --adopt",
                address,
                source,
            )
        return
    _privileged(ctx, g, scope, guid, role=role, address=address)
    known = pid != KNOWN_AFTER_APPLY
    name = ownership.assignment_name(scope, guid, pid) if known else KNOWN_AFTER_APPLY
    gid = f"{scope}{armid.ROLE_ASSIGNMENTS}{name}" if known else KNOWN_AFTER_APPLY
    ctx.add(
        Draft(
            address=address,
            kind=ChangeKind.GRANT,
            actions=("create",),
            reason=Reason.CREATE_BECAUSE_NOT_LIVE,
            group=resolved.group,
            id=gid if known else None,
            before=None,
            after=_desired_view(g, scope, guid, role=role, principal_id=pid, name=name),
            live_fingerprint=None,
            operations=(Operation(method="PUT", id=gid, body=_body(g, scope, guid, pid)),),
            depends_on={resolved.creator} if resolved.creator else set(),
            principal=_principal(resolved),
            source=source,
        )
    )


def _principal(resolved: _Resolved) -> Principal:
    return Principal(
        kind=resolved.kind,
        id=resolved.ref_id,
        principal_id=resolved.principal_id,
        address=resolved.creator,
    )


def _update_reason(g: DesiredGrant, live: LiveGrant) -> Reason | None:
    """principalType is not compared: Azure fills it in, and we always send ServicePrincipal."""
    if normalise.condition(g.condition, g.condition_version) != normalise.condition(
        live.condition, live.condition_version
    ):
        return Reason.UPDATE_BECAUSE_CONDITION_DIFFERS
    if normalise.description(g.description) != normalise.text(live.description):
        return Reason.UPDATE_BECAUSE_DESCRIPTION_DIFFERS
    return None


def _body(g: DesiredGrant, scope: str, guid: str, principal_id: str) -> dict[str, Any]:
    sub = _subscription_of(scope)
    props: dict[str, Any] = {
        "roleDefinitionId": armid.role_definition_id(guid, sub),
        "principalId": principal_id,
        "principalType": PRINCIPAL_TYPE,
        "description": ownership.with_marker(g.description),
    }
    cond, version = normalise.condition(g.condition, g.condition_version)
    if cond:
        props["condition"] = (g.condition or "").strip()
        props["conditionVersion"] = version
    return {"properties": props}


def _subscription_of(scope: str) -> str | None:
    parsed = armid.try_parse(scope)
    return parsed.subscription_id if parsed is not None else None


def _desired_view(
    g: DesiredGrant, scope: str, guid: str, *, role: str, principal_id: str, name: str
) -> dict[str, Any]:
    _, version = normalise.condition(g.condition, g.condition_version)
    return {
        "name": name,
        "scope": scope,
        "role": role,
        "role_definition_id": armid.role_definition_id(guid),
        "principal_id": principal_id,
        "condition": (g.condition or "").strip() or None,
        "condition_version": version or None,
        "description": ownership.with_marker(g.description),
    }


def _live_view(grant: LiveGrant) -> dict[str, Any]:
    guid = live_guid(grant)
    _, version = normalise.condition(grant.condition, grant.condition_version)
    return {
        "name": grant.name,
        "scope": grant.scope,
        "role": role_name(guid),
        "role_definition_id": armid.role_definition_id(guid),
        "principal_id": grant.principal_id,
        "condition": grant.condition or None,
        "condition_version": version or None,
        "description": grant.description,
    }


def _privileged(
    ctx: DiffContext, g: DesiredGrant, scope: str, guid: str, *, role: str, address: str
) -> None:
    """A privileged role at a broad scope needs a justified allowance in the specs' policy."""
    parsed = armid.try_parse(scope)
    verdict = privilege.forced_at(guid, parsed.kind if parsed is not None else None)
    if verdict is None:
        return
    for allowance in ctx.desired.allow_privileged:
        if (
            allowance.role_definition_guid.lower() == guid
            and armid.key(allowance.scope) == armid.key(scope)
            and allowance.justification.strip()
        ):
            return
    ctx.error(
        "privileged_not_allowed",
        f"{role} on {scope} is a privileged grant at a broad scope (it {verdict.why}); add it "
        "to policy.allow_privileged with a justification (and apply with --allow-privileged)",
        address,
        where(g.source),
    )


def _resolve(ctx: DiffContext, g: DesiredGrant) -> _Resolved | None:
    ref = g.principal
    key = armid.key(ref.id)
    source = where(g.source)
    if ref.kind is PrincipalKind.USER_ASSIGNED:
        name = ctx.names.identity(ref.id)
        group = ctx.names.identity_address(ref.id)
        fate = ctx.identity_fate.get(key)
        if fate is Fate.REFUSED:
            return None
        if fate in (Fate.CREATE, Fate.REPLACE):
            return _Resolved("user_assigned", ref.id, KNOWN_AFTER_APPLY, name, group, group)
        live = ctx.live_identities.get(key)
        if live is not None and live.principal_id:
            return _Resolved("user_assigned", ref.id, live.principal_id.lower(), name, group)
        problem = (
            "exists but its principal id was not read (internal error)"
            if live is not None
            else "is neither in the specs nor live"
        )
        ctx.error(
            "principal_not_found",
            f"grant {g.role_name} on {g.scope} is for identity {ref.id}, which {problem}",
            None,
            source,
        )
        return None
    name = ctx.names.scope(ref.id)
    group = ctx.names.system_address(ref.id)
    fate_s = ctx.system_fate.get(key)
    if fate_s is SystemFate.MISSING:
        return None  # already reported: the resource does not exist
    if fate_s is SystemFate.ENABLE:
        return _Resolved("system_assigned", ref.id, KNOWN_AFTER_APPLY, name, group, group)
    resource = ctx.live_resources.get(key)
    if (
        fate_s in (SystemFate.DISABLE, SystemFate.OFF)
        or resource is None
        or not (resource.exists and resource.system_principal_id)
    ):
        ctx.error(
            "system_identity_not_enabled",
            f"grant {g.role_name} on {g.scope} is for the system-assigned identity of "
            f"{ref.id}, which is not enabled (or is being turned off); set "
            "system_assigned: true on that resource",
            None,
            source,
        )
        return None
    return _Resolved("system_assigned", ref.id, resource.system_principal_id.lower(), name, group)
