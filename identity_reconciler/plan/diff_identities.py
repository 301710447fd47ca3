"""User-assigned identities (their federated credentials: `diff_credentials`).

An identity is created when absent, updated when its tags or isolation scope differ, replaced
when its location (immutable) differs, and deleted only when we own it (ownership tag) and it
lies in a resource group the specs manage. A live identity with a desired name that we do not
own is left alone unless adoption is asked for: takeover is refused, with a notice.
"""

from __future__ import annotations

from typing import Any

from identity_reconciler.core import ownership
from identity_reconciler.core.live import LiveIdentity
from identity_reconciler.core.state import DesiredIdentity, PrincipalKind, PrincipalRef
from identity_reconciler.plan import normalise
from identity_reconciler.plan.context import (
    DiffContext,
    Draft,
    Fate,
    ManagedPrincipal,
    is_owned_identity,
    where,
)
from identity_reconciler.plan.diff_credentials import plan_credentials
from identity_reconciler.plan.model import KNOWN_AFTER_APPLY, ChangeKind, Operation, Reason


def _view(
    *,
    location: str,
    tags: dict[str, str],
    isolation_scope: str | None,
    principal_id: str,
    client_id: str,
) -> dict[str, Any]:
    return {
        "location": location,
        "tags": dict(sorted(tags.items())),
        "isolation_scope": isolation_scope,
        "principal_id": principal_id,
        "client_id": client_id,
    }


def _live_view(live: LiveIdentity) -> dict[str, Any]:
    return _view(
        location=live.location,
        tags=dict(live.tags),
        isolation_scope=normalise.isolation_scope(live.isolation_scope) and live.isolation_scope,
        principal_id=live.principal_id,
        client_id=live.client_id,
    )


def _desired_view(d: DesiredIdentity, live: LiveIdentity | None) -> dict[str, Any]:
    return _view(
        location=d.location,
        tags=dict(d.tags),
        isolation_scope=d.isolation_scope,
        principal_id=live.principal_id if live else KNOWN_AFTER_APPLY,
        client_id=live.client_id if live else KNOWN_AFTER_APPLY,
    )


def _body(d: DesiredIdentity, live: LiveIdentity | None) -> dict[str, Any]:
    """The PUT body: the specs' tags replace the live ones (they include the ownership tag)."""
    body: dict[str, Any] = {"location": d.location, "tags": dict(sorted(d.tags.items()))}
    isolation = d.isolation_scope
    if isolation is None and live is not None and normalise.isolation_scope(live.isolation_scope):
        isolation = "None"
    if isolation is not None:
        body["properties"] = {"isolationScope": isolation}
    return body


def _update_reason(d: DesiredIdentity, live: LiveIdentity) -> Reason | None:
    if not is_owned_identity(live):
        return Reason.UPDATE_BECAUSE_ADOPTED
    if normalise.tags(d.tags) != normalise.tags(live.tags):
        return Reason.UPDATE_BECAUSE_TAGS_DIFFER
    if normalise.isolation_scope(d.isolation_scope) != normalise.isolation_scope(
        live.isolation_scope
    ):
        return Reason.UPDATE_BECAUSE_ISOLATION_SCOPE_DIFFERS
    return None


def plan_identities(ctx: DiffContext) -> None:
    for key in sorted(ctx.desired_identities):
        d = ctx.desired_identities[key]
        _plan_desired(ctx, key, d, ctx.live_identities.get(key))
    for key in sorted(ctx.live_identities):
        live = ctx.live_identities[key]
        if key in ctx.desired_identities:
            continue
        if not is_owned_identity(live) or not ctx.in_managed_group(live):
            continue
        ctx.existing += 1
        address = ctx.names.identity_address(live.id)
        ctx.identity_fate[key] = Fate.DELETE
        ctx.add(
            Draft(
                address=address,
                kind=ChangeKind.IDENTITY,
                actions=("delete",),
                reason=Reason.DELETE_BECAUSE_DESTROY
                if key in ctx.desired.retiring
                else Reason.DELETE_BECAUSE_NOT_IN_SPEC,
                group=address,
                id=live.id,
                before=_live_view(live),
                after=None,
                live_fingerprint=live.fingerprint,
                operations=(Operation(method="DELETE", id=live.id),),
            )
        )
        _manage_principal(ctx, live, address, Reason.DELETE_BECAUSE_PRINCIPAL_DELETED, waits=True)


