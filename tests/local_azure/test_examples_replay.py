"""Replay of the official azure-rest-api-specs examples against the emulator.

Each example in `tests/data/arm-examples/` (verbatim copies; `SOURCES.md` there says where each
came from) is sent to a fresh emulated cloud seeded so that the resource groups, principals
and role definitions it names exist. The answer must have the example's status and its shape:
the same keys with the same JSON types, recursively (values differ: ids and GUIDs are minted
here). Where an answer carries more than the example shows, the extra keys must be ones the
REST spec defines and Azure returns (listed in EXTRA_KEYS).

Deviations, each forced by an oddity that SOURCES.md records:
- Path parameters `scope`/`roleAssignmentId` lack their leading `/`; one is added.
- RoleAssignments_Get.json says api-version 2020-10-01-preview in the 2022-04-01 folder; it is
  replayed with the version it names (the emulator accepts both).
- Get/Put/DeleteRoleDefinition and GetRoleDefinitionAtScope use the placeholder scope "scope"
  and id "roleDefinitionId", and GetRoleDefinitionById the bare id "roleDefinitionId"; they are
  replayed at a subscription scope, for a custom role of that GUID.
- PutRoleDefinition.json puts its payload, flat, under a non-swagger "body" key; it is sent in
  the swagger shape (`{"properties": {...}}` without id/type/name).
- SystemAssignedIdentityGet.json's `scope` already ends in `/identities/default`; the resource
  part is used, and its "ResourceProvider" type placeholder is a value, so it is not compared.
- GetResourcePermissions.json's `parentResourcePath` is one placeholder segment; a real parent
  (`servers/parent`, type and name) is used so that the path names a resource.
- GetRoleDefinitionAtScope.json shows one custom role; it is replayed with `$filter=type eq
  'CustomRole'`, because 30 built-in roles carry an ABAC condition in their permission blocks,
  a shape the example does not show.
- Lists with a `nextLink` (an absolute URL or the placeholder "nextlink") are replayed with a
  page size that leaves a second page, so that the answer has a nextLink too; RP operation lists
  and role assignment lists otherwise answer in one page without one.
- Deletes and creates list two statuses (200/204, 201/200); both are replayed in that order.
- FlexibleFederatedIdentityCredentialCreate.json exists for 2025-01-31-preview and for
  2025-05-31-preview under one name; both are replayed, each at the version it names.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from authz_world import TENANT, World, make_world

from local_azure.kernel import Settings
from local_azure.providers.authorization import role_assignments, role_definitions
from local_azure.providers.authorization.rbac_scopes import parse
from local_azure.store import Principal

EXAMPLES = Path(__file__).parent.parent / "data" / "arm-examples"
MSI = EXAMPLES / "ManagedIdentity" / "2024-11-30"
AUTHZ = EXAMPLES / "Authorization" / "2022-04-01"
ROLE = "0b5fe924-9a61-425c-96af-cfe6e287ca2d"
PRINCIPAL = "ce2ce14e-85d7-4629-bdbc-454d0519d987"
AUTH_SUB = "a925f2f7-5c63-4b7b-8799-25a5f97bc3b2"
UAI = "/providers/Microsoft.ManagedIdentity/userAssignedIdentities"
RA_EXTRA = {"condition", "conditionVersion", "createdOn", "updatedOn", "createdBy", "updatedBy",
            "delegatedManagedIdentityResourceId", "description"}  # fmt: skip
RD_EXTRA = {"createdOn", "updatedOn", "createdBy", "updatedBy"}
# Keys the REST spec defines that Azure returns beyond what an example shows, by example.
EXTRA_KEYS: dict[str, set[str]] = {
    "GetResourcePermissions.json": {"dataActions", "notDataActions"},
}


@dataclass
class Case:
    method: str
    path: str  # a template over the example's (adjusted) parameters
    statuses: tuple[int, ...]
    seed: Callable[[World, dict[str, Any]], None] | None = None
    body: Callable[[dict[str, Any]], Any] | None = None
    overrides: dict[str, str] = field(default_factory=dict)
    page_size: int = 1000
    query: dict[str, str] = field(default_factory=dict)
    caller: bool = False


def _doc(world: World, arm_id: str, type_: str, parent: str, **body: Any) -> None:
    world.ctx.store.put(arm_id, type_, parent, {"id": arm_id, "type": type_, **body})


def group(world: World, sub: str, rg: str) -> None:
    sub = sub.lower()
    _doc(world, f"/subscriptions/{sub}", "subscription", "/", subscriptionId=sub)
    _doc(world, f"/subscriptions/{sub}/resourceGroups/{rg}", "Microsoft.Resources/resourceGroups",
         f"/subscriptions/{sub}", name=rg, location="eastus")  # fmt: skip


def identities(*names: str) -> Callable[[World, dict[str, Any]], None]:
    def seed(world: World, p: dict[str, Any]) -> None:
        group(world, p["subscriptionId"], p["resourceGroupName"])
        base = f"/subscriptions/{p['subscriptionId']}/resourceGroups/{p['resourceGroupName']}{UAI}"
        tags = {"key1": "value1", "key2": "value2"}  # the examples' tags
        for name in names:
            put = world.call("PUT", f"{base}/{name}", {"location": "eastus", "tags": tags})
            assert put.status == 201

    return seed


def credentials(*names: str) -> Callable[[World, dict[str, Any]], None]:
    def seed(world: World, p: dict[str, Any]) -> None:
        identities(p["resourceName"])(world, p)
        base = (
            f"/subscriptions/{p['subscriptionId']}/resourceGroups/{p['resourceGroupName']}{UAI}"
            f"/{p['resourceName']}/federatedIdentityCredentials"
        )
        for i, name in enumerate(names):
            body = {"properties": {"issuer": "https://issuer.example", "subject": f"s-{i}",
                                   "audiences": ["api://AzureADTokenExchange"]}}  # fmt: skip
            assert world.call("PUT", f"{base}/{name}", body).status == 201

    return seed


FLEXIBLE = {"languageVersion": 1, "value": "claims['sub'] matches 'system:serviceaccount:ns:*'"}


def flexible_credentials(*names: str) -> Callable[[World, dict[str, Any]], None]:
    """Credentials with a claimsMatchingExpression, written at the example's own version."""

    def seed(world: World, p: dict[str, Any]) -> None:
        identities(p["resourceName"])(world, p)
        base = (
            f"/subscriptions/{p['subscriptionId']}/resourceGroups/{p['resourceGroupName']}{UAI}"
            f"/{p['resourceName']}/federatedIdentityCredentials"
        )
        for name in names:
            body = {"properties": {"issuer": "https://issuer.example",
                                   "audiences": ["api://AzureADTokenExchange"],
                                   "claimsMatchingExpression": FLEXIBLE}}  # fmt: skip
            put = world.call("PUT", f"{base}/{name}", body, api_version=p["api-version"])
            assert put.status == 201, put.body

    return seed


