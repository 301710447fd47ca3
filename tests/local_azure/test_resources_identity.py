"""Identity blocks on the seeded resources and the SQL Entra administrator (handler level)."""

from __future__ import annotations

import pytest
from resources_cloud import (
    ADMIN,
    APP,
    DB,
    GROUP,
    SITE,
    SQL,
    STORAGE,
    TENANT,
    USER,
    VAULT,
    VM,
    Cloud,
    error_code,
    error_message,
    identity_id,
    make_cloud,
    make_identity,
)


@pytest.fixture
def cloud() -> Cloud:
    return make_cloud()


def test_enabling_system_assigned_creates_a_principal_and_disabling_deletes_it(
    cloud: Cloud,
) -> None:
    body = cloud.ok("PATCH", SITE, {"identity": {"type": "SystemAssigned"}})
    identity = body["identity"]
    assert identity["type"] == "SystemAssigned"
    assert identity["tenantId"] == TENANT
    principal = cloud.ctx.store.get_principal(identity["principalId"])
    assert principal is not None
    assert principal.kind == "ServicePrincipal"
    assert principal.resource_id
    assert principal.resource_id.lower() == SITE.lower()
    assert cloud.ok("GET", SITE)["identity"] == identity
    # unchanged by a write that does not mention identity
    assert cloud.ok("PATCH", SITE, {"tags": {"a": "b"}})["identity"] == identity
    off = cloud.ok("PATCH", SITE, {"identity": {"type": "None"}})
    assert "identity" not in off
    assert cloud.ctx.store.get_principal(identity["principalId"]) is None
    again = cloud.ok("PATCH", SITE, {"identity": {"type": "SystemAssigned"}})
    assert again["identity"]["principalId"] != identity["principalId"]


@pytest.mark.parametrize(
    ("rid", "combined"),
    [
        (SITE, "SystemAssigned, UserAssigned"),
        (VM, "SystemAssigned, UserAssigned"),
        (APP, "SystemAssigned,UserAssigned"),
        (STORAGE, "SystemAssigned,UserAssigned"),
        (SQL, "SystemAssigned,UserAssigned"),
    ],
)
def test_combined_type_uses_each_providers_spelling(cloud: Cloud, rid: str, combined: str) -> None:
    uami = make_identity(cloud, "id-both")
    uid = identity_id("id-both")
    for spelling in ("SystemAssigned, UserAssigned", "systemassigned,userassigned"):
        body = cloud.ok(
            "PUT",
            rid,
            {
                **_put_body(cloud, rid),
                "identity": {"type": spelling, "userAssignedIdentities": {uid: {}}},
            },
        )
        assert body["identity"]["type"] == combined
        assert body["identity"]["userAssignedIdentities"] == {
            uid: {
                "principalId": uami["properties"]["principalId"],
                "clientId": uami["properties"]["clientId"],
            }
        }
        assert body["identity"]["principalId"]


def _put_body(cloud: Cloud, rid: str) -> dict[str, object]:
    current = cloud.ok("GET", rid)
    return {
        k: current[k] for k in ("location", "kind", "sku", "tags", "properties") if k in current
    }


def test_user_assigned_keys_keep_the_callers_casing_and_match_case_insensitively(
    cloud: Cloud,
) -> None:
    make_identity(cloud, "id-one")
    make_identity(cloud, "id-two")
    one = identity_id("id-one").replace("resourceGroups", "resourcegroups")
    two = identity_id("id-two")
    body = cloud.ok(
        "PATCH",
        VM,
        {"identity": {"type": "UserAssigned", "userAssignedIdentities": {one: {}, two: {}}}},
    )
    assert set(body["identity"]["userAssignedIdentities"]) == {one, two}
    assert "principalId" not in body["identity"]
    # a key mapped to null detaches, whatever its casing
    body = cloud.ok("PATCH", VM, {"identity": {"userAssignedIdentities": {one.upper(): None}}})
    assert set(body["identity"]["userAssignedIdentities"]) == {two}
    # re-attaching an attached identity in another casing keeps the first key
    body = cloud.ok(
        "PATCH",
        VM,
        {"identity": {"type": "UserAssigned", "userAssignedIdentities": {two.lower(): {}}}},
    )
    assert set(body["identity"]["userAssignedIdentities"]) == {two}


def test_patch_adds_to_user_assigned_but_put_replaces(cloud: Cloud) -> None:
    make_identity(cloud, "id-a")
    make_identity(cloud, "id-b")
    a, b = identity_id("id-a"), identity_id("id-b")
    cloud.ok(
        "PATCH", SITE, {"identity": {"type": "UserAssigned", "userAssignedIdentities": {a: {}}}}
    )
    body = cloud.ok(
        "PATCH", SITE, {"identity": {"type": "UserAssigned", "userAssignedIdentities": {b: {}}}}
    )
    assert set(body["identity"]["userAssignedIdentities"]) == {a, b}
    body = cloud.ok(
        "PUT",
        SITE,
        {
            **_put_body(cloud, SITE),
            "identity": {"type": "UserAssigned", "userAssignedIdentities": {b: {}}},
        },
    )
    assert set(body["identity"]["userAssignedIdentities"]) == {b}


def test_dropping_user_assigned_from_the_type_detaches_all(cloud: Cloud) -> None:
    make_identity(cloud, "id-a")
    cloud.ok(
        "PATCH",
        SITE,
        {
            "identity": {
                "type": "SystemAssigned, UserAssigned",
                "userAssignedIdentities": {identity_id("id-a"): {}},
            }
        },
    )
    body = cloud.ok("PATCH", SITE, {"identity": {"type": "SystemAssigned"}})
    assert body["identity"]["type"] == "SystemAssigned"
    assert "userAssignedIdentities" not in body["identity"]