def _manage_principal(
    ctx: DiffContext, live: LiveIdentity, address: str, reason: Reason, *, waits: bool
) -> None:
    if live.principal_id:
        ctx.principals[live.principal_id.lower()] = ManagedPrincipal(
            name=ctx.names.identity(live.id),
            group=address,
            delete_reason=reason,
            waits=address if waits else None,
            ref_key=PrincipalRef(PrincipalKind.USER_ASSIGNED, live.id).key,
        )


def _plan_desired(
    ctx: DiffContext, key: str, d: DesiredIdentity, live: LiveIdentity | None
) -> None:
    address = ctx.names.identity_address(d.id)
    source = where(d.source)
    put = Operation(method="PUT", id=d.id, body=_body(d, live))
    if live is None:
        ctx.identity_fate[key] = Fate.CREATE
        ctx.add(
            Draft(
                address=address,
                kind=ChangeKind.IDENTITY,
                actions=("create",),
                reason=Reason.CREATE_BECAUSE_NOT_LIVE,
                group=address,
                id=d.id,
                before=None,
                after=_desired_view(d, None),
                live_fingerprint=None,
                operations=(put,),
                source=source,
            )
        )
        plan_credentials(ctx, d, None, Fate.CREATE, address)
        return
    owned = is_owned_identity(live)
    if not owned and not ctx.adopt:
        ctx.identity_fate[key] = Fate.REFUSED
        ctx.notice(
            "takeover_refused",
            f"identity {d.name} exists but is not owned by identity-reconciler (no "
            f"'{ownership.OWNER_TAG}: {ownership.OWNER_TAG_VALUE}' tag); refusing to take it "
            "over, so nothing is planned for it or its credentials, attachments and grants. "
            "Adopt it with --adopt, or rename it in the specs",
            address,
            source,
        )
        return
    if normalise.location(d.location) != normalise.location(live.location):
        if not owned:
            ctx.identity_fate[key] = Fate.REFUSED
            ctx.notice(
                "adoption_blocked",
                f"identity {d.name} is not owned and lives in {live.location}, not "
                f"{d.location}; a location cannot change, and an identity we do not own is "
                "never deleted. Fix the location in the specs to adopt it",
                address,
                source,
            )
            return
        ctx.existing += 1
        ctx.identity_fate[key] = Fate.REPLACE
        ctx.add(
            Draft(
                address=address,
                kind=ChangeKind.IDENTITY,
                actions=("delete", "create"),
                reason=Reason.REPLACE_BECAUSE_IMMUTABLE_FIELD,
                group=address,
                id=d.id,
                before=_live_view(live),
                after=_desired_view(d, None),
                live_fingerprint=live.fingerprint,
                operations=(Operation(method="DELETE", id=live.id), put),
                source=source,
            )
        )
        _manage_principal(ctx, live, address, Reason.DELETE_BECAUSE_PRINCIPAL_DELETED, waits=False)
        plan_credentials(ctx, d, live, Fate.REPLACE, address)
        return
    ctx.existing += 1
    ctx.identity_fate[key] = Fate.KEEP
    _manage_principal(ctx, live, address, Reason.DELETE_BECAUSE_NOT_IN_SPEC, waits=False)
    reason = _update_reason(d, live)
    if reason is not None:
        ctx.add(
            Draft(
                address=address,
                kind=ChangeKind.IDENTITY,
                actions=("update",),
                reason=reason,
                group=address,
                id=live.id,
                before=_live_view(live),
                after=_desired_view(d, live),
                live_fingerprint=live.fingerprint,
                operations=(put.model_copy(update={"id": live.id}),),
                source=source,
            )
        )
    plan_credentials(ctx, d, live, Fate.KEEP, address)
