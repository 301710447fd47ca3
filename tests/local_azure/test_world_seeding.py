"""World files: the default scenario, validation messages, idempotence and determinism."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from resources_cloud import (
    ADMIN,
    APP,
    DB,
    FUNC,
    GROUP,
    OPERATOR,
    RG_ID,
    SITE,
    SQL,
    STORAGE,
    SUB,
    SUB2,
    TENANT,
    USER,
    VAULT,
    VM,
    make_cloud,
)

from local_azure import world
from local_azure.kernel import Context, Settings
from local_azure.providers import authorization
from local_azure.store import Store

OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
RA_TYPE = "Microsoft.Authorization/roleAssignments"


def _minimal(**extra: Any) -> dict[str, Any]:
    return {"tenant_id": TENANT, "subscriptions": [{"id": SUB, "display_name": "one"}], **extra}


def _snapshot(store: Store) -> tuple[list[Any], list[Any]]:
    docs = sorted(
        (d["id"].lower(), json.dumps(d, sort_keys=True))
        for t in _types(store)
        for d in store.by_type(t)
    )
    return docs, sorted(store.principals(), key=lambda p: p.object_id)


def _doc(store: Store, arm_id: str) -> dict[str, Any]:
    doc = store.get(arm_id)
    assert doc is not None, arm_id
    return doc


def _types(store: Store) -> list[str]:
    return [
        "tenant",
        "subscription",
        "Microsoft.Management/managementGroups",
        "Microsoft.Resources/resourceGroups",
        "Microsoft.Web/sites",
        "Microsoft.KeyVault/vaults",
        "Microsoft.Storage/storageAccounts",
        "Microsoft.Compute/virtualMachines",
        "Microsoft.App/containerApps",
        "Microsoft.Sql/servers",
        "Microsoft.Sql/servers/databases",
        "Microsoft.Sql/servers/administrators",
        RA_TYPE,
    ]


def test_default_world_has_the_seed_scenario() -> None:
    cloud = make_cloud()
    store = cloud.ctx.store
    assert cloud.ctx.tenant_id == TENANT
    assert store.meta_get("tenant_id") == TENANT
    assert _doc(store, f"/subscriptions/{SUB}")["displayName"] == "Local Dev"
    assert store.get(f"/subscriptions/{SUB2}") is not None
    for sub in (SUB, SUB2):
        assert _doc(store, f"/subscriptions/{sub}")["_managementGroups"] == [
            "/providers/Microsoft.Management/managementGroups/mg-platform"
        ]
    assert _doc(store, RG_ID)["location"] == "uksouth"
    for rid in (SITE, FUNC, VAULT, STORAGE, VM, APP, SQL, DB, ADMIN):
        assert store.get(rid) is not None, rid
    assert _doc(store, FUNC)["kind"] == "functionapp"
    user, group = store.get_principal(USER), store.get_principal(GROUP)
    assert user is not None
    assert user.kind == "User"
    assert group is not None
    assert group.kind == "Group"
    assert store.meta_get("operator_object_id") == OPERATOR
    assert store.get_principal(OPERATOR) is not None
    grants = {
        (
            a["properties"]["scope"].lower(),
            a["properties"]["roleDefinitionId"].rsplit("/", 1)[1],
            a["properties"]["principalId"],
        )
        for a in store.by_type(RA_TYPE)
    }
    assert grants == {
        (f"/subscriptions/{SUB}", OWNER, OPERATOR),
        (f"/subscriptions/{SUB2}", OWNER, OPERATOR),
        (RG_ID.lower(), READER, USER),
    }


def test_loading_twice_changes_nothing() -> None:
    cloud = make_cloud()
    before = _snapshot(cloud.ctx.store)
    world.load(cloud.ctx, None)
    assert _snapshot(cloud.ctx.store) == before


def test_reseeding_a_persistent_store_keeps_runtime_changes(tmp_path: Path) -> None:
    def open_ctx() -> Context:
        ctx = Context(store=Store(tmp_path / "state.sqlite"), settings=Settings(), tenant_id="x")
        authorization.seed_builtin_roles(ctx)
        world.load(ctx, None)
        return ctx

    ctx = open_ctx()
    site = ctx.store.get(SITE)
    assert site is not None
    site["tags"] = {"changed": "at runtime"}
    ctx.store.put(SITE, "Microsoft.Web/sites", RG_ID, site)
    before = _snapshot(ctx.store)
    ctx.store.close()
    ctx = open_ctx()
    assert _snapshot(ctx.store) == before
    ctx.store.close()


def test_system_assigned_principals_from_a_world_are_deterministic() -> None:
    spec = _minimal()
    spec["subscriptions"][0]["resource_groups"] = [
        {
            "name": "rg-a",
            "location": "westeurope",
            "resources": [
                {"type": "Microsoft.Web/sites", "name": "app-a", "system_assigned": True}
            ],
        }
    ]
    site = f"/subscriptions/{SUB}/resourceGroups/rg-a/providers/Microsoft.Web/sites/app-a"
    first = make_cloud(spec).ctx.store.get(site)
    second = make_cloud(spec).ctx.store.get(site)
    assert first is not None
    assert second is not None
    assert first["identity"]["principalId"] == second["identity"]["principalId"]
    assert first["location"] == "West Europe"


def test_world_tenant_becomes_the_emulators() -> None:
    other = "44444444-4444-4444-4444-444444444444"
    cloud = make_cloud({"tenant_id": other})
    assert cloud.ctx.tenant_id == other
    assert cloud.ctx.store.get(f"/tenants/{other}") is not None


def test_world_from_json_and_yaml_files(tmp_path: Path) -> None:
    as_json = tmp_path / "world.json"
    as_json.write_text(json.dumps(_minimal()))
    as_yaml = tmp_path / "world.yaml"
    as_yaml.write_text(
        f"tenant_id: {TENANT}\nsubscriptions:\n  - {{id: {SUB}, display_name: one}}\n"
    )
    assert world.read(as_json) == world.read(str(as_yaml))


def test_operator_without_ids_gets_stable_ones() -> None:
    spec = _minimal(operator={"roles": [{"role": "Contributor", "scope": f"/subscriptions/{SUB}"}]})
    a, b = make_cloud(spec), make_cloud(spec)
    oid = a.ctx.store.meta_get("operator_object_id")
    assert oid
    assert oid == b.ctx.store.meta_get("operator_object_id")
    (grant,) = a.ctx.store.by_type(RA_TYPE)
    assert grant["properties"]["principalId"] == oid


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"tenant_id": "nope"}, "tenant_id: 'nope' is not a GUID"),
        ({"surprise": 1}, "surprise: Extra inputs are not permitted"),
        ({"subscriptions": [{"id": SUB}]}, "subscriptions[0].display_name: Field required"),
        (
            {
                "subscriptions": [
                    {
                        "id": SUB,
                        "display_name": "x",
                        "resource_groups": [{"name": "rg", "location": "mars"}],
                    }
                ]
            },
            "subscriptions[0].resource_groups[0].location: 'mars' is not a known region",
        ),
        (
            {
                "subscriptions": [
                    {
                        "id": SUB,
                        "display_name": "x",
                        "resource_groups": [
                            {
                                "name": "rg",
                                "location": "uksouth",
                                "resources": [{"type": "Foo.bars", "name": "b"}],
                            }
                        ],
                    }
                ]
            },
            "resource_groups[0].resources[0]: type 'Foo.bars' is not a resource type",
        ),
        (
            {
                "subscriptions": [
                    {
                        "id": SUB,
                        "display_name": "x",
                        "resource_groups": [
                            {
                                "name": "rg",
                                "location": "uksouth",
                                "resources": [
                                    {"type": "Microsoft.Web/sites", "name": "a", "databases": ["d"]}
                                ],
                            }
                        ],
                    }
                ]
            },
            "entra_admin and databases are only allowed on Microsoft.Sql/servers",
        ),
        (
            {
                "role_assignments": [
                    {"scope": f"/subscriptions/{SUB}", "role": "Overlord", "principal_id": USER}
                ]
            },
            "role_assignments[0].role: 'Overlord' is not a built-in role name or id",
        ),
        (
            {
                "role_assignments": [
                    {"scope": f"/subscriptions/{SUB2}", "role": "Reader", "principal_id": USER}
                ]
            },
            f"role_assignments[0].scope: subscription '{SUB2}' is not among subscriptions",
        ),
        (
            {
                "role_assignments": [
                    {"scope": f"/subscriptions/{SUB}", "role": "Reader", "principal_id": GROUP}
                ]
            },
            f"role_assignments[0].principal_id: '{GROUP}' is not among principals",
        ),
        (
            {"management_groups": [{"name": "mg-a", "parent": "mg-b"}]},
            "management_groups[0].parent: 'mg-b' is not among management_groups",
        ),
        (
            {
                "management_groups": [
                    {"name": "mg-a", "parent": "mg-b"},
                    {"name": "mg-b", "parent": "mg-a"},
                ]
            },
            "is its own ancestor",
        ),
    ],
)
def test_invalid_worlds_name_the_field(change: dict[str, Any], expected: str) -> None:
    spec = _minimal(principals=[{"object_id": USER, "kind": "User", "display_name": "ada"}])
    spec.update(change)
    with pytest.raises(world.WorldError) as err:
        world.read(spec)
    assert expected in str(err.value)
    assert str(err.value).startswith("world: ")


def test_file_errors_are_located(tmp_path: Path) -> None:
    with pytest.raises(world.WorldError, match="no such file"):
        world.read(tmp_path / "absent.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("tenant_id: [unclosed\n")
    with pytest.raises(world.WorldError) as err:
        world.read(broken)
    assert f"world file '{broken}': line 2, column 1" in str(err.value)
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n")
    with pytest.raises(world.WorldError, match="top level must be a mapping"):
        world.read(listed)


def test_a_bad_world_leaves_the_store_untouched() -> None:
    ctx = Context(store=Store(), settings=Settings(), tenant_id=TENANT)
    with pytest.raises(world.WorldError):
        world.load(ctx, {"tenant_id": TENANT, "subscriptions": [{"id": "x"}]})
    assert ctx.store.by_type("tenant") == []