def authz(
    *assignments: tuple[str, str], role: bool = True
) -> Callable[[World, dict[str, Any]], None]:
    """The Authorization examples' world: subscription, testrg, a DocumentDB account, the user,
    the custom role 0b5fe924, and role assignments (scope, name)."""

    def seed(world: World, _p: dict[str, Any]) -> None:
        group(world, AUTH_SUB, "testrg")
        rg = f"/subscriptions/{AUTH_SUB}/resourceGroups/testrg"
        _doc(world, f"{rg}/providers/Microsoft.DocumentDb/databaseAccounts/test-db-account",
             "Microsoft.DocumentDb/databaseAccounts", rg, name="test-db-account")  # fmt: skip
        world.ctx.store.add_principal(Principal(PRINCIPAL, "User", "user", None, None, TENANT, 0))
        if role:
            custom = {"properties": {"roleName": "Role name", "description": "Role description",
                                     "assignableScopes": [f"/subscriptions/{AUTH_SUB}"],
                                     "permissions": [{"actions": ["action"],
                                                      "dataActions": ["dataAction"]}]}}  # fmt: skip
            put = world.call("PUT", f"/subscriptions/{AUTH_SUB}/providers/Microsoft.Authorization"
                                    f"/roleDefinitions/{ROLE}", custom)  # fmt: skip
            assert put.status == 201, put.body
        for scope, name in assignments:
            role_assignments.seed_assignment(world.ctx, scope, ROLE, PRINCIPAL, "User", name=name)

    return seed


