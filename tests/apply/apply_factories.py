"""Plan changes for apply's pure tests: one call per change, with realistic ids and operations."""

from __future__ import annotations

from typing import Any, Literal

from identity_reconciler.core import armid
from identity_reconciler.plan import KNOWN_AFTER_APPLY, Change, ChangeKind, Operation, Principal
from identity_reconciler.plan.model import Action

SUB = "11111111-1111-1111-1111-111111111111"
RG = "rg-app"
KV = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.KeyVault/vaults/kv-app"
ROLE = "4633458b-17de-408a-b874-0445c86b69e6"


def ident_id(name: str) -> str:
    return armid.identity_id(SUB, RG, name)


def site_id(name: str) -> str:
    return armid.resource_id(SUB, RG, "Microsoft.Web/sites", name)


def identity(
    name: str, actions: tuple[Action, ...] = ("create",), depends_on: tuple[str, ...] = ()
) -> Change:
    iid = ident_id(name)
    ops = [Operation(method="PUT", id=iid, body={"location": "uksouth"})]
    if "delete" in actions:
        ops.insert(0, Operation(method="DELETE", id=iid))
    if actions == ("delete",):
        ops = ops[:1]
    return Change(
        address=f"identity.{RG}/{name}",
        kind=ChangeKind.IDENTITY,
        actions=actions,
        reason="test",
        group=f"identity.{RG}/{name}",
        id=iid,
        before=None if actions == ("create",) else {"principal_id": "p"},
        after=None if actions == ("delete",) else {"location": "uksouth"},
        live_fingerprint=None if actions == ("create",) else "sha256:old",
        depends_on=depends_on,
        operations=tuple(ops),
    )


def credential(
    identity_name: str,
    name: str,
    actions: tuple[Action, ...] = ("create",),
    depends_on: tuple[str, ...] = (),
) -> Change:
    fid = f"{ident_id(identity_name)}/federatedIdentityCredentials/{name}"
    method: Literal["PUT", "DELETE"] = "DELETE" if actions == ("delete",) else "PUT"
    body = None if method == "DELETE" else {"properties": {"issuer": "i", "subject": name}}
    return Change(
        address=f"federated_credential.{RG}/{identity_name}/{name}",
        kind=ChangeKind.FEDERATED_CREDENTIAL,
        actions=actions,
        reason="test",
        group=f"identity.{RG}/{identity_name}",
        id=fid,
        before=None,
        after=None if method == "DELETE" else {"name": name},
        live_fingerprint=None,
        depends_on=depends_on,
        operations=(Operation(method=method, id=fid, body=body),),
    )


def attachment(site: str, identity_name: str, depends_on: tuple[str, ...] = ()) -> Change:
    rid = site_id(site)
    iid = ident_id(identity_name)
    body: dict[str, Any] = {
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {iid: {}}}
    }
    return Change(
        address=f"attachment.{RG}/sites/{site}/{RG}/{identity_name}",
        kind=ChangeKind.ATTACHMENT,
        actions=("create",),
        reason="test",
        group=f"identity.{RG}/{identity_name}",
        id=rid,
        before=None,
        after={"identity_id": iid},
        live_fingerprint="sha256:block",
        depends_on=depends_on,
        operations=(Operation(method="PATCH", id=rid, body=body),),
    )


def system_switch(site: str, on: bool = True, depends_on: tuple[str, ...] = ()) -> Change:
    rid = site_id(site)
    address = f"system_assigned.{RG}/sites/{site}"
    kind = "SystemAssigned" if on else "None"
    return Change(
        address=address,
        kind=ChangeKind.SYSTEM_ASSIGNED,
        actions=("create",) if on else ("delete",),
        reason="test",
        group=address,
        id=rid,
        before=None,
        after={"principal_id": KNOWN_AFTER_APPLY} if on else None,
        live_fingerprint="sha256:block",
        depends_on=depends_on,
        operations=(Operation(method="PATCH", id=rid, body={"identity": {"type": kind}}),),
    )


def grant(
    principal_name: str,
    *,
    role: str = ROLE,
    scope: str = KV,
    actions: tuple[Action, ...] = ("create",),
    principal_id: str = KNOWN_AFTER_APPLY,
    creator: str | None = None,
    system: bool = False,
    depends_on: tuple[str, ...] = (),
    suffix: str = "",
) -> Change:
    """A grant for a user-assigned identity (or a site's system identity with `system`)."""
    ref = site_id(principal_name) if system else ident_id(principal_name)
    group = (
        f"system_assigned.{RG}/sites/{principal_name}"
        if system
        else f"identity.{RG}/{principal_name}"
    )
    known = principal_id != KNOWN_AFTER_APPLY
    gid = f"{scope}/providers/Microsoft.Authorization/roleAssignments/{principal_name}{suffix}"
    gid = gid if known or actions == ("delete",) else KNOWN_AFTER_APPLY
    method: Literal["PUT", "DELETE"] = "DELETE" if actions == ("delete",) else "PUT"
    body = None
    if method == "PUT":
        body = {
            "properties": {
                "roleDefinitionId": f"/providers/Microsoft.Authorization/roleDefinitions/{role}",
                "principalId": principal_id,
                "principalType": "ServicePrincipal",
            }
        }
    after = None
    if method == "PUT":
        after = {
            "scope": scope,
            "role_definition_id": f"/providers/Microsoft.Authorization/roleDefinitions/{role}",
            "principal_id": principal_id,
            "name": KNOWN_AFTER_APPLY,
        }
    principal = None
    if method == "PUT":
        principal = Principal(
            kind="system_assigned" if system else "user_assigned",
            id=ref,
            principal_id=principal_id,
            address=creator,
        )
    return Change(
        address=f"grant.{principal_name}/{role}{suffix}@kv",
        kind=ChangeKind.GRANT,
        actions=actions,
        reason="test",
        group=group,
        id=None if gid == KNOWN_AFTER_APPLY else gid,
        before=None,
        after=after,
        live_fingerprint=None if method == "PUT" else "sha256:grant",
        depends_on=depends_on,
        operations=(Operation(method=method, id=gid, body=body),),
        principal=principal,
    )
