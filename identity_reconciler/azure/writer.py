"""One function per ARM write, each idempotent where ARM allows, each answering a Live object.

Apply calls these in dependency order. A write returns what ARM answered, converted exactly as
the reader converts (so a new identity's principal id is learned, and fingerprints compare);
the single-object readers (`get_*`) serve apply's stale check before each write.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters
from azure.mgmt.msi.v2024_11_30.models import FederatedIdentityCredential, Identity

from identity_reconciler.azure import convert
from identity_reconciler.azure.clients import Session
from identity_reconciler.azure.errors import NotFound, arm_errors
from identity_reconciler.azure.reader import get_resource_body, list_credentials
from identity_reconciler.azure.resource_types import canonical_type
from identity_reconciler.core import armid, ownership
from identity_reconciler.core.state import (
    DesiredGrant,
    DesiredIdentity,
    FederatedCredential,
    LiveFederatedCredential,
    LiveGrant,
    LiveIdentity,
    LiveResourceIdentity,
)

_LRO_POLL_SECONDS = 2


def _identity_parts(identity_id: str) -> tuple[str, str, str]:
    scope = armid.parse_scope(identity_id)
    if (scope.resource_type or "").lower() != armid.USER_ASSIGNED_TYPE.lower():
        raise ValueError(f"{identity_id!r} is not a user-assigned identity id")
    return scope.subscription_id or "", scope.resource_group or "", scope.name or ""


# --------------------------------------------------------------------------- identities


def create_or_update_identity(session: Session, desired: DesiredIdentity) -> LiveIdentity:
    """PUT the identity with its tags (ownership tag always included)."""
    sub, rg, name = _identity_parts(desired.id)
    tags = dict(desired.tags)
    if not ownership.is_owned_identity(tags):
        tags[ownership.OWNER_TAG] = ownership.OWNER_TAG_VALUE
    params = Identity(location=desired.location, tags=tags)
    if desired.isolation_scope:
        params.isolation_scope = desired.isolation_scope
    with arm_errors():
        result = session.msi(sub).user_assigned_identities.create_or_update(rg, name, params)
    return convert.identity(result.serialize(keep_readonly=True))


def delete_identity(session: Session, identity_id: str) -> None:
    """Delete; an identity that is already gone is fine (ARM answers 204)."""
    sub, rg, name = _identity_parts(identity_id)
    try:
        with arm_errors():
            session.msi(sub).user_assigned_identities.delete(rg, name)
    except NotFound:
        return


def get_identity(
    session: Session, identity_id: str, *, with_credentials: bool = False
) -> LiveIdentity | None:
    sub, rg, name = _identity_parts(identity_id)
    try:
        with arm_errors():
            result = session.msi(sub).user_assigned_identities.get(rg, name)
    except NotFound:
        return None
    live = convert.identity(result.serialize(keep_readonly=True))
    if with_credentials:
        live = convert.identity_with_credentials(live, list_credentials(session, live.id))
    return live


# --------------------------------------------------------------------------- credentials


def put_federated_credential(
    session: Session, identity_id: str, credential: FederatedCredential
) -> LiveFederatedCredential:
    """Create or replace one credential. ARM rejects concurrent writes on one identity: the
    caller serialises credential writes per identity."""
    sub, rg, name = _identity_parts(identity_id)
    params = FederatedIdentityCredential(
        issuer=credential.issuer, subject=credential.subject, audiences=list(credential.audiences)
    )
    with arm_errors():
        result = session.msi(sub).federated_identity_credentials.create_or_update(
            rg, name, credential.name, params
        )
    return convert.federated_credential(result.serialize(keep_readonly=True))


def delete_federated_credential(session: Session, identity_id: str, name: str) -> None:
    sub, rg, ident = _identity_parts(identity_id)
    try:
        with arm_errors():
            session.msi(sub).federated_identity_credentials.delete(rg, ident, name)
    except NotFound:
        return


# --------------------------------------------------------------------------- identity blocks


def get_resource_identity(
    session: Session, resource_id: str, resource_type: str
) -> LiveResourceIdentity:
    rtype = canonical_type(resource_type)
    body = get_resource_body(session, resource_id, rtype)
    return convert.resource_identity(resource_id, rtype, body)


def identity_patch(
    current: dict[str, Any] | None,
    *,
    both_spelling: str,
    system_assigned: bool | None,
    attach: Iterable[str] = (),
    detach: Iterable[str] = (),
    full: bool = False,
) -> dict[str, Any] | None:
    """The `identity` object to PATCH onto a resource, or None when nothing would change.

    `system_assigned=None` leaves the switch as it is. Attached identities not named in
    `attach`/`detach` are left alone (someone else may manage them). Removals are sent as
    `null` entries, as ARM's PATCH semantics require; with no user-assigned identity left the
    map is omitted and the type says so. `full=True` gives the whole map (for a PUT).
    """
    block = (current or {}).get("identity") or {}
    parts = armid.normalise_identity_type(block.get("type"))
    have_sys = "systemassigned" in parts
    have_ua = {armid.key(k): k for k in (block.get("userAssignedIdentities") or {})}
    add = {armid.key(i): convert.canonical_id(i) for i in attach}
    remove = {armid.key(i) for i in detach} - set(add)
    new_sys = have_sys if system_assigned is None else system_assigned
    new_ua = (set(have_ua) | set(add)) - remove
    if new_sys == have_sys and new_ua == set(have_ua):
        return None
    if new_sys and new_ua:
        kind = both_spelling
    elif new_sys:
        kind = "SystemAssigned"
    elif new_ua:
        kind = "UserAssigned"
    else:
        kind = "None"
    patch: dict[str, Any] = {"type": kind}
    if new_ua and full:
        patch["userAssignedIdentities"] = {
            have_ua.get(k) or add[k]: {} for k in sorted(new_ua)
        }
    elif new_ua:
        changes: dict[str, Any] = {add[k]: {} for k in add if k not in have_ua}
        changes.update({have_ua[k]: None for k in remove if k in have_ua})
        if changes:
            patch["userAssignedIdentities"] = changes
    return patch


def set_identity_block(
    session: Session,
    resource_id: str,
    resource_type: str,
    *,
    system_assigned: bool | None = None,
    attach: Iterable[str] = (),
    detach: Iterable[str] = (),
) -> LiveResourceIdentity:
    """Read-modify-write of a resource's identity block (PATCH where the provider allows)."""
    rtype_name = canonical_type(resource_type)
    sub = armid.parse_scope(resource_id).subscription_id or ""
    rtype = session.resource_type(rtype_name, sub)
    current = get_resource_body(session, resource_id, rtype_name)
    if current is None:
        raise NotFound(
            404, "ResourceNotFound", f"resource {resource_id} does not exist (type {rtype_name})"
        )
    patch = identity_patch(
        current,
        both_spelling=rtype.both_spelling,
        system_assigned=system_assigned,
        attach=attach,
        detach=detach,
        full=not rtype.patch,
    )
    if patch is None:
        return convert.resource_identity(resource_id, rtype_name, current)
    ops = session.resources(sub).resources
    with arm_errors():
        if rtype.patch:
            poller = ops.begin_update_by_id(
                resource_id,
                {"identity": patch},
                api_version=rtype.api_version,
                polling_interval=_LRO_POLL_SECONDS,
            )
        else:
            body = {k: v for k, v in current.items() if k in ("location", "tags", "kind", "sku")}
            body["properties"] = current.get("properties") or {}
            body["identity"] = patch
            poller = ops.begin_create_or_update_by_id(
                resource_id, body, api_version=rtype.api_version, polling_interval=_LRO_POLL_SECONDS
            )
        result = poller.result()
    answered = dict(result.as_dict()) if result is not None else {}
    if "identity" not in answered:  # some providers answer without the block: read it back
        return get_resource_identity(session, resource_id, rtype_name)
    return convert.resource_identity(resource_id, rtype_name, answered)


