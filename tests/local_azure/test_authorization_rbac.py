"""RBAC evaluation: request actions, role permissions at scopes, and ABAC conditions."""

from __future__ import annotations

import pytest
from authz_world import (
    BLOB_READER,
    CONTRIBUTOR,
    KV_SECRETS_USER,
    MG,
    MG_PREFIX,
    OWNER,
    RBAC_ADMIN,
    READER,
    RG,
    RG2,
    SITE,
    SUB,
    SUB2,
    VAULT,
    World,
    body,
    make_world,
)

from local_azure import rbac, rbac_conditions
from local_azure.providers import authorization

RG_SCOPE = f"/subscriptions/{SUB}/resourceGroups/{RG}"
RA = "/providers/Microsoft.Authorization/roleAssignments"
RD = "/providers/Microsoft.Authorization/roleDefinitions"
IDS = f"{RG_SCOPE}/providers/Microsoft.ManagedIdentity/userAssignedIdentities"
NEW_RA = f"{RG_SCOPE}{RA}/6f1b3c0e-1111-4aaa-8bbb-000000000009"

# The portal's "Constrained" template for Role Based Access Control Administrator.
CONSTRAINED = f"""
(
 (
  !(ActionMatches{{'Microsoft.Authorization/roleAssignments/write'}})
 )
 OR
 (
  @Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {{{KV_SECRETS_USER}, {BLOB_READER}}}
 )
)
AND
(
 (
  !(ActionMatches{{'Microsoft.Authorization/roleAssignments/delete'}})
 )
 OR
 (
  @Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {{{KV_SECRETS_USER}, {BLOB_READER}}}
 )
)
"""  # noqa: E501


@pytest.mark.parametrize(
    ("method", "path", "action"),
    [
        ("GET", f"{IDS}/id-1", "Microsoft.ManagedIdentity/userAssignedIdentities/read"),
        ("PUT", f"{IDS}/id-1", "Microsoft.ManagedIdentity/userAssignedIdentities/write"),
        ("PATCH", f"{IDS}/id-1", "Microsoft.ManagedIdentity/userAssignedIdentities/write"),
        ("DELETE", f"{IDS}/id-1", "Microsoft.ManagedIdentity/userAssignedIdentities/delete"),
        ("GET", IDS, "Microsoft.ManagedIdentity/userAssignedIdentities/read"),
        ("PUT", f"{IDS}/id-1/federatedIdentityCredentials/f",
         "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write"),
        ("PUT", NEW_RA, "Microsoft.Authorization/roleAssignments/write"),
        ("GET", f"{SITE}{RA}", "Microsoft.Authorization/roleAssignments/read"),
        ("GET", f"{SITE}/providers/Microsoft.ManagedIdentity/identities/default",
         "Microsoft.ManagedIdentity/identities/read"),
        ("POST", f"{SITE}/config/appsettings/list", "Microsoft.Web/sites/config/list/action"),
        ("POST", f"/subscriptions/{SUB}/providers/Microsoft.Web/register",
         "Microsoft.Web/register/action"),
        ("GET", f"/subscriptions/{SUB}", "Microsoft.Resources/subscriptions/read"),
        ("GET", f"/subscriptions/{SUB}/resourcegroups",
         "Microsoft.Resources/subscriptions/resourceGroups/read"),
        ("DELETE", RG_SCOPE, "Microsoft.Resources/subscriptions/resourceGroups/delete"),
        ("GET", f"{RG_SCOPE}/resources",
         "Microsoft.Resources/subscriptions/resourceGroups/resources/read"),
        ("GET", "/providers/Microsoft.ManagedIdentity/operations",
         "Microsoft.ManagedIdentity/operations/read"),
    ],
)  # fmt: skip
def test_action_for(method: str, path: str, action: str) -> None:
    assert rbac.action_for(method, path) == action


@pytest.fixture
def world() -> World:
    return make_world()


def test_roles_apply_at_and_below_their_scope(world: World) -> None:
    world.assign(RG_SCOPE, CONTRIBUTOR, world.user)
    write = "Microsoft.ManagedIdentity/userAssignedIdentities/write"
    assert rbac.permitted(world.ctx, world.user, write, f"{IDS}/id-1")
    assert rbac.permitted(world.ctx, world.user.upper(), write.lower(), f"{IDS}/id-1")
    assert not rbac.permitted(world.ctx, world.user, write, f"/subscriptions/{SUB}")
    other_rg = f"/subscriptions/{SUB}/resourceGroups/{RG2}"
    assert not rbac.permitted(world.ctx, world.user, write, other_rg)
    assert not rbac.permitted(world.ctx, world.group, write, f"{IDS}/id-1")
    # Contributor's notActions exclude role assignment writes
    assert not rbac.permitted(
        world.ctx, world.user, "Microsoft.Authorization/roleAssignments/write", NEW_RA
    )


def test_reader_reads_everything_below(world: World) -> None:
    world.assign(f"/subscriptions/{SUB}", READER, world.user)
    assert rbac.permitted(world.ctx, world.user, "Microsoft.Web/sites/read", SITE)
    assert not rbac.permitted(world.ctx, world.user, "Microsoft.Web/sites/write", SITE)
    assert not rbac.permitted(world.ctx, world.user, "Microsoft.Web/sites/read",
                              SITE.replace(SUB, SUB2))  # fmt: skip


def test_management_group_assignments_reach_subscriptions(world: World) -> None:
    authorization.seed_assignment(world.ctx, MG_PREFIX + MG, OWNER, world.operator,
                                  "ServicePrincipal")  # fmt: skip
    for scope in (f"/subscriptions/{SUB}", SITE.replace(SUB, SUB2), NEW_RA):
        assert rbac.permitted(world.ctx, world.operator, "Microsoft.Web/sites/write", scope)
    assert not rbac.permitted(world.ctx, world.user, "Microsoft.Web/sites/read", SITE)