def caller_grants(world: World, p: dict[str, Any]) -> None:
    """The caller (the world's operator) holds two roles at the example's resource group."""
    group(world, p["subscriptionId"], p["resourceGroupName"])
    scope = f"/subscriptions/{p['subscriptionId'].lower()}/resourceGroups/{p['resourceGroupName']}"
    if "resourceName" in p:
        resource = f"{scope}/providers/{p['resourceProviderNamespace']}/{p['parentResourcePath']}"
        _doc(world, resource, "x/y", scope)
    for role in ("acdd72a7-3385-48ef-bd42-f606fba81ae7", "b24988ac-6180-42a0-ab88-20f7382dd24c"):
        role_assignments.seed_assignment(world.ctx, scope, role, world.operator, "ServicePrincipal")


def flat_role_definition(p: dict[str, Any]) -> Any:
    payload = dict(p["body"]["roleDefinition"])
    for key in ("id", "type", "name"):
        payload.pop(key)
    payload["assignableScopes"] = [f"/subscriptions/{AUTH_SUB}"]
    return {"properties": payload}


SUB_SCOPE = f"/subscriptions/{AUTH_SUB}"
B0F = (SUB_SCOPE, "b0f43c54-e787-4862-89b1-a653fa9cf747")
RG_RA = (f"{SUB_SCOPE}/resourceGroups/testrg", "96786e4b-dede-4c2e-8736-8ab911987f08")
RES_RA = (f"{SUB_SCOPE}/resourceGroups/testrg/providers/Microsoft.DocumentDb/databaseAccounts/"
          "test-db-account", "05c5a614-a7d6-4502-b150-c2fb455033ff")  # fmt: skip
RG_PATH = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}"
ONE_UAI = RG_PATH + UAI + "/{resourceName}"
FIC = ONE_UAI + "/federatedIdentityCredentials/{federatedIdentityCredentialResourceName}"
RA_ONE = "{scope}/providers/Microsoft.Authorization/roleAssignments/{roleAssignmentName}"
RD_ONE = "{scope}/providers/Microsoft.Authorization/roleDefinitions/{roleDefinitionId}"
RD_SUBS = {"scope": SUB_SCOPE, "roleDefinitionId": ROLE}
RD = "/providers/Microsoft.Authorization/roleDefinitions"

