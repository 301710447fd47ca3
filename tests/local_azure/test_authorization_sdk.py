"""Conformance of Microsoft.Authorization through azure-mgmt-authorization over HTTPS."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.identity import ManagedIdentityCredential
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.resource.resources import ResourceManagementClient

from local_azure.api import RunningEmulator
from local_azure.kernel import Settings

SUB = "11111111-1111-1111-1111-111111111111"
SUB2 = "33333333-3333-3333-3333-333333333333"
TENANT = "22222222-2222-2222-2222-222222222222"
USER = "a1f4c2d8-3e5b-4a79-8c61-0d2e9f7b4c13"  # ada, in the default world
SEEDED_RG = "rg-myapp-prod-uks-01"
MG = "/providers/Microsoft.Management/managementGroups/mg-platform"
RD = "/providers/Microsoft.Authorization/roleDefinitions"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
KV_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
WEB = "2024-11-01"


def role_id(guid: str) -> str:
    return f"/subscriptions/{SUB}{RD}/{guid}"


def code_of(err: pytest.ExceptionInfo[HttpResponseError]) -> str:
    assert err.value.error is not None
    return str(err.value.error.code)


@pytest.fixture
def auth(
    credential: ManagedIdentityCredential, sdk_kwargs: dict[str, Any]
) -> Iterator[AuthorizationManagementClient]:
    with AuthorizationManagementClient(credential, SUB, **sdk_kwargs) as client:
        yield client


@pytest.fixture
def setup(
    credential: ManagedIdentityCredential, sdk_kwargs: dict[str, Any]
) -> Iterator[tuple[str, str, str]]:
    """A resource group of its own with a user-assigned identity and a web app in it:
    (group scope, identity principal id, web app id)."""
    name = f"rg-authz-{uuid.uuid4().hex[:8]}"
    with (
        ResourceManagementClient(credential, SUB, **sdk_kwargs) as rm,
        ManagedServiceIdentityClient(credential, SUB, **sdk_kwargs) as msi,
    ):
        rm.resource_groups.create_or_update(name, {"location": "uksouth"})
        identity = msi.user_assigned_identities.create_or_update(
            name, "id-grantee", {"location": "uksouth"}
        )
        site = f"/subscriptions/{SUB}/resourceGroups/{name}/providers/Microsoft.Web/sites/app-x"
        rm.resources.begin_create_or_update_by_id(
            site, {"location": "uksouth", "kind": "app"}, api_version=WEB
        ).result(timeout=20)
        yield f"/subscriptions/{SUB}/resourceGroups/{name}", str(identity.principal_id), site
        rm.resource_groups.begin_delete(name).result(timeout=20)


def create(
    auth: AuthorizationManagementClient, scope: str, role: str, principal: str, **extra: Any
) -> Any:
    name = extra.pop("name", None) or str(uuid.uuid4())
    params = {"role_definition_id": role_id(role), "principal_id": principal, **extra}
    return auth.role_assignments.create(scope, name, params)


def test_role_definitions(auth: AuthorizationManagementClient) -> None:
    found = list(
        auth.role_definitions.list(
            f"/subscriptions/{SUB}", filter="roleName eq 'Key Vault Secrets User'"
        )
    )
    assert [(r.name, r.role_name, r.role_type) for r in found] == [
        (KV_SECRETS_USER, "Key Vault Secrets User", "BuiltInRole")
    ]
    assert found[0].id == role_id(KV_SECRETS_USER)
    by_id = auth.role_definitions.get_by_id(f"{RD}/{READER}")
    assert by_id.role_name == "Reader"
    assert by_id.assignable_scopes == ["/"]
    assert by_id.permissions is not None
    assert by_id.permissions[0].actions == ["*/read"]
    at_scope = auth.role_definitions.get(f"/subscriptions/{SUB}", CONTRIBUTOR)
    assert at_scope.id == role_id(CONTRIBUTOR)
    assert at_scope.permissions is not None
    assert "Microsoft.Authorization/*/Write" in (at_scope.permissions[0].not_actions or [])
    builtins = list(
        auth.role_definitions.list(f"/subscriptions/{SUB}", filter="type eq 'BuiltInRole'")
    )
    assert len(builtins) == 935
    with pytest.raises(ResourceNotFoundError) as err:
        auth.role_definitions.get_by_id(f"{RD}/00000000-0000-0000-0000-0000000000ff")
    assert code_of(err) == "RoleDefinitionDoesNotExist"


def test_custom_role_definition(auth: AuthorizationManagementClient, setup: Any) -> None:
    scope, principal, _ = setup
    guid = str(uuid.uuid4())
    role_name = f"Site Reader {guid[:8]}"
    created = auth.role_definitions.create_or_update(
        scope,
        guid,
        {
            "role_name": role_name,
            "description": "read sites",
            "permissions": [{"actions": ["Microsoft.Web/sites/read"]}],
            "assignable_scopes": [scope],
        },
    )
    assert created.role_type == "CustomRole"
    assert [
        r.name for r in auth.role_definitions.list(scope, filter=f"roleName eq '{role_name}'")
    ] == [guid]
    params = {"role_definition_id": created.id, "principal_id": principal}
    assignment = auth.role_assignments.create(scope, str(uuid.uuid4()), params)
    auth.role_assignments.delete_by_id(str(assignment.id))
    deleted = auth.role_definitions.delete(scope, guid)
    assert deleted is not None
    assert deleted.role_name == role_name
    assert auth.role_definitions.delete(scope, guid) is None


def test_role_assignment_lifecycle(auth: AuthorizationManagementClient, setup: Any) -> None:
    scope, principal, _ = setup
    name = str(uuid.uuid4())
    created = create(
        auth, scope, KV_SECRETS_USER, principal,
        name=name, principal_type="ServicePrincipal", description="app reads secrets",
    )  # fmt: skip
    assert created.id == f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"
    assert created.scope == scope
    assert created.role_definition_id == role_id(KV_SECRETS_USER)
    assert created.principal_type == "ServicePrincipal"
    assert created.created_on is not None
    assert created.created_by == created.updated_by
    assert created.created_by  # the operator's object id
    got = auth.role_assignments.get(scope, name)
    assert got.as_dict() == created.as_dict()
    by_id = auth.role_assignments.get_by_id(str(created.id))
    assert by_id.name == name
    updated = create(auth, scope, KV_SECRETS_USER, principal, name=name, description="new")
    assert updated.description == "new"
    deleted = auth.role_assignments.delete(scope, name)
    assert deleted is not None
    assert deleted.name == name
    assert auth.role_assignments.delete(scope, name) is None
    with pytest.raises(ResourceNotFoundError) as err:
        auth.role_assignments.get(scope, name)
    assert code_of(err) == "RoleAssignmentNotFound"
    again = auth.role_assignments.create_by_id(
        str(created.id), {"role_definition_id": role_id(KV_SECRETS_USER), "principal_id": principal}
    )
    assert again.principal_type == "ServicePrincipal"  # from the directory
    assert auth.role_assignments.delete_by_id(str(created.id)) is not None
    assert auth.role_assignments.delete_by_id(str(created.id)) is None


def test_role_assignment_errors(auth: AuthorizationManagementClient, setup: Any) -> None:
    scope, principal, site = setup
    name = str(uuid.uuid4())
    create(auth, scope, READER, principal, name=name)
    with pytest.raises(ResourceExistsError) as exists:
        create(auth, scope, READER, principal)
    assert code_of(exists) == "RoleAssignmentExists"
    assert name.replace("-", "") in str(exists.value.error.message)  # type: ignore[union-attr]
    with pytest.raises(HttpResponseError) as immutable:
        create(auth, scope, CONTRIBUTOR, principal, name=name)
    assert code_of(immutable) == "RoleAssignmentUpdateNotPermitted"
    with pytest.raises(HttpResponseError) as moved:
        create(auth, site, READER, principal, name=name)
    assert code_of(moved) == "RoleAssignmentUpdateNotPermitted"
    with pytest.raises(HttpResponseError) as bad_name:
        create(auth, scope, READER, principal, name="not-a-guid")
    assert code_of(bad_name) == "InvalidRoleAssignmentId"
    with pytest.raises(HttpResponseError) as no_role:
        create(auth, scope, "00000000-0000-0000-0000-0000000000ff", principal)
    assert code_of(no_role) == "RoleDefinitionDoesNotExist"
    with pytest.raises(HttpResponseError) as nobody:
        create(auth, scope, READER, str(uuid.uuid4()))
    assert code_of(nobody) == "PrincipalNotFound"
    with pytest.raises(HttpResponseError) as mismatch:
        create(auth, scope, CONTRIBUTOR, principal, principal_type="User")
    assert code_of(mismatch) == "UnmatchedPrincipalType"
    with pytest.raises(HttpResponseError) as long_text:
        create(auth, scope, CONTRIBUTOR, principal, description="x" * 2049)
    assert code_of(long_text) == "InvalidRoleAssignmentDescription"
    with pytest.raises(HttpResponseError) as old_condition:
        create(auth, scope, CONTRIBUTOR, principal, condition="ActionMatches{'a/b'}",
               condition_version="1.0")  # fmt: skip
    assert code_of(old_condition) == "InvalidRoleAssignmentCondition"
    with pytest.raises(ResourceNotFoundError) as no_group:
        create(auth, f"/subscriptions/{SUB}/resourceGroups/rg-nope", READER, principal)
    assert code_of(no_group) == "ResourceGroupNotFound"


def test_lists_and_filters(auth: AuthorizationManagementClient, setup: Any) -> None:
    scope, principal, site = setup
    group = scope.rsplit("/", 1)[-1]
    at_group = create(auth, scope, READER, principal).name
    at_site = create(auth, site, CONTRIBUTOR, principal).name
    mine = {
        a.name
        for a in auth.role_assignments.list_for_subscription(filter=f"principalId eq '{principal}'")
    }
    assert mine == {at_group, at_site}
    in_group = {a.name for a in auth.role_assignments.list_for_resource_group(group)}
    assert {at_group, at_site} <= in_group
    seeded = {
        a.name for a in auth.role_assignments.list_for_resource_group(SEEDED_RG, filter="atScope()")
    }
    assert at_group not in seeded
    assert any(
        a.principal_id == USER for a in auth.role_assignments.list_for_resource_group(SEEDED_RG)
    )
    at_scope = {
        a.name for a in auth.role_assignments.list_for_resource_group(group, filter="atScope()")
    }
    assert at_group in at_scope
    assert at_site not in at_scope
    for_site = auth.role_assignments.list_for_resource(
        group, "Microsoft.Web", "sites", "app-x", filter=f"assignedTo('{principal}')"
    )
    assert {a.name for a in for_site} == {at_group, at_site}
    for_scope = auth.role_assignments.list_for_scope(site, filter="atScope()")
    assert {at_group, at_site} <= {a.name for a in for_scope}
    at_mg = list(auth.role_assignments.list_for_scope(MG, filter=f"principalId eq '{principal}'"))
    assert {a.name for a in at_mg} == {at_group, at_site}
    with pytest.raises(HttpResponseError) as unsupported:
        list(auth.role_assignments.list_for_subscription(filter="principalName eq 'x'"))
    assert code_of(unsupported) == "UnsupportedQuery"


def test_permissions_for_the_caller(auth: AuthorizationManagementClient) -> None:
    perms = list(auth.permissions.list_for_resource_group(SEEDED_RG))
    assert perms
    assert any(p.actions == ["*"] for p in perms)  # the operator is Owner


@pytest.fixture
def own_cloud(
    fresh_emulator: Callable[..., RunningEmulator],
    identity_env: Callable[[RunningEmulator], None],
) -> Iterator[Callable[[Settings], tuple[RunningEmulator, AuthorizationManagementClient, Any]]]:
    clients: list[Any] = []

    def make(settings: Settings) -> tuple[RunningEmulator, AuthorizationManagementClient, Any]:
        emu = fresh_emulator(settings=settings)
        identity_env(emu)
        cred = ManagedIdentityCredential(connection_verify=emu.info.ca_bundle)
        auth = AuthorizationManagementClient(cred, SUB, **emu.sdk_kwargs())
        msi = ManagedServiceIdentityClient(cred, SUB, **emu.sdk_kwargs())
        clients.extend([auth, msi, cred])
        return emu, auth, msi

    yield make
    for c in reversed(clients):
        c.close()


def test_paging_replication_and_limits(own_cloud: Any) -> None:
    emu, auth, msi = own_cloud(
        Settings(page_size=2, replication_window_s=3600, role_assignment_limit=8)
    )
    identity = msi.user_assigned_identities.create_or_update(
        SEEDED_RG, "id-new", {"location": "uksouth"}
    )
    rg_scope = f"/subscriptions/{SUB}/resourceGroups/{SEEDED_RG}"
    with pytest.raises(HttpResponseError) as replicating:
        create(auth, rg_scope, READER, str(identity.principal_id))
    assert code_of(replicating) == "PrincipalNotFound"
    roles = [READER, CONTRIBUTOR, KV_SECRETS_USER, "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
             "21090545-7ca7-4776-b22c-e363652d74d2"]  # fmt: skip
    names = {
        create(auth, rg_scope, role, str(identity.principal_id),
               principal_type="ServicePrincipal").name
        for role in roles
    }  # fmt: skip
    emu.reset_stats()
    flt = f"principalId eq '{identity.principal_id}'"
    listed = {a.name for a in auth.role_assignments.list_for_subscription(filter=flt)}
    assert listed == names
    assert emu.stats()["by_route"]["authorization.roleAssignments.list"] == 3
    everything = list(auth.role_assignments.list_for_scope(rg_scope))
    assert len(everything) >= 6
    # the world holds two assignments in this subscription: 2 + 5 + 1 reaches the limit of 8
    sp = {"principal_type": "ServicePrincipal"}
    create(auth, rg_scope, "00482a5a-887f-4fb3-b363-3b7fe8e74483", str(identity.principal_id), **sp)
    with pytest.raises(HttpResponseError) as limit:
        create(auth, rg_scope, "12338af0-0e69-4776-bea7-57ae8d297424", identity.principal_id, **sp)
    assert code_of(limit) == "RoleAssignmentLimitExceeded"
