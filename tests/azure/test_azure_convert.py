"""ARM JSON -> Live objects: every spelling Azure uses for one thing converts to one value."""

from __future__ import annotations

from typing import Any

import pytest

from identity_reconciler.azure import convert
from identity_reconciler.core.live import AttachedIdentity

SUB = "11111111-1111-1111-1111-111111111111"
RG_ID = f"/subscriptions/{SUB}/resourceGroups/rg-app"
IDENT_ID = f"{RG_ID}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-app"
KV_ID = f"{RG_ID}/providers/Microsoft.KeyVault/vaults/kv-app"
GUID = "4633458b-17de-408a-b874-0445c86b69e6"
PRINCIPAL = "25CC773C-7F05-40FC-A104-32D2300754AD"


def identity_body(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": IDENT_ID.replace("resourceGroups", "resourcegroups"),
        "name": "id-app",
        "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
        "location": "UK South",
        "tags": {"z": "1", "managed-by": "identity-reconciler", "a": "2"},
        "properties": {
            "principalId": PRINCIPAL,
            "clientId": "4024AB25-56A8-4370-AEA6-6389221CAF29",
            "tenantId": "22222222-2222-2222-2222-222222222222",
            "isolationScope": "None",
        },
    }
    body.update(over)
    return body


def test_identity_is_normalised() -> None:
    live = convert.identity(identity_body())
    assert live.id == IDENT_ID
    assert live.subscription_id == SUB
    assert live.resource_group == "rg-app"
    assert live.name == "id-app"
    assert live.location == "uksouth"
    assert list(live.tags) == ["a", "managed-by", "z"]
    assert live.isolation_scope is None
    assert live.principal_id == PRINCIPAL.lower()
    assert live.federated_credentials is None


def test_identity_fingerprint_ignores_tag_order_and_id_casing() -> None:
    a = convert.identity(identity_body())
    b = convert.identity(
        identity_body(id=IDENT_ID, tags={"a": "2", "z": "1", "managed-by": "identity-reconciler"})
    )
    assert a == b
    assert a.fingerprint == b.fingerprint


@pytest.mark.parametrize(("raw", "expected"), [("Regional", "Regional"), ("regional", "Regional"),
                                                ("None", None), (None, None)])
def test_isolation_scope(raw: str | None, expected: str | None) -> None:
    assert convert.isolation_scope(raw) == expected


def grant_body(role_id: str, **props: Any) -> dict[str, Any]:
    name = "B0F43C54-E787-4862-89B1-A653FA9CF747"
    scope = KV_ID.replace("resourceGroups", "resourcegroups")
    return {
        "id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}",
        "name": name,
        "type": "Microsoft.Authorization/roleAssignments",
        "properties": {"roleDefinitionId": role_id, "principalId": PRINCIPAL, "scope": scope,
                       **props},
    }


@pytest.mark.parametrize(
    "role_id",
    [
        f"/providers/Microsoft.Authorization/roleDefinitions/{GUID}",
        f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{GUID}",
        f"/subscriptions/{SUB}/providers/microsoft.authorization/roledefinitions/{GUID.upper()}",
    ],
)
def test_grant_role_definition_forms_converge(role_id: str) -> None:
    live = convert.grant(grant_body(role_id, principalType="ServicePrincipal"))
    assert live.role_definition_guid == GUID
    assert live.role_definition_id == f"/providers/Microsoft.Authorization/roleDefinitions/{GUID}"
    assert live.scope == KV_ID
    assert live.id == f"{KV_ID}/providers/Microsoft.Authorization/roleAssignments/{live.name}"
    assert live.name == "b0f43c54-e787-4862-89b1-a653fa9cf747"
    assert live.principal_id == PRINCIPAL.lower()


def test_grant_defaults_and_blanks() -> None:
    live = convert.grant(grant_body(GUID, description="", condition="", conditionVersion="2.0"))
    assert live.principal_type == "User"  # Azure's default when absent
    assert live.description is None
    assert live.condition is None
    assert live.condition_version is None  # meaningless without a condition
    typed = convert.grant(grant_body(GUID, principalType="serviceprincipal"))
    assert typed.principal_type == "ServicePrincipal"