CASES: dict[str, Case] = {
    "IdentityCreate.json": Case("PUT", ONE_UAI, (201, 200), identities(),
                                body=lambda p: p["parameters"]),
    "IdentityGet.json": Case("GET", ONE_UAI, (200,), identities("resourceName")),
    "UserAssignedIdentities_Get.json": Case("GET", ONE_UAI, (200,), identities("resourceName")),
    "IdentityUpdate.json": Case("PATCH", ONE_UAI, (200,), identities("resourceName"),
                                body=lambda p: p["parameters"]),
    "IdentityDelete.json": Case("DELETE", ONE_UAI, (200, 204), identities("resourceName")),
    "IdentityListByResourceGroup.json": Case("GET", RG_PATH + UAI, (200,),
                                             identities("id-1", "id-2"), page_size=1),
    "IdentityListBySubscription.json": Case(
        "GET", "/subscriptions/{subscriptionId}" + UAI, (200,),
        lambda w, p: identities("id-1", "id-2")(w, {**p, "resourceGroupName": "rgName"}),
        page_size=1,
    ),
    "MsiOperationsList.json": Case("GET", "/providers/Microsoft.ManagedIdentity/operations",
                                   (200,), page_size=3),
    "SystemAssignedIdentityGet.json": Case(
        "GET", "{resource}/providers/Microsoft.ManagedIdentity/identities/default", (200,),
        lambda w, p: system_assigned(w, p["resource"]),
    ),
    "FederatedIdentityCredentialCreate.json": Case(
        "PUT", FIC, (201, 200), identities("resourceName"), body=lambda p: p["parameters"]
    ),
    "FlexibleFederatedIdentityCredentialCreate.json": Case(
        "PUT", FIC, (201, 200), identities("resourceName"), body=lambda p: p["parameters"]
    ),
    "FlexibleFederatedIdentityCredentialGet.json": Case(
        "GET", FIC, (200,), flexible_credentials("ficResourceName")
    ),
    "FederatedIdentityCredentialGet.json": Case("GET", FIC, (200,), credentials("ficResourceName")),
    "FederatedIdentityCredentialDelete.json": Case("DELETE", FIC, (200, 204),
                                                   credentials("ficResourceName")),
    "FederatedIdentityCredentialList.json": Case(
        "GET", ONE_UAI + "/federatedIdentityCredentials", (200,), credentials("fic-1", "fic-2"),
        page_size=1, query={"$top": "20"},
    ),
    "RoleAssignments_CreateForSubscription.json": Case("PUT", RA_ONE, (201, 200), authz(),
                                                       body=lambda p: p["parameters"]),
    "RoleAssignments_CreateForResourceGroup.json": Case("PUT", RA_ONE, (201, 200), authz(),
                                                        body=lambda p: p["parameters"]),
    "RoleAssignments_CreateForResource.json": Case("PUT", RA_ONE, (201, 200), authz(),
                                                   body=lambda p: p["parameters"]),
    "RoleAssignments_CreateById.json": Case("PUT", "{roleAssignmentId}", (201, 200), authz(),
                                            body=lambda p: p["parameters"]),
    "RoleAssignments_Get.json": Case("GET", RA_ONE, (200,), authz(B0F)),
    "RoleAssignments_GetById.json": Case("GET", "{roleAssignmentId}", (200,), authz(B0F)),
    "RoleAssignments_Delete.json": Case("DELETE", RA_ONE, (200, 204), authz(B0F)),
    "RoleAssignments_DeleteById.json": Case("DELETE", "{roleAssignmentId}", (200, 204),
                                            authz(B0F)),
    "RoleAssignments_ListForScope.json": Case(
        "GET", "{scope}/providers/Microsoft.Authorization/roleAssignments", (200,), authz(B0F)
    ),
    "RoleAssignments_ListForSubscription.json": Case(
        "GET", "/subscriptions/{subscriptionId}/providers/Microsoft.Authorization/roleAssignments",
        (200,), authz(B0F),
    ),
    "RoleAssignments_ListForResourceGroup.json": Case(
        "GET", RG_PATH + "/providers/Microsoft.Authorization/roleAssignments", (200,),
        authz(B0F, RG_RA),
    ),
    "RoleAssignments_ListForResource.json": Case(
        "GET", RG_PATH + "/providers/{resourceProviderNamespace}/{resourceType}/{resourceName}"
        "/providers/Microsoft.Authorization/roleAssignments", (200,), authz(B0F, RG_RA, RES_RA),
    ),
    "GetRoleDefinitionByName.json": Case("GET", RD_ONE, (200,), authz(), overrides=RD_SUBS),
    "GetRoleDefinitionById.json": Case(
        "GET", "{roleId}", (200,), authz(),
        overrides={"roleId": f"{SUB_SCOPE}{RD}/{ROLE}"},
    ),
    "GetRoleDefinitionAtScope.json": Case(
        "GET", "{scope}/providers/Microsoft.Authorization/roleDefinitions", (200,), authz(),
        overrides={"scope": SUB_SCOPE}, query={"$filter": "type eq 'CustomRole'"},
    ),
    "PutRoleDefinition.json": Case("PUT", RD_ONE, (201,), authz(role=False),
                                   body=flat_role_definition, overrides=RD_SUBS),
    "DeleteRoleDefinition.json": Case("DELETE", RD_ONE, (200, 204), authz(), overrides=RD_SUBS),
    "GetPermissions.json": Case(
        "GET", "/subscriptions/{subscriptionId}/resourcegroups/{resourceGroupName}"
        "/providers/Microsoft.Authorization/permissions", (200,), caller_grants, page_size=1,
        caller=True,
    ),
    "GetResourcePermissions.json": Case(
        "GET", "/subscriptions/{subscriptionId}/resourcegroups/{resourceGroupName}/providers/"
        "{resourceProviderNamespace}/{parentResourcePath}/{resourceType}/{resourceName}"
        "/providers/Microsoft.Authorization/permissions", (200,), caller_grants, caller=True,
        overrides={"parentResourcePath": "servers/parent"},
    ),
}  # fmt: skip


