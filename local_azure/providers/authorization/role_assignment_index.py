"""Lookup keys for role assignments, kept in the store's metadata beside the documents.

Three questions are asked on every write or RBAC check and must not scan thousands of
documents: which assignment has this name (names are unique in a tenant), which one grants
this role to this principal at this scope, and which ones a principal holds. Each is a
metadata key written with the document. Entries can outlive their document (deleting a
resource group removes the assignments below it without passing through here), so every
lookup reads the document back and drops what is gone or no longer matches.

Role assignment documents must therefore be written through `save` and removed through
`remove`.
"""

from __future__ import annotations

import json

from local_azure.kernel import JSON, Context
from local_azure.providers.authorization.role_definitions import RA_TYPE

NAME = "roleAssignmentName:"
GRANT = "roleAssignmentGrant:"
PRINCIPAL = "roleAssignmentsOf:"


def _grant_key(scope_path: str, role_guid: str, principal_id: str) -> str:
    return f"{GRANT}{scope_path.lower()}|{role_guid.lower()}|{principal_id.lower()}"


def ids_of(ctx: Context, principal_id: str) -> list[str]:
    """The ids indexed for a principal; some may name deleted or reused documents."""
    raw = ctx.store.meta_get(PRINCIPAL + principal_id.lower())
    return [str(i) for i in json.loads(raw)] if raw else []


def save(ctx: Context, scope_path: str, doc: JSON) -> None:
    """Write an assignment document and its lookup keys (one transaction)."""
    arm_id = str(doc["id"])
    principal = str(doc["_principalId"])
    with ctx.store.transaction():
        ctx.store.put(arm_id, RA_TYPE, scope_path, doc)
        ctx.store.meta_set(NAME + str(doc["name"]).lower(), arm_id)
        ctx.store.meta_set(
            _grant_key(scope_path, str(doc["_roleDefinitionGuid"]), principal), arm_id
        )
        ids = ids_of(ctx, principal)
        if arm_id.lower() not in {i.lower() for i in ids}:
            ctx.store.meta_set(PRINCIPAL + principal, json.dumps([*ids, arm_id]))


def remove(ctx: Context, doc: JSON) -> None:
    arm_id = str(doc["id"])
    principal = str(doc["_principalId"])
    with ctx.store.transaction():
        ctx.store.delete(arm_id)
        ctx.store.meta_set(NAME + str(doc["name"]).lower(), "")
        scope = str(doc["properties"]["scope"])
        ctx.store.meta_set(_grant_key(scope, str(doc["_roleDefinitionGuid"]), principal), "")
        ids = [i for i in ids_of(ctx, principal) if i.lower() != arm_id.lower()]
        ctx.store.meta_set(PRINCIPAL + principal, json.dumps(ids))


def by_name(ctx: Context, name: str) -> JSON | None:
    ref = ctx.store.meta_get(NAME + name.lower())
    doc = ctx.store.get(ref) if ref else None
    return doc if doc is not None and str(doc["name"]).lower() == name.lower() else None


def by_grant(ctx: Context, scope_path: str, role_guid: str, principal_id: str) -> JSON | None:
    """The assignment of `role_guid` to `principal_id` at exactly `scope_path`, if any."""
    ref = ctx.store.meta_get(_grant_key(scope_path, role_guid, principal_id))
    doc = ctx.store.get(ref) if ref else None
    if doc is None or doc.get("_principalId") != principal_id.lower():
        return None
    return doc if doc.get("_roleDefinitionGuid") == role_guid.lower() else None


def of_principal(ctx: Context, principal_id: str) -> list[JSON]:
    """Every assignment a principal holds, oldest first."""
    out = []
    for arm_id in ids_of(ctx, principal_id):
        doc = ctx.store.get(arm_id)
        if doc is not None and doc.get("_principalId") == principal_id.lower():
            out.append(doc)
    return out
