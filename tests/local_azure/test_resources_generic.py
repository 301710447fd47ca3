"""Seeded resource types by id and resource lists (handler level)."""

from __future__ import annotations

import pytest
from resources_cloud import (
    ADMIN,
    APP,
    ASSIGNMENTS,
    DB,
    FUNC,
    GROUP,
    PROVIDERS,
    RG,
    RG_ID,
    ROLE_DEFINITIONS,
    SITE,
    SQL,
    STORAGE,
    SUB,
    TENANT,
    VAULT,
    VM,
    Cloud,
    error_code,
    error_message,
    make_cloud,
    make_identity,
)

from local_azure.kernel import Caller


@pytest.fixture
def cloud() -> Cloud:
    return make_cloud()


@pytest.mark.parametrize(
    ("rid", "rtype", "location"),
    [
        (SITE, "Microsoft.Web/sites", "UK South"),
        (FUNC, "Microsoft.Web/sites", "UK South"),
        (VAULT, "Microsoft.KeyVault/vaults", "uksouth"),
        (STORAGE, "Microsoft.Storage/storageAccounts", "uksouth"),
        (VM, "Microsoft.Compute/virtualMachines", "uksouth"),
        (APP, "Microsoft.App/containerApps", "UK South"),
        (SQL, "Microsoft.Sql/servers", "uksouth"),
        (DB, "Microsoft.Sql/servers/databases", "uksouth"),
    ],
)
def test_seeded_resources_answer_get_by_id(
    cloud: Cloud, rid: str, rtype: str, location: str
) -> None:
    body = cloud.ok("GET", rid)
    assert body["id"] == rid
    assert body["name"] == rid.rsplit("/", 1)[1]
    assert body["type"] == rtype
    assert body["location"] == location
    assert isinstance(body["properties"], dict)
    assert not any(k.startswith("_") for k in body)


def test_seeded_bodies_carry_the_usual_fields(cloud: Cloud) -> None:
    assert cloud.ok("GET", SITE)["kind"] == "app"
    assert cloud.ok("GET", FUNC)["kind"] == "functionapp"
    assert (
        cloud.ok("GET", SITE)["properties"]["defaultHostName"]
        == "app-myapp-prod-uks-01.azurewebsites.net"
    )
    vault = cloud.ok("GET", VAULT)["properties"]
    assert vault["vaultUri"] == "https://kv-myapp-prod-uks-01.vault.azure.net/"
    assert vault["tenantId"] == TENANT
    assert (
        cloud.ok("GET", STORAGE)["properties"]["primaryEndpoints"]["blob"]
        == "https://stmyappproduks01.blob.core.windows.net/"
    )
    assert (
        cloud.ok("GET", SQL)["properties"]["fullyQualifiedDomainName"]
        == "sql-myapp-prod-uks-01.database.windows.net"
    )
    assert cloud.ok("GET", VM)["properties"]["provisioningState"] == "Succeeded"


def test_lookup_is_case_insensitive_and_keeps_canonical_ids(cloud: Cloud) -> None:
    body = cloud.ok(
        "GET",
        SITE.replace("resourceGroups", "resourcegroups")
        .upper()
        .replace("/SUBSCRIPTIONS", "/subscriptions"),
    )
    assert body["id"] == SITE


def test_unknown_resource_is_resource_not_found(cloud: Cloud) -> None:
    response = cloud.call("GET", f"{PROVIDERS}/Microsoft.Web/sites/nope")
    assert response.status == 404
    assert error_code(response) == "ResourceNotFound"
    assert error_message(response) == (
        f"The Resource 'Microsoft.Web/sites/nope' under resource group '{RG}' was not found. "
        "For more details please go to https://aka.ms/ARMResourceNotFoundFix"
    )


def test_missing_group_and_subscription(cloud: Cloud) -> None:
    response = cloud.call(
        "GET", f"/subscriptions/{SUB}/resourceGroups/rg-none/providers/Microsoft.Web/sites/x"
    )
    assert error_code(response) == "ResourceGroupNotFound"
    response = cloud.call(
        "GET",
        f"/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/{RG}/providers/Microsoft.Web/sites/x",
    )
    assert error_code(response) == "SubscriptionNotFound"