def system_assigned(world: World, resource: str) -> None:
    parts = resource.split("/")
    group(world, parts[2], parts[4])
    principal = world.ctx.new_guid()
    block = {"type": "SystemAssigned", "principalId": principal, "tenantId": TENANT}
    _doc(world, resource, "Resource.Provider/resourceType", "/".join(parts[:5]),
         name=parts[-1], location="cus", identity=block)  # fmt: skip
    client_id = world.ctx.new_guid()
    world.ctx.store.add_principal(
        Principal(principal, "ServicePrincipal", parts[-1], client_id, resource, TENANT, 0)
    )


def _shape_errors(expected: Any, actual: Any, where: str, extra: set[str]) -> list[str]:
    kinds = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number",
             float: "number", type(None): "null"}  # fmt: skip
    if kinds[type(expected)] != kinds[type(actual)]:
        return [f"{where}: {kinds[type(expected)]} expected, got {kinds[type(actual)]}"]
    errors: list[str] = []
    if isinstance(expected, dict):
        for key, value in expected.items():
            if key not in actual:
                errors.append(f"{where}.{key}: missing")
            else:
                errors += _shape_errors(value, actual[key], f"{where}.{key}", extra)
        errors += [
            f"{where}.{k}: unexpected" for k in actual if k not in expected and k not in extra
        ]
    elif isinstance(expected, list) and expected:
        if not actual:
            errors.append(f"{where}: empty, example has items")
        for i, item in enumerate(actual):
            errors += _shape_errors(expected[0], item, f"{where}[{i}]", extra)
    return errors


ALL = sorted(p.relative_to(EXAMPLES).as_posix() for p in EXAMPLES.rglob("*.json"))


def test_every_example_has_a_replay() -> None:
    assert len(ALL) == 35
    assert sorted(CASES) == sorted({Path(p).name for p in ALL})


@pytest.mark.parametrize("example", ALL)
def test_replay(example: str) -> None:
    data = json.loads((EXAMPLES / example).read_text())
    name = Path(example).name
    case = CASES[name]
    params: dict[str, Any] = {**data["parameters"], **case.overrides}
    for key in ("scope", "roleAssignmentId"):
        if key in params and not str(params[key]).startswith("/"):
            params[key] = "/" + params[key]
    if name == "SystemAssignedIdentityGet.json":
        params["resource"] = params["scope"].removesuffix("/identities/default")
    world = make_world(Settings(page_size=case.page_size))
    if case.seed is not None:
        case.seed(world, params)
    path = case.path.format(**params)
    body = case.body(params) if case.body else None
    extra = EXTRA_KEYS.get(name, set())
    extra |= RA_EXTRA if "RoleAssignments" in name else set()
    extra |= RD_EXTRA if "RoleDefinition" in name else set()
    for status in case.statuses:
        response = world.call(
            case.method, path, body, query=case.query, api_version=params["api-version"],
            caller=world.operator if case.caller else None,
        )  # fmt: skip
        assert response.status == status, response.body
        expected = data["responses"][str(status)].get("body")
        if expected is None:
            assert response.body is None
            continue
        assert not _shape_errors(expected, response.body, "$", extra)


def test_shape_comparison_catches_differences() -> None:
    assert _shape_errors({"a": {"b": 1}}, {"a": {"b": "1"}}, "$", set()) == [
        "$.a.b: number expected, got string"
    ]
    assert _shape_errors({"a": [{"b": 1}]}, {"a": [{"c": 1}]}, "$", set()) == [
        "$.a[0].b: missing",
        "$.a[0].c: unexpected",
    ]
    assert _shape_errors({"a": 1}, {"a": 1, "z": None}, "$", {"z"}) == []
    assert parse(f"{SUB_SCOPE}/resourceGroups/testrg").resource_group == "testrg"
    assert role_definitions.guid_of(f"/providers/Microsoft.Authorization/roleDefinitions/{ROLE}")
