"""Role definitions and role assignments: create, read, delete and ARM's rules, via the Router."""

from __future__ import annotations

from typing import Any

import pytest
from authz_world import (
    BLOB_READER,
    CONTRIBUTOR,
    READER,
    RG,
    RG2,
    SUB,
    SUB2,
    TENANT,
    VAULT,
    World,
    error_code,
    make_world,
)

from local_azure.kernel import Settings
from local_azure.providers import authorization
from local_azure.providers.authorization import role_definitions

RG_SCOPE = f"/subscriptions/{SUB}/resourceGroups/{RG}"
RA = "/providers/Microsoft.Authorization/roleAssignments"
RD = "/providers/Microsoft.Authorization/roleDefinitions"
NAME = "8a3e4f8c-2d1b-4c0a-9d0e-1f2a3b4c5d6e"


@pytest.fixture
def world() -> World:
    return make_world()


def body(resp: Any) -> dict[str, Any]:
    assert isinstance(resp.body, dict), resp
    return resp.body


# ---------------------------------------------------------------------- role definitions


def test_builtin_catalog_is_seeded_once(world: World) -> None:
    count = world.ctx.store.count(role_definitions.RD_TYPE)
    assert count == len(role_definitions.builtin_catalog()) == 935
    authorization.seed_builtin_roles(world.ctx)
    assert world.ctx.store.count(role_definitions.RD_TYPE) == count


def test_role_definition_reads(world: World) -> None:
    at_sub = body(world.call("GET", f"/subscriptions/{SUB}{RD}/{READER}"))
    assert at_sub["id"] == f"/subscriptions/{SUB}{RD}/{READER}"
    assert at_sub["name"] == READER
    props = at_sub["properties"]
    assert props["roleName"] == "Reader"
    assert props["type"] == "BuiltInRole"
    assert props["assignableScopes"] == ["/"]
    assert props["permissions"][0]["actions"] == ["*/read"]
    by_id = body(world.call("GET", f"{RD}/{READER}"))
    assert by_id["id"] == f"{RD}/{READER}"
    at_rg = body(world.call("GET", f"{RG_SCOPE}{RD}/{READER}"))
    assert at_rg["id"] == f"/subscriptions/{SUB}{RD}/{READER}"
    missing = world.call("GET", f"/subscriptions/{SUB}{RD}/00000000-0000-0000-0000-000000000001")
    assert missing.status == 404
    assert error_code(missing) == "RoleDefinitionDoesNotExist"


@pytest.mark.parametrize(
    "raw_filter",
    [
        "roleName eq 'Key Vault Secrets User'",
        "roleName%20eq%20%27Key%20Vault%20Secrets%20User%27",
        "roleName+eq+'Key%20Vault%20Secrets%20User'",
        "roleName eq 'key vault secrets user'",
    ],
)
def test_role_definition_name_filter(world: World, raw_filter: str) -> None:
    found = world.follow(f"/subscriptions/{SUB}{RD}", query={"$filter": raw_filter})
    assert [d["properties"]["roleName"] for d in found] == ["Key Vault Secrets User"]


