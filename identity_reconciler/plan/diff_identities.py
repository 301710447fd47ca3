"""User-assigned identities and their federated credentials.

An identity is created when absent, updated when its tags or isolation scope differ, replaced
when its location (immutable) differs, and deleted only when we own it (ownership tag) and it
lies in a resource group the specs manage. A live identity with a desired name that we do not
own is left alone unless adoption is asked for: takeover is refused, with a notice.
"""

from __future__ import annotations

from typing import Any

from identity_reconciler.core import armid, ownership
from identity_reconciler.core.state import (
    DesiredIdentity,
    FederatedCredential,
    LiveIdentity,
    PrincipalKind,
    PrincipalRef,
)
from identity_reconciler.plan import normalise
from identity_reconciler.plan.context import (
    DiffContext,
    Draft,
    Fate,
    ManagedPrincipal,
    is_owned_identity,
    where,
)
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
        _plan_credentials(ctx, d, None, Fate.CREATE, address)
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
        _plan_credentials(ctx, d, live, Fate.REPLACE, address)
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
    _plan_credentials(ctx, d, live, Fate.KEEP, address)


# --------------------------------------------------------------------------- credentials


def _fic_view(name: str, issuer: str, subject: str, audiences: tuple[str, ...]) -> dict[str, Any]:
    return {
        "name": name,
        "issuer": issuer,
        "subject": subject,
        "audiences": sorted(normalise.audiences(audiences)),
    }


def _fic_put(fic_id: str, fic: FederatedCredential) -> Operation:
    props = {"issuer": fic.issuer, "subject": fic.subject, "audiences": list(fic.audiences)}
    return Operation(method="PUT", id=fic_id, body={"properties": props})


def _plan_credentials(
    ctx: DiffContext, d: DesiredIdentity, live: LiveIdentity | None, fate: Fate, identity: str
) -> None:
    """Credentials of a desired identity; one being replaced gets all of them anew.

    None means the specs do not manage this identity's credentials: nothing is compared.
    """
    if d.federated_credentials is None:
        return
    wanted = {c.name.lower(): c for c in d.federated_credentials}

    def put(fic: FederatedCredential, reason: Reason, fic_id: str | None = None) -> Draft:
        fic_id = fic_id or f"{d.id}/{armid.FIC_CHILD}/{fic.name}"
        return ctx.add(
            Draft(
                address=ctx.names.credential_address(d.id, fic.name),
                kind=ChangeKind.FEDERATED_CREDENTIAL,
                actions=("create",),
                reason=reason,
                group=identity,
                id=fic_id,
                before=None,
                after=_fic_view(fic.name, fic.issuer, fic.subject, fic.audiences),
                live_fingerprint=None,
                operations=(_fic_put(fic_id, fic),),
                depends_on={identity} if fate is not Fate.KEEP else set(),
                source=where(fic.source),
            )
        )

    if fate is not Fate.KEEP:
        first = (
            Reason.CREATE_BECAUSE_PARENT_REPLACED
            if fate is Fate.REPLACE
            else Reason.CREATE_BECAUSE_NOT_LIVE
        )
        for name in sorted(wanted):
            put(wanted[name], first)
        return
    assert live is not None
    if live.federated_credentials is None:
        ctx.error(
            "credentials_not_read",
            f"internal error: the federated credentials of identity {d.name} were not read, "
            "so they cannot be compared; the live-state reader must read them for every "
            "existing identity in the specs",
            identity,
            where(d.source),
        )
        return
    have = {c.name.lower(): c for c in live.federated_credentials}
    ctx.existing += len(have)
    freed: dict[tuple[str, str], str] = {}  # (issuer, subject) of deleted credentials -> address
    for name in sorted(have.keys() - wanted.keys()):
        old = have[name]
        address = ctx.names.credential_address(d.id, old.name)
        freed[(old.issuer, old.subject)] = address
        ctx.add(
            Draft(
                address=address,
                kind=ChangeKind.FEDERATED_CREDENTIAL,
                actions=("delete",),
                reason=Reason.DELETE_BECAUSE_NOT_IN_SPEC,
                group=identity,
                id=old.id,
                before=_fic_view(old.name, old.issuer, old.subject, old.audiences),
                after=None,
                live_fingerprint=old.fingerprint,
                operations=(Operation(method="DELETE", id=old.id),),
            )
        )
    for name in sorted(wanted):
        fic = wanted[name]
        old_or_none = have.get(name)
        # ARM keeps issuer+subject unique per identity: free the pair before reusing it.
        needs = {freed[(fic.issuer, fic.subject)]} if (fic.issuer, fic.subject) in freed else set()
        if old_or_none is None:
            put(fic, Reason.CREATE_BECAUSE_NOT_LIVE).depends_on |= needs
            continue
        reason = _credential_reason(
            fic, old_or_none.issuer, old_or_none.subject, old_or_none.audiences
        )
        if reason is None:
            continue
        draft = put(fic, reason, old_or_none.id)
        draft.actions = ("update",)
        draft.before = _fic_view(
            old_or_none.name, old_or_none.issuer, old_or_none.subject, old_or_none.audiences
        )
        draft.live_fingerprint = old_or_none.fingerprint
        draft.depends_on |= needs


def _credential_reason(
    fic: FederatedCredential, issuer: str, subject: str, audiences: tuple[str, ...]
) -> Reason | None:
    """Issuer and subject compare exactly: Entra matches them exactly against the token."""
    if fic.issuer.strip() != issuer.strip():
        return Reason.UPDATE_BECAUSE_ISSUER_DIFFERS
    if fic.subject.strip() != subject.strip():
        return Reason.UPDATE_BECAUSE_SUBJECT_DIFFERS
    if normalise.audiences(fic.audiences) != normalise.audiences(audiences):
        return Reason.UPDATE_BECAUSE_AUDIENCES_DIFFER
    return None
