"""Single reads of the live objects a plan's changes touch, as apply needs them one at a time:
a change's fingerprint (the stale check), an equal grant under another name (a 409), and a
principal id (waiting out Entra replication). The writes themselves are `execute.py`."""

from __future__ import annotations

from identity_reconciler.azure import convert, flexible_credentials
from identity_reconciler.azure.clients import Session
from identity_reconciler.azure.errors import ArmRequestError, NotFound
from identity_reconciler.azure.execute import (
    BLOCK_KINDS,
    FEDERATED_CREDENTIAL,
    GRANT,
    IDENTITY,
    ChangeLike,
    ResponseHook,
    _fic_parts,
    _identity_parts,
    _options,
    _resource_body,
    _sdk,
    _subscription_of,
    resource_type_of,
    target,
)
from identity_reconciler.core import armid
from identity_reconciler.core.live import LiveGrant


def current_fingerprint(
    session: Session, change: ChangeLike, *, hook: ResponseHook | None = None
) -> str | None:
    """The fingerprint of the live object `change` touches, None when it does not exist.

    Identity blocks (attachments, the system switch) are fingerprinted as the whole block of
    the resource, as the reader does; a missing resource is fingerprinted as missing.
    """
    kind, object_id = str(change.kind), change.id
    if not object_id:
        raise ArmRequestError(
            0, "InvalidOperation", f"a {kind} change without an id has no live object"
        )
    try:
        with _sdk():
            if kind == IDENTITY:
                sub, rg, name = _identity_parts(object_id)
                got = session.msi(sub).user_assigned_identities.get(rg, name, **_options(hook))
                return convert.identity(got.serialize(keep_readonly=True)).fingerprint
            if kind == FEDERATED_CREDENTIAL:
                sub, rg, ident, name = _fic_parts(object_id)
                fic = session.msi(sub).federated_identity_credentials.get(
                    rg, ident, name, **_options(hook)
                )
                live = convert.federated_credential(fic.serialize(keep_readonly=True))
                if flexible_credentials.hidden(live):
                    live = flexible_credentials.get_credential(session, object_id, _options(hook))
                return live.fingerprint
            if kind == GRANT:
                grant_id = target(object_id, GRANT)
                ops = session.authorization(grant_id.subscription_id or "").role_assignments
                got = ops.get_by_id(grant_id.id, **_options(hook))
                return convert.grant(got.serialize(keep_readonly=True)).fingerprint
    except NotFound:
        return None
    if kind in BLOCK_KINDS:
        object_id = target(object_id, kind).id
        body = _resource_body(session, object_id, hook)
        return convert.resource_identity(object_id, resource_type_of(object_id), body).fingerprint
    raise ArmRequestError(0, "UnsupportedOperation", f"no live object for a {kind} change")


def find_equal_grant(
    session: Session, scope: str, role_definition_guid: str, principal_id: str
) -> LiveGrant | None:
    """The live assignment of exactly this scope+role+principal, under whatever name.

    ARM answers 409 RoleAssignmentExists when one exists under another name; this read tells
    apply whether that is the same grant (then the write is already done).
    """
    pid = principal_id.lower()
    ops = session.authorization(_subscription_of(scope)).role_assignments
    with _sdk():
        items = ops.list_for_scope(scope, filter=f"principalId eq '{pid}'", **_options(None))
        grants = [convert.grant(m.serialize(keep_readonly=True)) for m in items]
    for grant in grants:
        if (
            armid.key(grant.scope) == armid.key(convert.canonical_scope(scope))
            and grant.role_definition_guid == role_definition_guid.lower()
            and grant.principal_id == pid
        ):
            return grant
    return None


def principal_id_of(session: Session, kind: str, object_id: str) -> str | None:
    """The principal id of a user-assigned identity, or of a resource's system identity."""
    if kind == "user_assigned":
        sub, rg, name = _identity_parts(object_id)
        try:
            with _sdk():
                got = session.msi(sub).user_assigned_identities.get(rg, name, **_options(None))
        except NotFound:
            return None
        return convert.identity(got.serialize(keep_readonly=True)).principal_id or None
    body = _resource_body(session, object_id)
    live = convert.resource_identity(object_id, resource_type_of(object_id), body)
    return live.system_principal_id
