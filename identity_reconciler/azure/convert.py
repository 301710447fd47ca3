"""ARM JSON -> core.state Live objects, normalised so that plans are quiet.

Azure spells the same thing several ways: `resourcegroups` vs `resourceGroups` in ids,
tenant- vs subscription-scoped role definition ids, `"SystemAssigned, UserAssigned"` vs
`"SystemAssigned,UserAssigned"`, principal types in any case, location display names. Every
Live object is built here from the REST shape (what the wire carries), and normalised once, so
the planner can compare plainly and the fingerprints of a listed object and of the same object
read singly are equal.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
from collections.abc import Mapping
from typing import Any

from identity_reconciler.azure.resource_types import KNOWN as KNOWN_TYPES
from identity_reconciler.core import armid
from identity_reconciler.core.live import (
    AttachedIdentity,
    LiveFederatedCredential,
    LiveGrant,
    LiveIdentity,
    LiveResourceIdentity,
)
from identity_reconciler.core.state import ClaimsExpression

JSON = Mapping[str, Any]

_PRINCIPAL_TYPES = {
    t.lower(): t
    for t in ("User", "Group", "ServicePrincipal", "ForeignGroup", "Device", "Unknown")
}
_IDENTITY_TYPE_PARTS = {"systemassigned": "SystemAssigned", "userassigned": "UserAssigned"}


@functools.lru_cache(maxsize=4096)
def canonical_id(value: str) -> str:
    """The docs spelling of an ARM id (`resourceGroups`, lower-case subscription) when parseable.

    Extension ids below a resource (`.../providers/Microsoft.Authorization/roleAssignments/x`)
    are canonicalised on their scope part. Cached: a subscription's role assignments sit on a
    few hundred scopes, and parsing each of ten thousand again was the bulk of converting them.
    """
    parsed = armid.try_parse_id(value)
    return parsed.id if parsed is not None else value


def canonical_scope(value: str) -> str:
    """A role-assignment scope in canonical spelling; `/` (root) stays as it is."""
    text = value.strip()
    if text in ("", "/"):
        return "/"
    return canonical_id(text)


def location(value: str | None) -> str:
    """`UK South` and `uksouth` are one region."""
    return (value or "").replace(" ", "").lower()


def tags(value: Mapping[str, Any] | None) -> dict[str, str]:
    """Tags as a plain dict of strings in a stable order (ARM keeps no order)."""
    if not value:
        return {}
    return {str(k): "" if v is None else str(v) for k, v in sorted(value.items())}


def _lower(value: Any) -> str:
    return str(value).lower() if value else ""


def _none_if_blank(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if text.strip() else None


def identity_type(value: str | None, resource_type: str | None = None) -> str | None:
    """One spelling per provider for a resource's identity type (None when there is none).

    Case and order are normalised; the combined form keeps the separator the provider uses
    (`"SystemAssigned, UserAssigned"` for Web and Compute, `"SystemAssigned,UserAssigned"` for
    App, Sql, Storage), because a PATCH echoing it back must be accepted by that provider.
    """
    parts = armid.normalise_identity_type(value)
    if not parts:
        return None
    named = [_IDENTITY_TYPE_PARTS[p] for p in ("systemassigned", "userassigned") if p in parts]
    others = sorted(p for p in parts if p not in _IDENTITY_TYPE_PARTS)
    if len(named) == 2:
        known = KNOWN_TYPES.get((resource_type or "").lower())
        if known is not None:
            return known.both_spelling
        sep = ", " if ", " in (value or "") else ","
        return sep.join(named + others)
    return ", ".join(named + others)


def principal_type(value: str | None) -> str:
    """Azure's default when absent is User; known values in their documented casing."""
    if not value:
        return "User"
    return _PRINCIPAL_TYPES.get(str(value).lower(), str(value))


def isolation_scope(value: str | None) -> str | None:
    """`None` (the string) and absent both mean "not isolated"."""
    if not value or str(value).lower() == "none":
        return None
    return "Regional" if str(value).lower() == "regional" else str(value)


def federated_credential(body: JSON) -> LiveFederatedCredential:
    """A credential as any api-version shows it: one read at a version without
    `claimsMatchingExpression` has neither a subject nor an expression when it is flexible."""
    props = body.get("properties") or {}
    subject = props.get("subject")
    return LiveFederatedCredential(
        id=canonical_id(str(body.get("id", ""))),
        name=str(body.get("name", "")),
        issuer=str(props.get("issuer", "")),
        subject=None if subject is None or str(subject) == "" else str(subject),
        audiences=tuple(str(a) for a in props.get("audiences") or ()),
        claims_matching_expression=claims_expression(props.get("claimsMatchingExpression")),
    )


