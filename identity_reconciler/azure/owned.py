"""Before a DELETE: is the live object one identity-reconciler owns? Read from ARM, now.

The plan deletes only owned objects, but a plan file can be edited and re-sealed, and the
forcing flag `--allow-delete-identity` covers a whole plan, not one address. So apply reads
each object again right before deleting it and refuses unless it carries our ownership: the
`managed-by` tag on an identity (and on the identity a federated credential belongs to), the
deterministic name on a role assignment. One GET per deleted object.
"""

from __future__ import annotations

from identity_reconciler.azure import convert
from identity_reconciler.azure.clients import Session
from identity_reconciler.azure.errors import NotFound, arm_errors
from identity_reconciler.azure.execute import FEDERATED_CREDENTIAL, GRANT, IDENTITY, target
from identity_reconciler.core import armid, ownership


def owned_now(session: Session, kind: str, object_id: str) -> bool | None:
    """True when owned, False when not, None when the object does not exist (nothing to do)."""
    parsed = target(object_id, kind)
    try:
        with arm_errors():
            if kind == GRANT:
                ops = session.authorization(parsed.subscription_id or "").role_assignments
                live = convert.grant(ops.get_by_id(parsed.id).serialize(keep_readonly=True))
                guid = live.role_definition_guid or armid.role_definition_guid(
                    live.role_definition_id
                )
                return ownership.is_owned_assignment(
                    live.name, live.scope, guid, live.principal_id
                )
            if kind in (IDENTITY, FEDERATED_CREDENTIAL):
                ident = armid.parse_scope(parsed.parent_identity or parsed.id)
                msi = session.msi(ident.subscription_id or "").user_assigned_identities
                found = msi.get(ident.resource_group, ident.name)
                return ownership.is_owned_identity(found.tags)
    except NotFound:
        return None
    return True  # identity blocks are PATCHed, never deleted
