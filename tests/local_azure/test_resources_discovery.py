"""Cloud discovery, tenants, subscriptions, locations and management groups (handler level)."""

from __future__ import annotations

import pytest
from resources_cloud import (
    BASE,
    PROVIDERS,
    SUB,
    SUB2,
    TENANT,
    Cloud,
    error_code,
    error_message,
    make_cloud,
)

from local_azure.providers.scopes import management_group_chain


@pytest.fixture
def cloud() -> Cloud:
    return make_cloud()


@pytest.mark.parametrize("version", ["2022-09-01", "2023-11-01"])
def test_metadata_endpoints_current_shape_describes_this_cloud(cloud: Cloud, version: str) -> None:
    body = cloud.ok("GET", "/metadata/endpoints", api=version)
    assert body["name"] == "AzureLocalEmulator"
    assert body["resourceManager"] == BASE + "/"
    auth = body["authentication"]
    assert auth["loginEndpoint"] == BASE + "/"
    assert auth["audiences"] == [
        "https://management.core.windows.net/",
        "https://management.azure.com/",
    ]
    assert auth["identityProvider"] == "AAD"
    assert body["suffixes"]["keyVaultDns"] == "vault.azure.net"
    assert body["suffixes"]["sqlServerHostname"] == "database.windows.net"
    for key in (
        "portal",
        "graph",
        "graphAudience",
        "gallery",
        "sqlManagement",
        "batch",
        "microsoftGraphResourceId",
    ):
        assert body[key]


@pytest.mark.parametrize("version", ["2019-05-01", "2020-06-01"])
def test_metadata_endpoints_list_shape(cloud: Cloud, version: str) -> None:
    response = cloud.call("GET", "/metadata/endpoints", api=version)
    assert response.status == 200
    assert isinstance(response.body, list)
    assert len(response.body) == 1
    assert response.body[0]["resourceManager"] == BASE + "/"


def test_metadata_endpoints_legacy_shape(cloud: Cloud) -> None:
    body = cloud.ok("GET", "/metadata/endpoints", api="2015-01-01")
    assert set(body) == {"galleryEndpoint", "graphEndpoint", "portalEndpoint", "authentication"}
    assert body["authentication"]["audiences"][0] == "https://management.core.windows.net/"


def test_metadata_endpoints_require_an_api_version(cloud: Cloud) -> None:
    assert (
        error_code(cloud.call("GET", "/metadata/endpoints", api="")) == "MissingApiVersionParameter"
    )
    assert (
        error_code(cloud.call("GET", "/metadata/endpoints", api="latest"))
        == "InvalidApiVersionParameter"
    )


def test_metadata_parses_with_the_cli_cloud_mapper_shape(cloud: Cloud) -> None:
    """azure-cli's `_arm_to_cli_mapper` reads these keys unconditionally."""
    body = cloud.ok("GET", "/metadata/endpoints", api="2022-09-01")
    required = (
        "name",
        "resourceManager",
        "sqlManagement",
        "batch",
        "gallery",
        "graphAudience",
        "media",
        "vmImageAliasDoc",
    )
    assert all(k in body for k in required)
    for suffix in ("storage", "keyVaultDns", "sqlServerHostname", "acrLoginServer"):
        assert not body["suffixes"][suffix].startswith(".")


def test_subscription_get_has_the_2022_12_01_shape(cloud: Cloud) -> None:
    body = cloud.ok("GET", f"/subscriptions/{SUB}", api="2022-12-01")
    assert body == {
        "id": f"/subscriptions/{SUB}",
        "subscriptionId": SUB,
        "tenantId": TENANT,
        "displayName": "Local Dev",
        "state": "Enabled",
        "subscriptionPolicies": body["subscriptionPolicies"],
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "tags": {},
    }
    assert set(body["subscriptionPolicies"]) == {"locationPlacementId", "quotaId", "spendingLimit"}


def test_unknown_subscription_is_subscription_not_found(cloud: Cloud) -> None:
    missing = "99999999-9999-9999-9999-999999999999"
    response = cloud.call("GET", f"/subscriptions/{missing}", api="2022-12-01")
    assert response.status == 404
    assert error_code(response) == "SubscriptionNotFound"
    assert error_message(response) == f"The subscription '{missing}' could not be found."
    assert cloud.call("GET", f"/subscriptions/{missing}/resourcegroups").status == 404


def test_subscription_list_pages_with_absolute_next_links() -> None:
    from local_azure.kernel import Settings

    cloud = make_cloud(settings=Settings(page_size=1))
    first = cloud.ok("GET", "/subscriptions", api="2022-12-01")
    assert len(first["value"]) == 1
    assert first["nextLink"].startswith(f"{BASE}/subscriptions?")
    ids = [s["subscriptionId"] for s in cloud.all_pages("/subscriptions", api="2022-12-01")]
    assert ids == [SUB, SUB2]


