"""ARM id shapes at their edges: what parses into which scope, and what must be an error.

A scope that parses as the wrong kind changes what a grant covers (a provider path read as a
resource group, a provider id read as a management group), so every boundary of the grammar
is pinned from both sides: the last shape that is accepted and the first that is not.
"""

from __future__ import annotations

import pytest

from identity_reconciler.core import armid
from identity_reconciler.core.armid import ArmIdError, ScopeKind

G = "11111111-2222-3333-4444-555555555555"
SUB = f"/subscriptions/{G}"
RG = f"{SUB}/resourceGroups/rg-app"
ROLE = "4633458b-17de-408a-b874-0445c86b69e6"


@pytest.mark.parametrize(
    ("text", "kind", "canonical"),
    [
        (
            "/providers/Microsoft.Management/managementGroups/mg-1",
            ScopeKind.MANAGEMENT_GROUP,
            "/providers/Microsoft.Management/managementGroups/mg-1",
        ),
        (
            "/PROVIDERS/microsoft.management/MANAGEMENTGROUPS/mg-1",
            ScopeKind.MANAGEMENT_GROUP,
            "/providers/Microsoft.Management/managementGroups/mg-1",
        ),
        (f"/subscriptions/{G.upper()}", ScopeKind.SUBSCRIPTION, SUB),
        (f"{SUB}/resourcegroups/rg-app", ScopeKind.RESOURCE_GROUP, RG),
        (f"/SUBSCRIPTIONS/{G}/RESOURCEGROUPS/rg-app", ScopeKind.RESOURCE_GROUP, RG),
        (
            f"{RG}/PROVIDERS/Microsoft.KeyVault/vaults/kv-1",
            ScopeKind.RESOURCE,
            f"{RG}/providers/Microsoft.KeyVault/vaults/kv-1",
        ),
        (
            f"{RG}/providers/Microsoft.Sql/servers/sql-1/databases/appdb",
            ScopeKind.RESOURCE,
            f"{RG}/providers/Microsoft.Sql/servers/sql-1/databases/appdb",
        ),
    ],
)
def test_accepted_shapes_and_their_canonical_id(text: str, kind: ScopeKind, canonical: str) -> None:
    scope = armid.parse_scope(text)
    assert scope.kind is kind
    assert scope.id == canonical
    assert scope.key == canonical.lower()


def test_the_parts_of_a_nested_resource() -> None:
    scope = armid.parse_scope(f"{RG}/providers/Microsoft.Sql/servers/sql-1/databases/appdb")
    assert scope.subscription_id == G
    assert scope.resource_group == "rg-app"
    assert scope.namespace == "Microsoft.Sql"
    assert scope.types == ("servers", "databases")
    assert scope.names == ("sql-1", "appdb")
    assert scope.resource_type == "Microsoft.Sql/servers/databases"
    assert scope.name == "appdb"