def test_attaching_a_missing_identity_fails_naming_it(cloud: Cloud) -> None:
    missing = identity_id("id-ghost")
    response = cloud.call(
        "PATCH",
        SITE,
        {"identity": {"type": "UserAssigned", "userAssignedIdentities": {missing: {}}}},
    )
    assert response.status == 400
    assert error_code(response) == "FailedIdentityOperation"
    assert missing in error_message(response)
    assert "identity" not in cloud.ok("GET", SITE)


def test_malformed_identity_ids_and_empty_sets_are_rejected(cloud: Cloud) -> None:
    response = cloud.call(
        "PATCH",
        SITE,
        {"identity": {"type": "UserAssigned", "userAssignedIdentities": {"not-an-id": {}}}},
    )
    assert error_code(response) == "LinkedInvalidPropertyId"
    response = cloud.call("PATCH", SITE, {"identity": {"type": "UserAssigned"}})
    assert error_code(response) == "MissingIdentityIds"
    response = cloud.call("PATCH", SITE, {"identity": {"type": "Magic"}})
    assert error_code(response) == "CannotSetResourceIdentity"


def test_a_failed_write_creates_no_principal(cloud: Cloud) -> None:
    before = len(cloud.ctx.store.principals())
    response = cloud.call(
        "PATCH",
        SITE,
        {
            "identity": {
                "type": "SystemAssigned, UserAssigned",
                "userAssignedIdentities": {identity_id("id-ghost"): {}},
            }
        },
    )
    assert response.status == 400
    assert len(cloud.ctx.store.principals()) == before


def test_databases_take_user_assigned_only_and_vaults_have_no_identity(cloud: Cloud) -> None:
    response = cloud.call("PATCH", DB, {"identity": {"type": "SystemAssigned"}})
    assert error_code(response) == "CannotSetResourceIdentity"
    make_identity(cloud, "id-db")
    body = cloud.ok(
        "PATCH",
        DB,
        {
            "identity": {
                "type": "UserAssigned",
                "userAssignedIdentities": {identity_id("id-db"): {}},
            }
        },
    )
    assert body["identity"]["type"] == "UserAssigned"
    assert "identity" not in cloud.ok("PATCH", VAULT, {"identity": {"type": "SystemAssigned"}})


def test_deleting_a_resource_deletes_its_system_assigned_principal(cloud: Cloud) -> None:
    principal = cloud.ok("PATCH", VM, {"identity": {"type": "SystemAssigned"}})["identity"][
        "principalId"
    ]
    assert cloud.call("DELETE", VM).status == 200
    assert cloud.ctx.store.get_principal(principal) is None


def test_deleting_an_attached_identity_leaves_the_attachment_as_azure_does(cloud: Cloud) -> None:
    make_identity(cloud, "id-left")
    cloud.ok(
        "PATCH",
        SITE,
        {
            "identity": {
                "type": "UserAssigned",
                "userAssignedIdentities": {identity_id("id-left"): {}},
            }
        },
    )
    cloud.ok("DELETE", identity_id("id-left"))
    assert identity_id("id-left") in cloud.ok("GET", SITE)["identity"]["userAssignedIdentities"]


# ---------------------------------------------------------------------- SQL Entra administrator


def test_seeded_sql_admin_and_server_view(cloud: Cloud) -> None:
    admin = cloud.ok("GET", ADMIN)
    assert admin["id"] == ADMIN
    assert admin["name"] == "ActiveDirectory"
    assert admin["type"] == "Microsoft.Sql/servers/administrators"
    assert admin["properties"] == {
        "administratorType": "ActiveDirectory",
        "login": "sqladmins",
        "sid": GROUP,
        "tenantId": TENANT,
        "azureADOnlyAuthentication": True,
    }
    assert "location" not in admin
    server_view = cloud.ok("GET", SQL)["properties"]["administrators"]
    assert server_view["principalType"] == "Group"
    assert server_view["login"] == "sqladmins"


def test_replacing_and_removing_the_sql_admin(cloud: Cloud) -> None:
    path = ADMIN.replace("ActiveDirectory", "activedirectory")
    body = cloud.ok(
        "PUT",
        path,
        {
            "properties": {
                "administratorType": "ActiveDirectory",
                "login": "ada",
                "sid": USER,
                "tenantId": TENANT,
            }
        },
    )
    assert body["name"] == "ActiveDirectory"
    view = cloud.ok("GET", SQL)["properties"]["administrators"]
    assert (view["login"], view["principalType"]) == ("ada", "User")
    assert cloud.call("DELETE", ADMIN).status == 200
    assert "administrators" not in cloud.ok("GET", SQL)["properties"]
    assert cloud.call("GET", ADMIN).status == 404


@pytest.mark.parametrize(
    "props",
    [
        {"administratorType": "SqlLogin", "login": "x", "sid": USER},
        {"administratorType": "ActiveDirectory", "sid": USER},
        {"administratorType": "ActiveDirectory", "login": "x", "sid": "not-a-guid"},
    ],
)
def test_invalid_sql_admin(cloud: Cloud, props: dict[str, str]) -> None:
    response = cloud.call("PUT", ADMIN, {"properties": props})
    assert response.status == 400
    assert error_code(response) == "InvalidParameterValue"


def test_only_the_active_directory_admin_name_exists(cloud: Cloud) -> None:
    response = cloud.call("PUT", f"{SQL}/administrators/other", {"properties": {}})
    assert error_code(response) == "InvalidParameterValue"
