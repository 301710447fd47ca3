"""Identity blocks on resources: attachments of user-assigned identities, the system switch.

Every write is a PATCH of the resource's `identity` block. Each change carries the type the
resource ends with, so the changes on one resource converge in any order; detaches and the
system switch wait for the attaches on the same resource, so a resource is never left typed
`UserAssigned` with no identity. Only identities we manage are ever detached.

Every change here, an attach included, carries the fingerprint of the resource's identity
block: each PATCH was computed from that block (the final type keeps identities others
attached), so a block changed since the plan makes the change stale. Several changes on one
resource share that fingerprint; apply checks it before the first write to the resource.
"""

from __future__ import annotations

from typing import Any

from identity_reconciler.core import armid
from identity_reconciler.core.live import LiveResourceIdentity
from identity_reconciler.core.state import DesiredResourceIdentity, PrincipalKind, PrincipalRef
from identity_reconciler.plan import normalise
from identity_reconciler.plan.context import DiffContext, Draft, Fate, ManagedPrincipal, SystemFate
from identity_reconciler.plan.context import where as _where
from identity_reconciler.plan.model import KNOWN_AFTER_APPLY, ChangeKind, Operation, Reason

SYSTEM = "systemassigned"


def _patch(resource_id: str, type_: str, users: dict[str, Any] | None = None) -> Operation:
    block: dict[str, Any] = {"type": type_}
    if users and "UserAssigned" in type_:
        block["userAssignedIdentities"] = users
    return Operation(method="PATCH", id=resource_id, body={"identity": block})


def plan_resources(ctx: DiffContext) -> None:
    resources = {armid.key(r.resource_id): r for r in ctx.desired.resources.values()}
    for key in sorted(resources):
        _plan_resource(ctx, key, resources[key])


def _plan_resource(ctx: DiffContext, key: str, want: DesiredResourceIdentity) -> None:
    live = ctx.live_resources.get(key)
    source = _where(want.source)
    if live is None or not live.exists:
        ctx.system_fate[key] = SystemFate.MISSING
        ctx.error(
            "resource_not_found",
            f"resource {want.resource_id} referenced here does not exist; create it first or "
            "fix the reference",
            None,
            source,
        )
        return
    group = ctx.names.system_address(want.resource_id)
    fingerprint = live.fingerprint
    live_types = normalise.identity_types(live.identity_type)
    live_system = SYSTEM in live_types
    final_system = live_system if want.system_assigned is None else want.system_assigned
    have = {armid.key(i): a.id for i, a in live.user_assigned.items()}
    wanted = {armid.key(i): i for i in want.user_assigned}

    attach = sorted(
        k
        for k in wanted
        if ctx.identity_fate.get(k) is not Fate.REFUSED
        and (k not in have or ctx.identity_fate.get(k) is Fate.REPLACE)
    )
    detach = sorted(k for k in have if k not in wanted and ctx.is_managed_identity(k))
    final_users = (have.keys() - set(detach)) | set(attach)
    final_type = normalise.identity_type_string(
        final_system,
        bool(final_users),
        live_type=live.identity_type,
        resource_type=want.resource_type or live.resource_type,
    )
    ctx.existing += sum(1 for k in have if ctx.is_managed_identity(k))

    attach_addresses: set[str] = set()
    for k in attach:
        ident_id = wanted[k]
        address = ctx.names.attachment_address(want.resource_id, ident_id)
        attach_addresses.add(address)
        identity_address = ctx.names.identity_address(ident_id)
        replaced = k in have
        ops: tuple[Operation, ...] = (_patch(want.resource_id, final_type, {ident_id: {}}),)
        if replaced:
            without = normalise.identity_type_string(
                live_system,
                len(have) > 1,
                live_type=live.identity_type,
                resource_type=live.resource_type,
            )
            ops = (_patch(want.resource_id, without, {have[k]: None}), *ops)
        ctx.add(
            Draft(
                address=address,
                kind=ChangeKind.ATTACHMENT,
                actions=("delete", "create") if replaced else ("create",),
                reason=Reason.REPLACE_BECAUSE_PRINCIPAL_REPLACED
                if replaced
                else Reason.CREATE_BECAUSE_NOT_LIVE,
                group=identity_address,
                id=want.resource_id,
                before=_attachment_view(have[k]) if replaced else None,
                after=_attachment_view(ident_id),
                live_fingerprint=fingerprint,
                operations=ops,
                depends_on={identity_address}
                if ctx.identity_fate.get(k) in (Fate.CREATE, Fate.REPLACE)
                else set(),
                source=source,
            )
        )
    for k in detach:
        ident_id = have[k]
        address = ctx.names.attachment_address(want.resource_id, ident_id)
        identity_address = ctx.names.identity_address(ident_id)
        ctx.add(
            Draft(
                address=address,
                kind=ChangeKind.ATTACHMENT,
                actions=("delete",),
                reason=Reason.DELETE_BECAUSE_NOT_IN_SPEC,
                group=identity_address,
                id=want.resource_id,
                before=_attachment_view(ident_id),
                after=None,
                live_fingerprint=fingerprint,
                operations=(_patch(want.resource_id, final_type, {ident_id: None}),),
                depends_on=set(attach_addresses),
                source=source,
            )
        )
        # An identity being deleted waits until it is detached everywhere.
        deleted = ctx.get(identity_address)
        if deleted is not None and deleted.actions == ("delete",):
            deleted.depends_on.add(address)
    staying: dict[str, Any] = {have.get(k) or wanted[k]: {} for k in sorted(final_users)}
    _plan_system(
        ctx,
        key,
        want=want,
        live=live,
        final_type=final_type,
        staying=staying,
        attach_addresses=attach_addresses,
        group=group,
    )