def test_scopes_above_a_resource_have_no_type_or_name() -> None:
    for text in (RG, SUB, "/providers/Microsoft.Management/managementGroups/mg-1"):
        scope = armid.parse_scope(text)
        assert scope.resource_type is None
        assert scope.name is None
    assert armid.parse_scope(RG).resource_group == "rg-app"
    mg = armid.parse_scope("/providers/Microsoft.Management/managementGroups/mg-1")
    assert mg.management_group == "mg-1"
    assert mg.subscription_id is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "/",
        "//",
        f"  {SUB}",
        f"{SUB}/",
        f"{RG}/",
        f"{SUB}/resourceGroups/./x",
        f"subscriptions/{G}",
        f"/subscriptions//{G}",
        f"{SUB}//resourceGroups/rg-app",
        # management groups: exactly /providers/Microsoft.Management/managementGroups/<name>
        "/providers/Microsoft.Foo/bar/baz",
        "/providers/Microsoft.Management/bar/baz",
        "/providers/Microsoft.Foo/managementGroups/baz",
        "/providers/Microsoft.Management/managementGroups",
        "/providers/Microsoft.Management/managementGroups/mg-1/extra",
        "/providers/Microsoft.Management/managementGroups/mg!1",
        "/providers/Microsoft.Management/managementGroups/" + "m" * 91,
        "/providers",
        # subscriptions
        "/subscriptions",
        "/tenants/x",
        "/subscriptions/not-a-guid",
        f"/subscriptions/{G}x",
        # after the subscription: only /resourceGroups/<name>
        f"{SUB}/providers/Microsoft.Foo",
        f"{SUB}/providers/Microsoft.Foo/bar/baz",
        f"{SUB}/resourceGroups",
        f"{SUB}/resourceGroup/rg-app",
        f"{SUB}/resourceGroups/rg.",
        f"{SUB}/resourceGroups/rg app",
        f"{SUB}/resourceGroups/" + "r" * 91,
        # after the resource group: /providers/<Namespace>/<type>/<name>[/<type>/<name>...]
        f"{RG}/providers",
        f"{RG}/providers/Microsoft.Foo",
        f"{RG}/providers/Microsoft.Foo/bar",
        f"{RG}/providers/Microsoft.Foo/bar/baz/qux",
        f"{RG}/provider/Microsoft.Foo/bar/baz",
        f"{RG}/extra/Microsoft.Foo/bar/baz",
        f"{RG}/providers/Microsoft/vaults/kv-1",
        f"{RG}/providers/1Microsoft.Foo/vaults/kv-1",
        f"{RG}/providers/Microsoft.KeyVault/vaults/kv?1",
        f"{RG}/providers/Microsoft.KeyVault/vaults/kv#1",
        f"{RG}/providers/Microsoft.KeyVault/va?ults/kv-1",
    ],
)
def test_malformed_shapes_are_errors(text: str) -> None:
    with pytest.raises(ArmIdError):
        armid.parse_scope(text)


def test_a_non_string_scope_is_an_error() -> None:
    with pytest.raises(ArmIdError, match="non-empty ARM id"):
        armid.parse_scope(None)  # type: ignore[arg-type]


def test_the_root_scope_names_the_alternative() -> None:
    with pytest.raises(ArmIdError, match="management group instead"):
        armid.parse_scope("/")


@pytest.mark.parametrize(
    "text",
    [
        "/providers/Microsoft.Management/managementGroups/" + "m" * 90,
        f"{SUB}/resourceGroups/" + "r" * 90,
        f"{SUB}/resourceGroups/rg.app_(1)",
        f"{SUB}/resourceGroups/r",
    ],
)
def test_names_at_the_length_and_character_limits_are_accepted(text: str) -> None:
    assert armid.parse_scope(text).id == text


def test_resource_and_identity_ids_are_built_canonically() -> None:
    assert armid.resource_id(G, "rg-app", "Microsoft.KeyVault/vaults", "kv-1") == (
        f"{RG}/providers/Microsoft.KeyVault/vaults/kv-1"
    )
    assert armid.identity_id(G, "rg-app", "id-1") == (
        f"{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-1"
    )


@pytest.mark.parametrize("rtype", ["Microsoft.KeyVault", "Microsoft.Sql/servers/databases"])
def test_a_resource_type_must_be_namespace_slash_type(rtype: str) -> None:
    with pytest.raises(ArmIdError):
        armid.resource_id(G, "rg-app", rtype, "x")


def test_key_is_lower_case_without_trailing_slashes() -> None:
    assert armid.key(f"{RG.upper()}//") == RG.lower()
    assert armid.key(RG) == RG.lower()


@pytest.mark.parametrize(
    "value",
    [
        ROLE,
        ROLE.upper(),
        f" {ROLE} ",
        f"/providers/Microsoft.Authorization/roleDefinitions/{ROLE}",
        f"{SUB}/providers/Microsoft.Authorization/roleDefinitions/{ROLE.upper()}/",
        f"{SUB}/PROVIDERS/MICROSOFT.AUTHORIZATION/ROLEDEFINITIONS/{ROLE}",
    ],
)
def test_role_definition_guid_from_every_id_form(value: str) -> None:
    assert armid.role_definition_guid(value) == ROLE


@pytest.mark.parametrize(
    "value",
    [
        "not-a-guid",
        "",
        f"{SUB}/providers/Microsoft.Authorization/roleAssignments/{ROLE}",
        f"/providers/Microsoft.Authorization/roleDefinitions/{ROLE}x",
        f"{RG}/{ROLE}",
    ],
)
def test_what_is_not_a_role_definition_id(value: str) -> None:
    with pytest.raises(ArmIdError):
        armid.role_definition_guid(value)