def test_child_of_missing_parent(cloud: Cloud) -> None:
    response = cloud.call(
        "PUT", f"{PROVIDERS}/Microsoft.Sql/servers/nosuch/databases/db1", {"location": "uksouth"}
    )
    assert response.status == 404
    assert error_code(response) == "ParentResourceNotFound"


@pytest.mark.parametrize(
    ("rid", "versions"),
    [
        (SITE, ["2022-03-01", "2023-12-01", "2024-11-01", "2025-05-01"]),
        (VM, ["2023-03-01", "2024-07-01", "2026-04-01"]),
        (APP, ["2023-05-01", "2025-01-01", "2026-07-01"]),
        (VAULT, ["2022-07-01", "2023-07-01"]),
        (STORAGE, ["2023-01-01", "2025-01-01"]),
        (SQL, ["2021-11-01", "2023-08-01"]),
    ],
)
def test_each_provider_accepts_its_api_versions(
    cloud: Cloud, rid: str, versions: list[str]
) -> None:
    for version in versions:
        assert cloud.call("GET", rid, api=version).status == 200, version
    response = cloud.call("GET", rid, api="2099-01-01")
    assert response.status == 400
    assert error_code(response) == "NoRegisteredProviderFound"
    assert (
        "No registered resource provider found for location 'uksouth' and API version '2099-01-01'"
        in error_message(response)
    )
    assert error_code(cloud.call("GET", rid, api="")) == "MissingApiVersionParameter"


def test_types_not_modelled_are_generic_documents(cloud: Cloud) -> None:
    """Any well-formed type exists once written (a grant scope needs no more); an ill-formed
    one, or one of the namespaces served by their own providers, is InvalidResourceType."""
    rid = f"{PROVIDERS}/Microsoft.ContainerRegistry/registries/crgeneric01"
    assert cloud.call("GET", rid, api="2023-07-01").status == 404
    created = cloud.ok("PUT", rid, {"location": "uksouth", "tags": {"a": "1"}}, api="2023-07-01")
    assert created["type"] == "Microsoft.ContainerRegistry/registries"
    assert created["properties"]["provisioningState"] == "Succeeded"
    assert cloud.ok("GET", rid, api="2019-05-01")["tags"] == {"a": "1"}
    assert error_code(cloud.call("GET", rid, api="latest")) == "NoRegisteredProviderFound"
    bad = cloud.call("GET", f"{PROVIDERS}/Microsoft.Web/wid_gets/x", api="2024-11-01")
    assert error_code(bad) == "InvalidResourceType"


def test_put_creates_with_defaults_then_replaces(cloud: Cloud) -> None:
    rid = f"{PROVIDERS}/Microsoft.Web/sites/app-new-01"
    created = cloud.call(
        "PUT", rid, {"location": "uksouth", "tags": {"a": "1"}, "properties": {"httpsOnly": False}}
    )
    assert created.status == 200  # Web answers 200 for a create
    assert isinstance(created.body, dict)
    assert created.body["properties"]["httpsOnly"] is False
    assert created.body["properties"]["defaultHostName"] == "app-new-01.azurewebsites.net"
    replaced = cloud.ok(
        "PUT", rid, {"location": "UK South", "properties": {"defaultHostName": "hijack"}}
    )
    assert "tags" not in replaced
    assert replaced["properties"]["httpsOnly"] is True  # back to the default
    assert replaced["properties"]["defaultHostName"] == "app-new-01.azurewebsites.net"  # read-only