def test_custom_role_not_actions(world: World) -> None:
    custom = "0ab1c2d3-0000-4000-8000-0000000000c1"
    permissions = [{"actions": ["*"], "notActions": ["Microsoft.KeyVault/*"]}]
    payload = {
        "properties": {
            "roleName": "No Vaults",
            "assignableScopes": [RG_SCOPE],
            "permissions": permissions,
        }
    }
    assert world.call("PUT", f"{RG_SCOPE}{RD}/{custom}", payload).status == 201
    world.assign(RG_SCOPE, custom, world.user)
    assert rbac.permitted(world.ctx, world.user, "Microsoft.Web/sites/write", SITE)
    assert not rbac.permitted(world.ctx, world.user, "Microsoft.KeyVault/vaults/write", VAULT)


def test_constrained_rbac_administrator(world: World) -> None:
    assert world.assign(RG_SCOPE, RBAC_ADMIN, world.user, condition=CONSTRAINED).status == 201
    write = "Microsoft.Authorization/roleAssignments/write"

    def request(role: str) -> dict[str, object]:
        return {"properties": {"roleDefinitionId": f"/subscriptions/{SUB}{RD}/{role}",
                               "principalId": world.group}}  # fmt: skip

    assert rbac.permitted(world.ctx, world.user, write, NEW_RA, request(KV_SECRETS_USER))
    assert rbac.permitted(world.ctx, world.user, write, NEW_RA, b'{"properties": {'
                          b'"roleDefinitionId": "/providers/Microsoft.Authorization/'
                          b'roleDefinitions/2A2B9908-6EA1-4AE2-8E65-A410DF84E7D1"}}')  # fmt: skip
    assert not rbac.permitted(world.ctx, world.user, write, NEW_RA, request(OWNER))
    assert not rbac.permitted(world.ctx, world.user, write, NEW_RA)  # no body: no attribute
    # reads are unconstrained
    assert rbac.permitted(world.ctx, world.user, "Microsoft.Web/sites/read", SITE)
    # deletes look at the assignment being deleted
    allowed = body(world.assign(RG_SCOPE, KV_SECRETS_USER, world.group))
    denied = body(world.assign(RG_SCOPE, OWNER, world.group))
    delete = "Microsoft.Authorization/roleAssignments/delete"
    assert rbac.permitted(world.ctx, world.user, delete, str(allowed["id"]))
    assert not rbac.permitted(world.ctx, world.user, delete, str(denied["id"]))


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("@Request[Microsoft.Authorization/roleAssignments:PrincipalType] "
         "ForAnyOfAnyValues:StringEqualsIgnoreCase {'serviceprincipal'}", True),
        ("@Request[Microsoft.Authorization/roleAssignments:PrincipalType] "
         "StringEquals 'User'", False),
        ("NOT @Request[Microsoft.Authorization/roleAssignments:PrincipalType] "
         "StringEquals 'User'", True),
        ("@Request[Microsoft.Authorization/roleAssignments:PrincipalId] "
         "ForAnyOfAnyValues:GuidEquals {00000000-0000-0000-0000-000000000001}", False),
        ("@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] "
         f"ForAllOfAnyValues:GuidEquals {{{READER}, {OWNER}}}", True),
        ("@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] "
         f"ForAnyOfAllValues:GuidEquals {{{READER}, {OWNER}}}", False),
        ("@Resource[Microsoft.Storage/storageAccounts:name] StringEquals 'x'", False),
        ("SubOperationMatches{'Blob.List'}", False),
        ("ActionMatches{'Microsoft.Authorization/*'} && !(ActionMatches{'*/delete'})", True),
        ("ActionMatches{'Microsoft.Web/*'} || ActionMatches{'*/write'}", True),
    ],
)  # fmt: skip
def test_condition_language(condition: str, expected: bool) -> None:
    attributes = {
        "request:microsoft.authorization/roleassignments:principaltype": ["ServicePrincipal"],
        "request:microsoft.authorization/roleassignments:principalid": ["abc"],
        "request:microsoft.authorization/roleassignments:roledefinitionid": [READER],
    }
    action = "Microsoft.Authorization/roleAssignments/write"
    assert rbac_conditions.evaluate(condition, action, attributes) is expected


@pytest.mark.parametrize(
    "broken", ["(", "ActionMatches{'x'", "@Request[a:b]", "@Request[a:b] StringEquals", "x y"]
)
def test_syntax_errors(broken: str) -> None:
    with pytest.raises(rbac_conditions.ConditionSyntaxError):
        rbac_conditions.parse(broken)
    assert rbac_conditions.evaluate(broken, "a/b/read", {}) is False


def test_unknown_principals_and_scopes_are_denied(world: World) -> None:
    assert not rbac.permitted(world.ctx, world.user, "Microsoft.Web/sites/read", SITE)
    assert not rbac.permitted(world.ctx, world.user, "x/read", "/not/a/scope")


def test_tenant_level_scopes(world: World) -> None:
    reservations_reader = "582fc458-8989-419f-a480-75249bc5db7e"
    authorization.seed_assignment(world.ctx, "/providers/Microsoft.Capacity",
                                  reservations_reader, world.user, "User")  # fmt: skip
    order = "/providers/Microsoft.Capacity/reservationOrders/o-1"
    assert rbac.permitted(world.ctx, world.user, "Microsoft.Capacity/reservationOrders/read", order)
    assert not rbac.permitted(world.ctx, world.user, "Microsoft.Capacity/register/action", order)
    assert not rbac.permitted(world.ctx, world.user, "Microsoft.Web/sites/read", SITE)