def test_role_definition_id_forms() -> None:
    tenant = f"/providers/Microsoft.Authorization/roleDefinitions/{ROLE}"
    assert armid.role_definition_id(ROLE.upper()) == tenant
    assert armid.role_definition_id(ROLE, G) == f"{SUB}{tenant}"
    assert armid.role_definition_id(ROLE, "") == tenant


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, set()),
        ("", set()),
        ("None", set()),
        ("SystemAssigned", {"systemassigned"}),
        ("SystemAssigned, UserAssigned", {"systemassigned", "userassigned"}),
        ("SystemAssigned,UserAssigned", {"systemassigned", "userassigned"}),
        ("UserAssigned,", {"userassigned"}),
        ("None, UserAssigned", {"userassigned"}),
    ],
)
def test_identity_type_spellings(value: str | None, expected: set[str]) -> None:
    assert armid.normalise_identity_type(value) == frozenset(expected)


def test_breadth_orders_the_kinds_and_subscription_is_the_first_broad_one() -> None:
    order = [ScopeKind.RESOURCE, ScopeKind.RESOURCE_GROUP, ScopeKind.SUBSCRIPTION]
    assert [k.breadth for k in [*order, ScopeKind.MANAGEMENT_GROUP]] == [0, 1, 2, 3]


# --------------------------------------------------------------------------- ids written

ASSIGNMENT = "0f1e2d3c-4b5a-4968-8776-655443322110"
MI = f"{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-app"


def test_a_role_assignment_at_the_root_scope_is_refused_by_name() -> None:
    with pytest.raises(ArmIdError, match="root scope are not managed"):
        armid.parse_id(f"/providers/Microsoft.Authorization/roleAssignments/{ASSIGNMENT}")


def test_an_authorization_object_is_not_a_scope() -> None:
    with pytest.raises(ArmIdError, match="authorization object"):
        armid.parse_scope(f"{RG}/providers/Microsoft.Authorization/locks/lock-1")


def test_canonical_spelling_of_an_id() -> None:
    shouted = f"/SUBSCRIPTIONS/{G.upper()}/RESOURCEGROUPS/rg-app"
    spelled = f"{shouted}/PROVIDERS/microsoft.authorization/ROLEASSIGNMENTS/{ASSIGNMENT}"
    assert armid.canonical(spelled) == (
        f"{RG}/providers/Microsoft.Authorization/roleAssignments/{ASSIGNMENT}"
    )
    with pytest.raises(ArmIdError):
        armid.canonical("/subscriptions/x")


def test_the_identity_a_credential_sits_under() -> None:
    shouted = MI.replace("/providers/", "/PROVIDERS/").replace(
        "/resourceGroups/", "/RESOURCEGROUPS/"
    )
    fic = f"{shouted}/FEDERATEDIDENTITYCREDENTIALS/github"
    assert armid.identity_of_credential(fic) == MI
    with pytest.raises(ArmIdError, match="not a federated credential id"):
        armid.identity_of_credential(MI)


@pytest.mark.parametrize("rtype", ["Microsoft.KeyVault", "Microsoft.Sql/servers/databases"])
def test_a_resource_type_names_what_it_must_be(rtype: str) -> None:
    with pytest.raises(ArmIdError, match="must be <Namespace>/<type>"):
        armid.resource_id(G, "rg-app", rtype, "x")


def test_an_assignment_name_must_be_a_guid() -> None:
    with pytest.raises(ArmIdError, match="is not a GUID"):
        armid.parse_id(f"{SUB}/providers/Microsoft.Authorization/roleAssignments/not-a-guid")


def test_split_role_assignment() -> None:
    assignment = f"{RG}/providers/Microsoft.Authorization/roleAssignments/{ASSIGNMENT.upper()}"
    assert armid.split_role_assignment(assignment) == (RG, ASSIGNMENT)
    with pytest.raises(ArmIdError, match="is not a role assignment id"):
        armid.split_role_assignment(MI)


def test_an_empty_segment_is_refused_by_name() -> None:
    with pytest.raises(ArmIdError, match="empty segment"):
        armid.parse_scope(f"{SUB}//resourceGroups/rg-app")