def test_subscription_reads_accept_resources_api_versions_but_not_unknown_ones(
    cloud: Cloud,
) -> None:
    assert cloud.call("GET", f"/subscriptions/{SUB}", api="2021-04-01").status == 200
    response = cloud.call("GET", f"/subscriptions/{SUB}", api="2099-01-01")
    assert error_code(response) == "InvalidApiVersionParameter"


def test_tenants_list(cloud: Cloud) -> None:
    (tenant,) = cloud.ok("GET", "/tenants", api="2022-12-01")["value"]
    assert tenant["id"] == f"/tenants/{TENANT}"
    assert tenant["tenantId"] == TENANT
    assert tenant["tenantCategory"] == "Home"
    assert tenant["defaultDomain"] in tenant["domains"]
    assert tenant["tenantType"] == "AAD"
    assert tenant["displayName"]


def test_locations_list(cloud: Cloud) -> None:
    locations = cloud.ok("GET", f"/subscriptions/{SUB}/locations", api="2022-12-01")["value"]
    by_name = {loc["name"]: loc for loc in locations}
    assert {"uksouth", "ukwest", "westeurope", "northeurope", "eastus"} <= set(by_name)
    uks = by_name["uksouth"]
    assert uks["id"] == f"/subscriptions/{SUB}/locations/uksouth"
    assert uks["displayName"] == "UK South"
    assert uks["metadata"]["pairedRegion"][0]["name"] == "ukwest"


def test_management_group_chain_and_document(cloud: Cloud) -> None:
    mg = "/providers/Microsoft.Management/managementGroups/mg-platform"
    assert management_group_chain(cloud.ctx.store, SUB) == [mg]
    assert management_group_chain(cloud.ctx.store, SUB2) == [mg]
    assert management_group_chain(cloud.ctx.store, "nope") == []
    body = cloud.ok("GET", mg, api="2023-04-01")
    assert body["name"] == "mg-platform"
    assert "_parent" not in body


def test_management_group_chain_follows_parents() -> None:
    cloud = make_cloud(
        {
            "tenant_id": TENANT,
            "management_groups": [
                {"name": "mg-root", "parent": None},
                {"name": "mg-mid", "parent": "mg-root"},
                {"name": "mg-leaf", "parent": "mg-mid", "subscriptions": [SUB]},
            ],
            "subscriptions": [{"id": SUB, "display_name": "one"}],
        }
    )
    prefix = "/providers/Microsoft.Management/managementGroups/"
    assert management_group_chain(cloud.ctx.store, SUB) == [
        f"{prefix}mg-leaf",
        f"{prefix}mg-mid",
        f"{prefix}mg-root",
    ]


def test_provider_discovery_lists_the_versions_the_routes_accept(cloud: Cloud) -> None:
    web = cloud.ok("GET", f"/subscriptions/{SUB}/providers/Microsoft.Web", api="2025-04-01")
    assert web["id"] == f"/subscriptions/{SUB}/providers/Microsoft.Web"
    assert web["registrationState"] == "Registered"
    sites = next(t for t in web["resourceTypes"] if t["resourceType"] == "sites")
    assert sites["apiVersions"][0] == "2025-05-01"
    assert "2024-11-01" in sites["apiVersions"]
    assert "UK South" in sites["locations"]
    for version in sites["apiVersions"]:
        assert (
            cloud.call(
                "GET", f"{PROVIDERS}/Microsoft.Web/sites/app-myapp-prod-uks-01", api=version
            ).status
            == 200
        )
    sql = cloud.ok("GET", f"/subscriptions/{SUB}/providers/microsoft.sql", api="2025-04-01")
    assert {t["resourceType"] for t in sql["resourceTypes"]} >= {
        "servers",
        "servers/databases",
        "servers/administrators",
    }
    namespaces = {p["namespace"] for p in cloud.all_pages(f"/subscriptions/{SUB}/providers")}
    assert {
        "Microsoft.ManagedIdentity",
        "Microsoft.Authorization",
        "Microsoft.Resources",
        "Microsoft.KeyVault",
    } <= namespaces
    msi = cloud.ok("GET", "/providers/Microsoft.ManagedIdentity", api="2025-04-01")
    assert any(t["resourceType"] == "userAssignedIdentities" for t in msi["resourceTypes"])
    assert (
        cloud.ok(
            "POST", f"/subscriptions/{SUB}/providers/Microsoft.Web/register", api="2025-04-01"
        )["registrationState"]
        == "Registered"
    )
    missing = cloud.call("GET", f"/subscriptions/{SUB}/providers/Microsoft.Nope", api="2025-04-01")
    assert missing.status == 404
    assert error_code(missing) == "InvalidResourceNamespace"