def test_role_definition_type_filter_and_custom_roles(world: World) -> None:
    custom = "0ab1c2d3-0000-4000-8000-000000000001"
    payload = {
        "properties": {
            "roleName": "App Reader",
            "description": "Reads the app",
            "permissions": [{"actions": ["Microsoft.Web/sites/read"]}],
            "assignableScopes": [RG_SCOPE],
        }
    }
    created = world.call("PUT", f"{RG_SCOPE}{RD}/{custom}", payload)
    assert created.status == 201
    assert body(created)["properties"]["type"] == "CustomRole"
    assert body(created)["properties"]["permissions"] == [
        {
            "actions": ["Microsoft.Web/sites/read"],
            "notActions": [],
            "dataActions": [],
            "notDataActions": [],
        }
    ]
    customs = world.follow(f"{RG_SCOPE}{RD}", query={"$filter": "type eq 'CustomRole'"})
    assert [d["name"] for d in customs] == [custom]
    assert world.follow(f"/subscriptions/{SUB}/resourceGroups/{RG2}{RD}",
                        query={"$filter": "type eq 'CustomRole'"}) == []  # fmt: skip
    builtins = world.follow(f"/subscriptions/{SUB}{RD}", query={"$filter": "type eq 'BuiltInRole'"})
    assert len(builtins) == 935
    duplicate = world.call("PUT", f"{RG_SCOPE}{RD}/0ab1c2d3-0000-4000-8000-000000000002", payload)
    assert duplicate.status == 409
    assert error_code(duplicate) == "RoleDefinitionWithSameNameExists"
    builtin_name = dict(payload, properties={**payload["properties"], "roleName": "Reader"})
    clash = world.call("PUT", f"{RG_SCOPE}{RD}/0ab1c2d3-0000-4000-8000-000000000003", builtin_name)
    assert error_code(clash) == "RoleDefinitionWithSameNameExists"
    assert world.assign(RG_SCOPE, custom, world.user).status == 201
    busy = world.call("DELETE", f"/subscriptions/{SUB}{RD}/{custom}")
    assert busy.status == 409
    assert error_code(busy) == "RoleDefinitionHasAssignments"
    assert error_code(world.call("DELETE", f"{RD}/{READER}")) == "RoleDefinitionUpdateNotPermitted"
    unsupported = world.call("GET", f"/subscriptions/{SUB}{RD}", query={"$filter": "foo eq 1"})
    assert error_code(unsupported) == "UnsupportedQuery"


def test_custom_role_delete(world: World) -> None:
    custom = "0ab1c2d3-0000-4000-8000-00000000000a"
    payload = {"properties": {"roleName": "Temp", "assignableScopes": [f"/subscriptions/{SUB}"],
                              "permissions": [{"actions": ["*/read"]}]}}  # fmt: skip
    assert world.call("PUT", f"/subscriptions/{SUB}{RD}/{custom}", payload).status == 201
    deleted = world.call("DELETE", f"/subscriptions/{SUB}{RD}/{custom}")
    assert deleted.status == 200
    assert body(deleted)["properties"]["roleName"] == "Temp"
    assert world.call("DELETE", f"/subscriptions/{SUB}{RD}/{custom}").status == 204


# ---------------------------------------------------------------------- role assignments


def test_create_get_delete(world: World) -> None:
    created = world.assign(
        RG_SCOPE, READER, world.user, name=NAME, principalType="User", description="why"
    )
    assert created.status == 201
    doc = body(created)
    assert doc["id"] == f"{RG_SCOPE}{RA}/{NAME}"
    assert doc["name"] == NAME
    assert doc["type"] == "Microsoft.Authorization/roleAssignments"
    props = doc["properties"]
    assert props["roleDefinitionId"] == f"/subscriptions/{SUB}{RD}/{READER}"
    assert props["principalId"] == world.user
    assert props["principalType"] == "User"
    assert props["scope"] == RG_SCOPE
    assert props["description"] == "why"
    assert props["condition"] is None
    assert props["createdOn"]
    assert props["updatedOn"]
    assert set(props) == {
        "roleDefinitionId", "principalId", "principalType", "scope", "condition",
        "conditionVersion", "createdOn", "updatedOn", "createdBy", "updatedBy",
        "delegatedManagedIdentityResourceId", "description",
    }  # fmt: skip
    assert not any(k.startswith("_") for k in doc)
    assert body(world.call("GET", f"{RG_SCOPE}{RA}/{NAME}")) == doc
    assert body(world.call("GET", f"{RG_SCOPE}{RA}/{NAME.upper()}")) == doc
    deleted = world.call("DELETE", f"{RG_SCOPE}{RA}/{NAME}")
    assert deleted.status == 200
    assert body(deleted) == doc
    assert world.call("DELETE", f"{RG_SCOPE}{RA}/{NAME}").status == 204
    missing = world.call("GET", f"{RG_SCOPE}{RA}/{NAME}")
    assert missing.status == 404
    assert error_code(missing) == "RoleAssignmentNotFound"


def test_principal_type_comes_from_the_directory(world: World) -> None:
    created = body(world.assign(RG_SCOPE, READER, world.operator))
    assert created["properties"]["principalType"] == "ServicePrincipal"
    mismatch = world.assign(RG_SCOPE, CONTRIBUTOR, world.operator, principalType="User")
    assert mismatch.status == 400
    assert error_code(mismatch) == "UnmatchedPrincipalType"