# --------------------------------------------------------------------------- grants


def grant_id(scope: str, name: str) -> str:
    return armid.role_assignment_id(convert.canonical_scope(scope), name)


def _split_grant_id(assignment_id: str) -> tuple[str, str]:
    try:
        return armid.split_role_assignment(assignment_id)
    except armid.ArmIdError as exc:
        raise ValueError(str(exc)) from None


def put_grant(session: Session, grant: DesiredGrant, principal_id: str) -> LiveGrant:
    """PUT the role assignment under its deterministic name.

    `principalType: ServicePrincipal` is always sent: it lets ARM skip the directory lookup
    that fails with PrincipalNotFound while a new identity replicates.
    """
    scope = convert.canonical_scope(grant.scope)
    name = ownership.assignment_name(scope, grant.role_definition_guid, principal_id)
    sub = armid.parse_scope(scope).subscription_id if scope != "/" else None
    params = RoleAssignmentCreateParameters(
        role_definition_id=armid.role_definition_id(grant.role_definition_guid, sub),
        principal_id=principal_id,
        principal_type="ServicePrincipal",
        description=ownership.with_marker(grant.description),
    )
    if grant.condition:
        params.condition = grant.condition
        params.condition_version = grant.condition_version or "2.0"
    with arm_errors():
        result = session.authorization(sub or "").role_assignments.create(scope, name, params)
    return convert.grant(result.serialize(keep_readonly=True))


def delete_grant(session: Session, assignment_id: str) -> None:
    """Delete; an assignment that is already gone is fine."""
    scope, name = _split_grant_id(assignment_id)
    sub = armid.parse_scope(scope).subscription_id if scope != "/" else None
    try:
        with arm_errors():
            session.authorization(sub or "").role_assignments.delete(scope, name)
    except NotFound:
        return


def get_grant(session: Session, assignment_id: str) -> LiveGrant | None:
    scope, name = _split_grant_id(assignment_id)
    sub = armid.parse_scope(scope).subscription_id if scope != "/" else None
    try:
        with arm_errors():
            result = session.authorization(sub or "").role_assignments.get(scope, name)
    except NotFound:
        return None
    return convert.grant(result.serialize(keep_readonly=True))