def claims_expression(value: Any) -> ClaimsExpression | None:
    """`{"value", "languageVersion"}` (absent or null: none). A version other than a whole
    number is kept as 0, which no spec asks for, so the plan shows it as different."""
    if not isinstance(value, Mapping) or value.get("value") is None:
        return None
    version = value.get("languageVersion")
    if not isinstance(version, int) or isinstance(version, bool):
        version = 0
    return ClaimsExpression(str(value["value"]), version)


def identity(
    body: JSON, federated_credentials: tuple[LiveFederatedCredential, ...] | None = None
) -> LiveIdentity:
    props = body.get("properties") or {}
    ident_id = canonical_id(str(body["id"]))
    scope = armid.parse_scope(ident_id)
    creds = (
        tuple(sorted(federated_credentials, key=lambda c: c.name.lower()))
        if federated_credentials is not None
        else None
    )
    return LiveIdentity(
        id=ident_id,
        subscription_id=scope.subscription_id or "",
        resource_group=scope.resource_group or "",
        name=scope.name or str(body.get("name", "")),
        location=location(body.get("location")),
        tags=tags(body.get("tags")),
        isolation_scope=isolation_scope(props.get("isolationScope")),
        principal_id=_lower(props.get("principalId")),
        client_id=_lower(props.get("clientId")),
        tenant_id=_lower(props.get("tenantId")),
        federated_credentials=creds,
    )


def identity_with_credentials(
    live: LiveIdentity, credentials: tuple[LiveFederatedCredential, ...]
) -> LiveIdentity:
    return dataclasses.replace(
        live, federated_credentials=tuple(sorted(credentials, key=lambda c: c.name.lower()))
    )


@functools.lru_cache(maxsize=8192)
def _grant_scope(raw: str) -> str:
    """Thousands of grants share a few hundred scopes: each is parsed once and kept as one
    string (at 50,000 listed assignments, a copy per grant was megabytes)."""
    return canonical_scope(raw)


@functools.lru_cache(maxsize=1024)
def _grant_role(raw: str) -> tuple[str, str]:
    """(guid, tenant-form id) of a role definition id: a handful of roles, shared likewise."""
    guid = armid.role_definition_guid(raw)
    return guid, armid.role_definition_id(guid)


def grant(body: JSON) -> LiveGrant:
    props = body.get("properties") or {}
    name = str(body.get("name") or str(body.get("id", "")).rsplit("/", 1)[-1]).lower()
    raw_scope = props.get("scope")
    if not raw_scope:
        parsed = armid.try_parse_id(str(body.get("id", "")))
        raw_scope = parsed.scope.id if parsed is not None and parsed.assignment else "/"
    scope = _grant_scope(str(raw_scope))
    prefix = "" if scope == "/" else scope
    guid, role_id = _grant_role(str(props.get("roleDefinitionId", "")))
    condition = _none_if_blank(props.get("condition"))
    return LiveGrant(
        id=f"{prefix}{armid.ROLE_ASSIGNMENTS}{name}",
        name=name,
        scope=scope,
        # Tenant form: list and get answer with different prefixes; the GUID is what matters.
        role_definition_id=role_id,
        role_definition_guid=guid,
        principal_id=sys.intern(_lower(props.get("principalId"))),
        principal_type=principal_type(props.get("principalType")),
        condition=condition,
        condition_version=_none_if_blank(props.get("conditionVersion")) if condition else None,
        description=_none_if_blank(props.get("description")),
    )


def resource_identity(
    resource_id: str, resource_type: str, body: JSON | None
) -> LiveResourceIdentity:
    """The identity block of a resource (`body=None`: the resource does not exist)."""
    rid = canonical_id(resource_id)
    if body is None:
        return LiveResourceIdentity(resource_id=rid, resource_type=resource_type, exists=False)
    block = body.get("identity") or {}
    attached: dict[str, AttachedIdentity] = {}
    for uid, raw in sorted((block.get("userAssignedIdentities") or {}).items()):
        value = raw or {}
        cid = canonical_id(str(uid))
        attached[armid.key(cid)] = AttachedIdentity(
            id=cid,
            principal_id=_lower(value.get("principalId")) or None,
            client_id=_lower(value.get("clientId")) or None,
        )
    kind = identity_type(block.get("type"), resource_type)
    system_principal = (
        _lower(block.get("principalId")) or None
        if kind is not None and "SystemAssigned" in kind
        else None
    )
    return LiveResourceIdentity(
        resource_id=rid,
        resource_type=resource_type,
        exists=True,
        identity_type=kind,
        system_principal_id=system_principal,
        user_assigned=attached,
    )
