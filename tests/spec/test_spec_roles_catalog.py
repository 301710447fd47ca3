"""The offline built-in role catalog in core.roles."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from identity_reconciler.core import armid, privilege, roles

KV_USER = "4633458b-17de-408a-b874-0445c86b69e6"


def test_catalog_is_complete_and_cached() -> None:
    catalog = roles.catalog()
    assert len(catalog) == 935
    assert roles.catalog() is catalog
    raw = json.loads(
        resources.files("identity_reconciler.data").joinpath("builtin-roles.json").read_bytes()
    )
    for item in raw:
        role = catalog.by_guid(item["id"])
        assert role is not None
        assert catalog.by_name(item["roleName"]) is role


def test_names_stay_unique_after_normalising() -> None:
    names = [roles.normalise_name(r.name) for r in roles.catalog().roles()]
    assert len(names) == len(set(names))


@pytest.mark.parametrize(
    "guid",
    [roles.OWNER, roles.CONTRIBUTOR, roles.READER, roles.USER_ACCESS_ADMINISTRATOR,
     roles.RBAC_ADMINISTRATOR],
)
def test_named_constants_are_built_in(guid: str) -> None:
    assert roles.catalog().by_guid(guid) is not None


def test_the_four_named_roles_are_still_privileged() -> None:
    for guid in (roles.OWNER, roles.CONTRIBUTOR, roles.USER_ACCESS_ADMINISTRATOR,
                 roles.RBAC_ADMINISTRATOR):
        assert privilege.of_guid(guid).privileged


@pytest.mark.parametrize(
    "text",
    [
        "Key Vault Secrets User", "key vault secrets user", "  KEY  VAULT\tSECRETS USER ",
        KV_USER, KV_USER.upper(), f"/providers/Microsoft.Authorization/roleDefinitions/{KV_USER}",
        f"/subscriptions/11111111-1111-1111-1111-111111111111/providers/"
        f"Microsoft.Authorization/roleDefinitions/{KV_USER}/",
    ],
)
def test_resolve_forms(text: str) -> None:
    ref = roles.catalog().resolve(text)
    assert (ref.guid, ref.name, ref.builtin, ref.former_name) == (
        KV_USER, "Key Vault Secrets User", True, None,
    )
    role = roles.catalog().by_guid(KV_USER)
    assert role is not None
    assert armid.role_definition_guid(role.id) == KV_USER


def test_trailing_space_in_a_catalog_name_is_trimmed() -> None:
    ref = roles.catalog().resolve("azure arc vmware administrator role")
    assert ref.name == "Azure Arc VMware Administrator role"


def test_former_names() -> None:
    ref = roles.catalog().resolve("Azure AI User")
    assert (ref.name, ref.former_name) == ("Foundry User", "Azure AI User")
    multi_hop = roles.catalog().resolve("code signing identity verifier")
    assert multi_hop.name == "Artifact Signing Identity Verifier"


def test_unknown_guid_is_a_custom_role() -> None:
    ref = roles.catalog().resolve("AAAAAAAA-0000-4000-8000-000000000000")
    assert (ref.guid, ref.builtin, ref.role) == (
        "aaaaaaaa-0000-4000-8000-000000000000", False, None,
    )


def test_unknown_name_suggests() -> None:
    with pytest.raises(roles.UnknownRoleError) as info:
        roles.catalog().resolve("Key Vault Secret User")
    assert info.value.suggestions[0] == "Key Vault Secrets User"
    assert "did you mean" in str(info.value)
    with pytest.raises(roles.UnknownRoleError) as fragment:
        roles.catalog().resolve("blob data reader")
    assert "Storage Blob Data Reader" in fragment.value.suggestions
    with pytest.raises(roles.UnknownRoleError) as nothing:
        roles.catalog().resolve("zzzzzzzz")
    assert nothing.value.suggestions == ()


def test_malformed_ids_are_refused() -> None:
    with pytest.raises(armid.ArmIdError):
        roles.catalog().resolve("/providers/Microsoft.Authorization/roleDefinitions/nope")
    with pytest.raises(armid.ArmIdError):
        roles.catalog().resolve("/subscriptions/x/providers/Microsoft.Web/sites/" + KV_USER)


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("Key Vault Secrets User", "Microsoft.KeyVault/vaults"),
        ("Key Vault Administrator", "Microsoft.KeyVault/vaults"),
        ("Storage Blob Data Reader", "Microsoft.Storage/storageAccounts"),
        ("Storage Queue Data Message Sender", "Microsoft.Storage/storageAccounts"),
        ("Owner", None),
        ("Reader", None),
        ("Storage Account Contributor", None),
    ],
)
def test_data_plane_type(name: str, target: str | None) -> None:
    role = roles.catalog().by_name(name)
    assert role is not None
    assert role.data_plane_type == target


def _packaged_text() -> str:
    return (
        resources.files("identity_reconciler.data").joinpath("builtin-roles.json").read_text()
    )


def test_the_packaged_catalog_is_read_one_line_per_role() -> None:
    """One role per line: a run parses only the roles it names (validate's start-up)."""
    catalog = roles.RoleCatalog.from_text(_packaged_text())
    assert len(catalog) == 935
    assert catalog._built == {}  # nothing parsed until asked
    catalog.resolve("Key Vault Secrets User")
    assert list(catalog._built) == [KV_USER]


@pytest.mark.parametrize("layout", ["one role per line", "indented", "single line"])
def test_every_layout_gives_the_same_catalog(layout: str) -> None:
    """The line reader and a whole parse agree on every role, names with quotes included."""
    raw = json.loads(_packaged_text())
    raw.append({"roleName": 'A "quoted" \\ role', "id": "AAAAAAAA-0000-4000-8000-00000000000A",
                "permissions": [{"actions": ["x/y/read"]}]})
    text = {
        "one role per line": "[\n" + ",\n".join(json.dumps(r) for r in raw) + "\n]\n",
        "indented": json.dumps(raw, indent=2),
        "single line": json.dumps(raw),
    }[layout]
    catalog = roles.RoleCatalog.from_text(text)
    whole = roles.RoleCatalog.from_json(raw)
    assert catalog.roles() == whole.roles()
    quoted = whole.by_guid("aaaaaaaa-0000-4000-8000-00000000000a")
    assert quoted is not None
    assert catalog.by_name('a "quoted" \\ role') == quoted
