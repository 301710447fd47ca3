"""Writing an identity block the way each resource type takes it (core.identity_hosts).

The plan states every identity-block change as a PATCH of `identity` (removals as `null`
entries). Most providers take that as it is. Types that PATCH only their tags (Logic
workflows, AKS clusters, container groups) need a PUT of the whole resource: the block is
merged into the resource as read. A SQL server with user-assigned identities needs its
`primaryUserAssignedIdentityId` to name one of them. Both cost one extra read of the resource.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from identity_reconciler.azure import convert
from identity_reconciler.core import armid

PUT_FIELDS = ("location", "tags", "kind", "sku", "properties", "zones", "plan")


def primary_identity(
    current: Mapping[str, Any] | None,
    prop: str | None,
    *,
    attach: Iterable[str] = (),
    detach: Iterable[str] = (),
) -> dict[str, Any]:
    """`{prop: id}` when the type names a primary user-assigned identity that must change.

    The primary is kept while it stays attached; otherwise the first attached identity (by
    id) becomes primary, and with none left the property is cleared.
    """
    if prop is None:
        return {}
    block = (current or {}).get("identity") or {}
    have = {armid.key(k): k for k in (block.get("userAssignedIdentities") or {})}
    add = {armid.key(i): convert.canonical_id(i) for i in attach}
    remove = {armid.key(i) for i in detach} - set(add)
    after = {**have, **add}
    for k in remove:
        after.pop(k, None)
    now = ((current or {}).get("properties") or {}).get(prop)
    if now and armid.key(str(now)) in after:
        return {}
    if not after:
        return {prop: None} if now else {}
    return {prop: after[min(after)]}


def split_patch(patch: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(attached, detached) identity ids of a planned identity PATCH."""
    users = (patch.get("identity") or {}).get("userAssignedIdentities") or {}
    attach = [k for k, v in users.items() if v is not None]
    detach = [k for k, v in users.items() if v is None]
    return attach, detach


def put_body(current: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """The whole resource as read, with the planned identity PATCH merged in (for a PUT)."""
    body = {k: current[k] for k in PUT_FIELDS if current.get(k) is not None}
    requested = dict(patch.get("identity") or {})
    have = ((current.get("identity") or {}).get("userAssignedIdentities")) or {}
    users: dict[str, Any] = {k: {} for k in have}
    for k, v in (requested.get("userAssignedIdentities") or {}).items():
        for existing in [e for e in users if armid.key(e) == armid.key(k)]:
            del users[existing]
        if v is not None:
            users[k] = {}
    identity: dict[str, Any] = {"type": requested.get("type", "None")}
    if users and "userassigned" in str(identity["type"]).lower():
        identity["userAssignedIdentities"] = users
    body["identity"] = identity
    if "properties" in patch:
        body["properties"] = {**(body.get("properties") or {}), **patch["properties"]}
    return body