def test_put_create_status_and_terminal_state_per_provider(cloud: Cloud) -> None:
    vm = cloud.call(
        "PUT", f"{PROVIDERS}/Microsoft.Compute/virtualMachines/vm-new", {"location": "uksouth"}
    )
    assert vm.status == 201
    assert isinstance(vm.body, dict)
    assert vm.body["properties"]["provisioningState"] == "Succeeded"
    assert "Location" not in vm.headers
    assert "Azure-AsyncOperation" not in vm.headers
    st = cloud.call(
        "PUT", f"{PROVIDERS}/Microsoft.Storage/storageAccounts/stnew01", {"location": "uksouth"}
    )
    assert st.status == 200


def test_put_validates_location_and_names(cloud: Cloud) -> None:
    assert (
        error_code(cloud.call("PUT", f"{PROVIDERS}/Microsoft.Compute/virtualMachines/vm-x", {}))
        == "LocationRequired"
    )
    moved = cloud.call("PUT", VM, {"location": "westeurope"})
    assert error_code(moved) == "InvalidResourceLocation"
    bad = cloud.call(
        "PUT", f"{PROVIDERS}/Microsoft.Storage/storageAccounts/Not_Valid", {"location": "uksouth"}
    )
    assert error_code(bad) == "AccountNameInvalid"
    assert (
        error_code(
            cloud.call("PUT", f"{PROVIDERS}/Microsoft.KeyVault/vaults/1kv", {"location": "uksouth"})
        )
        == "VaultNameNotValid"
    )


def test_patch_merges_properties_and_tags(cloud: Cloud) -> None:
    body = cloud.ok(
        "PATCH", SITE, {"tags": {"x": "y"}, "properties": {"siteConfig": {"alwaysOn": True}}}
    )
    assert body["tags"] == {"x": "y"}
    assert body["properties"]["siteConfig"]["alwaysOn"] is True
    assert body["properties"]["siteConfig"]["minTlsVersion"] == "1.2"
    assert cloud.ok("GET", SITE) == body
    assert (
        error_code(cloud.call("PATCH", f"{PROVIDERS}/Microsoft.Web/sites/nope", {}))
        == "ResourceNotFound"
    )


def test_system_data_records_the_caller(cloud: Cloud) -> None:
    caller = Caller(
        object_id="5c0b2f9e-7d4a-4c61-9a8e-3f1d6b2e9a70",
        tenant_id=TENANT,
        app_id="8f3e1a27-2b6c-4d95-a0e4-6c7b9d1f2e35",
    )
    body = cloud.ok("PATCH", VM, {"tags": {}}, caller=caller)
    assert body["systemData"]["lastModifiedBy"] == caller.app_id
    assert body["systemData"]["lastModifiedByType"] == "Application"


def test_head_and_delete(cloud: Cloud) -> None:
    assert cloud.call("HEAD", VM).status == 204
    assert cloud.call("DELETE", VM).status == 200
    assert cloud.call("HEAD", VM).status == 404
    assert cloud.call("DELETE", VM).status == 204
    assert cloud.call("DELETE", SQL).status == 200
    assert cloud.ctx.store.get(DB) is None
    assert cloud.ctx.store.get(ADMIN) is None


def test_delete_removes_role_assignments_scoped_to_the_resource(cloud: Cloud) -> None:
    grant = f"{VAULT}/{ASSIGNMENTS}/1d1fd7e0-9c1b-4a2f-8e0b-2f9b64b1d3e7"
    cloud.ok(
        "PUT",
        grant,
        {
            "properties": {
                "roleDefinitionId": f"{ROLE_DEFINITIONS}/4633458b-17de-408a-b874-0445c86b69e6",
                "principalId": GROUP,
                "principalType": "Group",
            }
        },
    )
    assert cloud.call("DELETE", VAULT).status == 200
    assert cloud.ctx.store.get(grant) is None


def test_collections_by_group_by_subscription_and_child(cloud: Cloud) -> None:
    sites = cloud.ok("GET", f"{PROVIDERS}/Microsoft.Web/sites", api="2024-11-01")["value"]
    assert sorted(s["name"] for s in sites) == ["app-myapp-prod-uks-01", "func-myapp-prod-uks-01"]
    by_sub = cloud.ok(
        "GET", f"/subscriptions/{SUB}/providers/Microsoft.Web/sites", api="2024-11-01"
    )["value"]
    assert len(by_sub) == 2
    dbs = cloud.ok("GET", f"{SQL}/databases")["value"]
    assert [d["name"] for d in dbs] == ["appdb"]
    assert cloud.call("PUT", f"{PROVIDERS}/Microsoft.Web/sites", {}).status == 405