def test_created_by_is_the_caller(world: World) -> None:
    name = "6f1b3c0e-1111-4aaa-8bbb-000000000001"
    put = world.call(
        "PUT",
        f"{RG_SCOPE}{RA}/{name}",
        {"properties": {"roleDefinitionId": f"{RD}/{READER}", "principalId": world.user}},
        caller=world.operator,
    )
    props = body(put)["properties"]
    assert props["createdBy"] == props["updatedBy"] == world.operator


def test_description_and_condition_updates_are_allowed(world: World) -> None:
    world.assign(RG_SCOPE, BLOB_READER, world.user, name=NAME)
    condition = (
        "((!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'}"
        ")) OR (@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] "
        "StringEquals 'logs'))"
    )
    updated = world.assign(
        RG_SCOPE, BLOB_READER, world.user, name=NAME, description="new", condition=condition
    )
    assert updated.status == 200
    props = body(updated)["properties"]
    assert props["description"] == "new"
    assert props["condition"] == condition
    assert props["conditionVersion"] == "2.0"


@pytest.mark.parametrize(
    ("change", "value"),
    [("role", CONTRIBUTOR), ("principal", "group"), ("scope", f"/subscriptions/{SUB}")],
)
def test_assignments_are_immutable(world: World, change: str, value: str) -> None:
    world.assign(RG_SCOPE, READER, world.user, name=NAME)
    role, principal, scope = READER, world.user, RG_SCOPE
    if change == "role":
        role = value
    elif change == "principal":
        principal = world.group
    else:
        scope = value
    response = world.assign(scope, role, principal, name=NAME)
    assert response.status == 400
    assert error_code(response) == "RoleAssignmentUpdateNotPermitted"
    assert body(response)["error"]["message"] == (
        "Tenant ID, application ID, principal ID, and scope are not allowed to be updated."
    )


def test_same_grant_under_another_name_conflicts(world: World) -> None:
    world.assign(RG_SCOPE, READER, world.user, name=NAME)
    other = world.assign(RG_SCOPE, READER, world.user)
    assert other.status == 409
    assert error_code(other) == "RoleAssignmentExists"
    assert body(other)["error"]["message"] == (
        "The role assignment already exists. The ID of the existing role assignment is "
        f"{NAME.replace('-', '')}."
    )
    assert world.assign(f"/subscriptions/{SUB}", READER, world.user).status == 201


@pytest.mark.parametrize("name", ["not-a-guid", "8a3e4f8c2d1b4c0a9d0e1f2a3b4c5d6e1"])
def test_names_must_be_guids(world: World, name: str) -> None:
    response = world.assign(RG_SCOPE, READER, world.user, name=name)
    assert response.status == 400
    assert error_code(response) == "InvalidRoleAssignmentId"
    assert body(response)["error"]["message"] == (
        f"The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID."
    )


def test_role_definition_must_exist(world: World) -> None:
    response = world.assign(RG_SCOPE, "00000000-0000-0000-0000-00000000abcd", world.user)
    assert response.status == 400
    assert error_code(response) == "RoleDefinitionDoesNotExist"


def test_unknown_principal(world: World) -> None:
    response = world.assign(RG_SCOPE, READER, "12345678-1234-1234-1234-123456789012")
    assert response.status == 400
    assert error_code(response) == "PrincipalNotFound"
    assert body(response)["error"]["message"].startswith(
        f"Principal 12345678123412341234123456789012 does not exist in the directory {TENANT}."
    )


def test_replication_window() -> None:
    world = make_world(Settings(replication_window_s=60))
    fresh = world.principal(age_s=5)
    blocked = world.assign(RG_SCOPE, READER, fresh)
    assert blocked.status == 400
    assert error_code(blocked) == "PrincipalNotFound"
    typed = world.assign(RG_SCOPE, READER, fresh, principalType="ServicePrincipal")
    assert typed.status == 201
    world.clock.now += 60
    assert world.assign(RG_SCOPE, CONTRIBUTOR, fresh).status == 201


