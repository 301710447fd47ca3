"""The `identity` block of resources: system-assigned principals and user-assigned attachments.

ARM handles identity blocks the same way for every provider, only the spelling of the
combined type differs (see `catalog`). Switching SystemAssigned on creates a service principal
for the resource (visible as `principalId`); switching it off deletes it, and switching it on
again gives a new principal, as in Azure. `userAssignedIdentities` is keyed by identity id in
the caller's casing; values carry the identity's principalId and clientId. In a PATCH a key
mapped to null detaches that identity; in both PUT and PATCH an absent `identity` leaves the
block as it was.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from local_azure.kernel import JSON, ArmError, Context
from local_azure.providers.managed_identity import identities
from local_azure.providers.resources.catalog import Kind, Ref
from local_azure.store import Principal

SA = "SystemAssigned"
UA = "UserAssigned"
_PARTS = {"systemassigned": SA, "userassigned": UA}
_IDENTITY_ID = re.compile(
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/"
    r"Microsoft\.ManagedIdentity/userAssignedIdentities/[^/]+$",
    re.IGNORECASE,
)

GuidFactory = Callable[[], str]


def supported(kind: Kind) -> list[str]:
    assert kind.identity is not None
    if not kind.system_assigned:
        return ["None", UA]
    return ["None", SA, UA, kind.identity]


def spell(kind: Kind, types: frozenset[str]) -> str:
    """The provider's spelling of a set of identity types."""
    assert kind.identity is not None
    if types == {SA, UA}:
        return kind.identity
    return next(iter(types)) if types else "None"


def parse_type(kind: Kind, raw: object) -> frozenset[str]:
    """`"SystemAssigned, UserAssigned"` (any spacing or case) -> {SA, UA}; `None` -> {}."""
    text = raw if isinstance(raw, str) else ""
    parts = {p.strip().lower() for p in text.split(",")}
    if parts == {"none"}:
        return frozenset()
    if (
        not text
        or not parts <= _PARTS.keys()
        or (not kind.system_assigned and "systemassigned" in parts)
    ):
        raise ArmError(
            400,
            "CannotSetResourceIdentity",
            f"Resource type '{kind.type}' does not support creation of '{raw}' resource "
            f"identity. The supported types are '{', '.join(supported(kind)[1:])}'.",
        )
    return frozenset(_PARTS[p] for p in parts)


def apply(
    ctx: Context,
    kind: Kind,
    ref: Ref,
    current: JSON | None,
    requested: Any,
    *,
    patch: bool,
    new_guid: GuidFactory | None = None,
) -> JSON | None:
    """The identity block after a write; creates or deletes the system-assigned principal."""
    if kind.identity is None or requested is None:
        return current
    if not isinstance(requested, dict):
        raise ArmError(400, "InvalidRequestContent", "The 'identity' property must be an object.")
    old_types = parse_type(kind, current["type"]) if current else frozenset()
    types = (
        parse_type(kind, requested.get("type")) if "type" in requested or not patch else old_types
    )
    old_assigned: dict[str, Any] = dict((current or {}).get("userAssignedIdentities") or {})
    assigned = _user_assigned(ctx, ref, old_assigned, requested, types, patch=patch)

    guid = new_guid or ctx.new_guid
    block: JSON = {"type": spell(kind, types)}
    if SA in types:
        principal_id = (current or {}).get("principalId") if SA in old_types else None
        if principal_id is None:
            principal_id = _create_principal(ctx, ref, guid)
        block["principalId"] = principal_id
        block["tenantId"] = ctx.tenant_id
    elif SA in old_types and current and current.get("principalId"):
        ctx.store.delete_principal(str(current["principalId"]))
    if UA in types:
        block["userAssignedIdentities"] = assigned
    return block if types else None


def remove_principals(ctx: Context, resource_id: str) -> int:
    """Delete the principals of managed identities at or below an id (a deleted resource)."""
    key = resource_id.rstrip("/").lower()
    gone = 0
    for p in ctx.store.principals():
        rid = (p.resource_id or "").lower()
        if rid == key or rid.startswith(key + "/"):
            gone += ctx.store.delete_principal(p.object_id)
    return gone


def _create_principal(ctx: Context, ref: Ref, guid: GuidFactory) -> str:
    object_id = guid()
    ctx.store.add_principal(
        Principal(
            object_id=object_id,
            kind="ServicePrincipal",
            display_name=ref.name,
            app_id=guid(),
            resource_id=ref.id,
            tenant_id=ctx.tenant_id,
            created_at=ctx.clock(),
        )
    )
    return object_id


def _user_assigned(
    ctx: Context,
    ref: Ref,
    old: dict[str, Any],
    requested: JSON,
    types: frozenset[str],
    *,
    patch: bool,
) -> dict[str, Any]:
    raw = requested.get("userAssignedIdentities")
    if raw is not None and not isinstance(raw, dict):
        raise ArmError(
            400, "InvalidRequestContent", "The 'userAssignedIdentities' property must be an object."
        )
    entries: dict[str, Any] = dict(raw or {})
    if UA not in types:
        if any(v is not None for v in entries.values()):
            raise ArmError(
                400,
                "BadRequest",
                f"The identity ids must be null or empty for '{requested.get('type')}' "
                "identity type.",
            )
        return {}
    by_key = {k.lower(): k for k in old}
    result = dict(old) if (patch or raw is None) else {}
    for key, value in entries.items():
        existing = by_key.get(key.lower())
        if value is None:
            result.pop(existing or key, None)
            continue
        if existing is not None:
            result[existing] = old[existing]
            continue
        result[key] = _lookup(ctx, ref, key)
    if not result:
        raise ArmError(
            400,
            "MissingIdentityIds",
            "The identity ids must not be null or empty for 'UserAssigned' identity type.",
        )
    return result


def _lookup(ctx: Context, ref: Ref, identity_id: str) -> JSON:
    if not _IDENTITY_ID.match(identity_id):
        raise ArmError(
            400,
            "LinkedInvalidPropertyId",
            f"Property id '{identity_id}' at path 'identity.userAssignedIdentities' is invalid. "
            "Expect fully qualified resource Id that start with '/subscriptions/{subscriptionId}' "
            "or '/providers/{resourceProviderNamespace}/'.",
        )
    found = identities.identity_principal(ctx, identity_id)
    if found is None:
        inner = (
            '{"error":{"code":"BadRequest","message":"Resource \''
            + identity_id
            + "' was not found.\"}}"
        )
        raise ArmError(
            400,
            "FailedIdentityOperation",
            f"Identity operation for resource '{ref.id}' failed with error 'Failed to perform "
            f"resource identity operation. Status: 'BadRequest'. Response: '{inner}'.'.",
        )
    principal_id, client_id = found
    return {"principalId": principal_id, "clientId": client_id}