def test_resource_lists_filter_and_expand(cloud: Cloud) -> None:
    make_identity(cloud, "id-listed")
    everything = cloud.all_pages(f"/subscriptions/{SUB}/resources")
    types = {r["type"] for r in everything}
    assert "Microsoft.ManagedIdentity/userAssignedIdentities" in types
    assert "Microsoft.Sql/servers/databases" in types
    assert "Microsoft.Sql/servers/administrators" not in types
    assert all("properties" not in r for r in everything)
    assert {r["location"] for r in everything} == {"uksouth"}
    sites = cloud.all_pages(
        f"{RG_ID}/resources", query={"$filter": "resourceType eq 'Microsoft.Web/sites'"}
    )
    assert len(sites) == 2
    either = cloud.all_pages(
        f"{RG_ID}/resources",
        query={
            "$filter": "resourceType eq 'microsoft.keyvault/vaults' "
            "or resourceType eq 'Microsoft.Compute/virtualMachines'"
        },
    )
    assert sorted(r["name"] for r in either) == ["kv-myapp-prod-uks-01", "vm-myapp-prod-uks-01"]
    named = cloud.all_pages(f"{RG_ID}/resources", query={"$filter": "substringof('func', name)"})
    assert [r["name"] for r in named] == ["func-myapp-prod-uks-01"]
    cloud.ok("PATCH", VM, {"tags": {"tier": "gold"}})
    tagged = cloud.all_pages(
        f"/subscriptions/{SUB}/resources",
        query={"$filter": "tagName eq 'tier' and tagValue eq 'gold'"},
    )
    assert [r["name"] for r in tagged] == ["vm-myapp-prod-uks-01"]
    expanded = cloud.all_pages(f"{RG_ID}/resources", query={"$expand": "provisioningState"})
    assert all("provisioningState" in r for r in expanded)
    bad = cloud.call("GET", f"{RG_ID}/resources", query={"$filter": "kind gt 'x'"})
    assert error_code(bad) == "InvalidFilterInQueryString"


def test_slots_scale_sets_and_jobs(cloud: Cloud) -> None:
    slot_id = f"{SITE}/slots/staging"
    slot = cloud.ok("PUT", slot_id, {"identity": {"type": "SystemAssigned"}})
    assert slot["name"] == "app-myapp-prod-uks-01/staging"  # Web shows slots qualified
    assert slot["location"] == "UK South"  # a slot lives where its site does
    assert (
        slot["properties"]["defaultHostName"] == "app-myapp-prod-uks-01-staging.azurewebsites.net"
    )
    assert slot["identity"]["principalId"]
    assert (
        cloud.ok(
            "PATCH",
            slot_id.upper().replace("/SUBSCRIPTIONS", "/subscriptions"),
            {"tags": {"a": "b"}},
        )["name"]
        == slot["name"]
    )
    vmss = cloud.ok(
        "PUT",
        f"{PROVIDERS}/Microsoft.Compute/virtualMachineScaleSets/vmss-1",
        {
            "location": "uksouth",
            "identity": {
                "type": "SystemAssigned, UserAssigned",
                "userAssignedIdentities": {make_identity(cloud, "id-ss")["id"]: {}},
            },
        },
    )
    assert vmss["identity"]["type"] == "SystemAssigned, UserAssigned"
    job = cloud.ok(
        "PUT",
        f"{PROVIDERS}/Microsoft.App/jobs/job-1",
        {"location": "uksouth", "identity": {"type": "SystemAssigned"}},
    )
    assert job["properties"]["provisioningState"] == "Succeeded"
    assert cloud.call("DELETE", SITE).status == 200
    assert cloud.call("GET", slot_id).status == 404