def test_role_assignment_limit_per_subscription() -> None:
    world = make_world(Settings(role_assignment_limit=3))
    for role in (READER, CONTRIBUTOR):
        assert world.assign(RG_SCOPE, role, world.user).status == 201
    assert world.assign(f"/subscriptions/{SUB}", READER, world.user).status == 201
    over = world.assign(VAULT, READER, world.user)
    assert over.status == 400
    assert error_code(over) == "RoleAssignmentLimitExceeded"
    assert world.assign(f"/subscriptions/{SUB2}", READER, world.user).status == 201


@pytest.mark.parametrize(
    ("props", "code"),
    [
        ({"description": "x" * 2049}, "InvalidRoleAssignmentDescription"),
        ({"condition": "@Request[x:y] StringEquals 'a'", "conditionVersion": "1.0"},
         "InvalidRoleAssignmentCondition"),
        ({"condition": "((ActionMatches{'x'}"}, "InvalidRoleAssignmentCondition"),
        ({"principalType": "Robot"}, "InvalidRequestContent"),
    ],
)  # fmt: skip
def test_invalid_properties(world: World, props: dict[str, Any], code: str) -> None:
    response = world.assign(RG_SCOPE, READER, world.user, **props)
    assert response.status == 400
    assert error_code(response) == code


def test_missing_scope_and_bad_bodies(world: World) -> None:
    missing_rg = world.assign(f"/subscriptions/{SUB}/resourceGroups/nope", READER, world.user)
    assert error_code(missing_rg) == "ResourceGroupNotFound"
    missing_res = world.assign(VAULT.replace("kv-1", "kv-9"), READER, world.user)
    assert error_code(missing_res) == "ResourceNotFound"
    empty = world.call("PUT", f"{RG_SCOPE}{RA}/{NAME}", {"properties": {"principalId": world.user}})
    assert error_code(empty) == "InvalidRequestContent"
    not_json = world.call("PUT", f"{RG_SCOPE}{RA}/{NAME}", raw=b"{oops")
    assert error_code(not_json) == "InvalidRequestContent"


def test_seed_assignment_is_idempotent(world: World) -> None:
    first = authorization.seed_assignment(world.ctx, RG_SCOPE, READER, world.user, "User")
    again = authorization.seed_assignment(world.ctx, RG_SCOPE, READER, world.user, "User")
    assert first == again
    assert first["properties"]["principalType"] == "User"
    named = authorization.seed_assignment(
        world.ctx, f"/subscriptions/{SUB}", READER, world.user, "User", name=NAME,
        description="seeded",
    )  # fmt: skip
    assert named["name"] == NAME
    assert (
        body(world.call("GET", f"/subscriptions/{SUB}{RA}/{NAME}"))["properties"]["description"]
        == "seeded"
    )


def test_api_versions(world: World) -> None:
    for version in ("2015-07-01", "2018-09-01-preview", "2020-10-01-preview", "2022-04-01"):
        response = world.call("GET", f"{RG_SCOPE}{RA}", api_version=version)
        assert response.status == 200
    bad = world.call("GET", f"{RG_SCOPE}{RA}", api_version="2030-01-01")
    assert error_code(bad) == "NoRegisteredProviderFound"
    assert "for type 'roleAssignments'" in body(bad)["error"]["message"]


def test_tenant_level_provider_scope(world: World) -> None:
    """Reservations roles are assignable at /providers/Microsoft.Capacity only."""
    reservations_reader = "582fc458-8989-419f-a480-75249bc5db7e"
    scope = "/providers/Microsoft.Capacity"
    created = world.assign(scope, reservations_reader, world.user, name=NAME)
    assert created.status == 201
    assert body(created)["id"] == f"{scope}{RA}/{NAME}"
    assert body(created)["properties"]["roleDefinitionId"] == f"{RD}/{reservations_reader}"
    listed = world.follow(f"{scope}{RA}", query={"$filter": "atScope()"})
    assert [a["name"] for a in listed] == [NAME]
    definition = body(world.call("GET", f"{RD}/{reservations_reader}"))
    assert definition["properties"]["assignableScopes"] == [scope]