def test_grant_scope_from_id_when_properties_lack_it() -> None:
    body = grant_body(GUID)
    del body["properties"]["scope"]
    assert convert.grant(body).scope == KV_ID


def test_grant_at_management_group_and_root() -> None:
    mg = "/providers/Microsoft.Management/managementGroups/mg-platform"
    body = {"id": f"{mg}/providers/Microsoft.Authorization/roleAssignments/abc",
            "name": "abc", "properties": {"roleDefinitionId": GUID, "principalId": "p",
                                          "scope": mg}}
    assert convert.grant(body).scope == mg
    root = {"id": "/providers/Microsoft.Authorization/roleAssignments/abc", "name": "abc",
            "properties": {"roleDefinitionId": GUID, "principalId": "p", "scope": "/"}}
    live = convert.grant(root)
    assert live.scope == "/"
    assert live.id == "/providers/Microsoft.Authorization/roleAssignments/abc"


@pytest.mark.parametrize(
    ("raw", "rtype", "expected"),
    [
        ("SystemAssigned, UserAssigned", "Microsoft.Web/sites", "SystemAssigned, UserAssigned"),
        ("SystemAssigned,UserAssigned", "Microsoft.Web/sites", "SystemAssigned, UserAssigned"),
        ("userassigned,systemassigned", "microsoft.web/SITES", "SystemAssigned, UserAssigned"),
        ("SystemAssigned, UserAssigned", "Microsoft.App/containerApps",
         "SystemAssigned,UserAssigned"),
        ("SystemAssigned,UserAssigned", "Contoso.Things/widgets", "SystemAssigned,UserAssigned"),
        ("systemassigned", None, "SystemAssigned"),
        ("UserAssigned", "Microsoft.App/containerApps", "UserAssigned"),
        ("None", None, None),
        (None, None, None),
    ],
)
def test_identity_type_spellings(raw: str | None, rtype: str | None, expected: str | None) -> None:
    assert convert.identity_type(raw, rtype) == expected


def test_resource_identity_block() -> None:
    site = f"{RG_ID}/providers/Microsoft.Web/sites/app"
    body = {
        "id": site.replace("resourceGroups", "resourcegroups"),
        "identity": {
            "type": "SystemAssigned,UserAssigned",
            "principalId": "AAAA",
            "tenantId": "t",
            "userAssignedIdentities": {
                IDENT_ID.replace("resourceGroups", "resourcegroups"): {
                    "principalId": PRINCIPAL, "clientId": "C"},
            },
        },
    }
    live = convert.resource_identity(site.lower(), "Microsoft.Web/sites", body)
    app = convert.resource_identity(site, "Microsoft.App/containerApps", body)
    assert app.identity_type == "SystemAssigned,UserAssigned"
    assert live.exists
    assert live.identity_type == "SystemAssigned, UserAssigned"
    assert live.system_principal_id == "aaaa"
    assert live.user_assigned == {
        IDENT_ID.lower(): AttachedIdentity(IDENT_ID, PRINCIPAL.lower(), "c")
    }


def test_resource_identity_absent_or_without_block() -> None:
    site = f"{RG_ID}/providers/Microsoft.Web/sites/app"
    assert not convert.resource_identity(site, "Microsoft.Web/sites", None).exists
    bare = convert.resource_identity(site, "Microsoft.Web/sites", {"id": site})
    assert bare.exists
    assert bare.identity_type is None
    assert bare.system_principal_id is None
    assert dict(bare.user_assigned) == {}


def test_federated_credential() -> None:
    body = {
        "id": IDENT_ID.replace("resourceGroups", "resourcegroups")
        + "/federatedIdentityCredentials/gh-main",
        "name": "gh-main",
        "properties": {"issuer": "https://token.actions.githubusercontent.com",
                       "subject": "repo:o/r:ref:refs/heads/main",
                       "audiences": ["api://AzureADTokenExchange"]},
    }
    fic = convert.federated_credential(body)
    assert fic.id == f"{IDENT_ID}/federatedIdentityCredentials/gh-main"
    assert fic.audiences == ("api://AzureADTokenExchange",)


def test_canonical_id_leaves_unparseable_alone() -> None:
    assert convert.canonical_id("/not/an/arm/id") == "/not/an/arm/id"