def _attachment_view(identity_id: str) -> dict[str, Any]:
    return {"identity_id": identity_id}


def _plan_system(
    ctx: DiffContext,
    key: str,
    *,
    want: DesiredResourceIdentity,
    live: LiveResourceIdentity,
    final_type: str,
    staying: dict[str, Any],
    attach_addresses: set[str],
    group: str,
) -> None:
    live_system = SYSTEM in normalise.identity_types(live.identity_type)
    if live_system and live.system_principal_id:
        ctx.principals[live.system_principal_id.lower()] = ManagedPrincipal(
            name=ctx.names.scope(want.resource_id),
            group=group,
            delete_reason=Reason.DELETE_BECAUSE_NOT_IN_SPEC,
            ref_key=PrincipalRef(PrincipalKind.SYSTEM_ASSIGNED, want.resource_id).key,
        )
    if want.system_assigned is None or want.system_assigned == live_system:
        ctx.system_fate[key] = SystemFate.ON if live_system else SystemFate.OFF
        ctx.existing += int(live_system and want.system_assigned is not None)
        return
    # Runs after the attaches and names every identity the resource ends with, because a
    # type with UserAssigned needs at least one.
    op = _patch(want.resource_id, final_type, staying)
    if want.system_assigned:
        ctx.system_fate[key] = SystemFate.ENABLE
        ctx.add(
            Draft(
                address=group,
                kind=ChangeKind.SYSTEM_ASSIGNED,
                actions=("create",),
                reason=Reason.CREATE_BECAUSE_NOT_LIVE,
                group=group,
                id=want.resource_id,
                before=None,
                after={"principal_id": KNOWN_AFTER_APPLY},
                live_fingerprint=live.fingerprint,
                operations=(op,),
                depends_on=set(attach_addresses),
                source=_where(want.source),
            )
        )
        return
    ctx.existing += 1
    ctx.system_fate[key] = SystemFate.DISABLE
    ctx.add(
        Draft(
            address=group,
            kind=ChangeKind.SYSTEM_ASSIGNED,
            actions=("delete",),
            reason=Reason.DELETE_BECAUSE_NOT_IN_SPEC,
            group=group,
            id=want.resource_id,
            before={"principal_id": live.system_principal_id},
            after=None,
            live_fingerprint=live.fingerprint,
            operations=(op,),
            depends_on=set(attach_addresses),
            source=_where(want.source),
        )
    )
    if live.system_principal_id:
        principal = ctx.principals[live.system_principal_id.lower()]
        principal.delete_reason = Reason.DELETE_BECAUSE_PRINCIPAL_DELETED
        principal.waits = group
