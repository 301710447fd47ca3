"""Cloud discovery and the directory shell: metadata endpoints, tenants, subscriptions, locations.

`/metadata/endpoints` lets Azure tools register the emulator as a custom cloud. Its shape
depends on the api-version, as in Azure: 2015-01-01 is the legacy object (msrestazure and
`az cloud register`'s fallback read `galleryEndpoint`, `graphEndpoint`, `authentication`);
2019-05-01 and 2020-06-01 list every cloud the endpoint knows (here: one); 2022-09-01 and later
describe the cloud being asked, as one object (azure-cli's `_arm_to_cli_mapper` input).
"""

from __future__ import annotations

import re

from local_azure.graph import graph_root
from local_azure.kernel import (
    JSON,
    ArmError,
    Context,
    Request,
    Response,
    Router,
    no_api_version,
)
from local_azure.providers import regions
from local_azure.providers.listing import page, public
from local_azure.providers.scopes import require_subscription

CLOUD_NAME = "AzureLocalEmulator"
ARM_AUDIENCES = ("https://management.core.windows.net/", "https://management.azure.com/")

# Microsoft.Resources api-versions (azure-rest-api-specs, resources.json).
# fmt: off
RESOURCES_API_VERSIONS = (
    "2015-11-01", "2016-02-01", "2016-07-01", "2016-09-01", "2017-05-10", "2018-02-01",
    "2018-05-01", "2019-03-01", "2019-05-01", "2019-05-10", "2019-07-01", "2019-08-01",
    "2019-10-01", "2020-06-01", "2020-08-01", "2020-10-01", "2021-01-01", "2021-04-01",
    "2022-09-01", "2023-07-01", "2024-03-01", "2024-07-01", "2024-11-01", "2025-03-01",
    "2025-04-01",
)
# fmt: on

# Microsoft.Resources subscription/tenant api-versions (azure-rest-api-specs, subscriptions.json).
# fmt: off
SUBSCRIPTION_API_VERSIONS = (
    "2014-04-01-preview", "2015-11-01", "2016-06-01", "2018-06-01", "2019-06-01", "2019-11-01",
    "2020-01-01", "2021-01-01", "2022-01-01", "2022-12-01",
)
# fmt: on
MANAGEMENT_GROUP_API_VERSIONS = ("2020-02-01", "2020-05-01", "2021-04-01", "2023-04-01")
MANAGEMENT_GROUP_TYPE = "Microsoft.Management/managementGroups"

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview)?$")


def register(router: Router) -> None:
    """Subscription reads also accept the other Microsoft.Resources versions, as ARM does."""
    router.add("GET", "/metadata/endpoints", metadata_endpoints, name="metadata.endpoints")
    v = sorted({*SUBSCRIPTION_API_VERSIONS, *RESOURCES_API_VERSIONS})
    router.add("GET", "/tenants", list_tenants, api_versions=v, name="tenants.list")
    router.add(
        "GET", "/subscriptions", list_subscriptions, api_versions=v, name="subscriptions.list"
    )
    router.add(
        "GET", "/subscriptions/{sub}", get_subscription, api_versions=v, name="subscriptions.get"
    )
    router.add(
        "GET",
        "/subscriptions/{sub}/locations",
        list_locations,
        api_versions=v,
        name="subscriptions.locations",
    )
    mg = MANAGEMENT_GROUP_API_VERSIONS
    router.add(
        "GET",
        "/providers/Microsoft.Management/managementGroups",
        list_management_groups,
        api_versions=mg,
        name="managementGroups.list",
    )
    router.add(
        "GET",
        "/providers/Microsoft.Management/managementGroups/{mg}",
        get_management_group,
        api_versions=mg,
        name="managementGroups.get",
    )


# ---------------------------------------------------------------------- metadata endpoints


def cloud_metadata(base_url: str) -> JSON:
    """The emulated cloud in ARM's 2019-05-01+ per-cloud shape."""
    root = base_url.rstrip("/") + "/"
    return {
        "portal": base_url.rstrip("/"),
        "authentication": {
            "loginEndpoint": root,
            "audiences": list(ARM_AUDIENCES),
            "tenant": "common",
            "identityProvider": "AAD",
        },
        "media": "https://rest.media.azure.net",
        # Every Graph a client may call is the emulator's own: an emulator token never leaves.
        "graphAudience": graph_root(base_url),
        "graph": graph_root(base_url),
        "name": CLOUD_NAME,
        "suffixes": {
            "azureDataLakeStoreFileSystem": "azuredatalakestore.net",
            "acrLoginServer": "azurecr.io",
            "sqlServerHostname": "database.windows.net",
            "azureDataLakeAnalyticsCatalogAndJob": "azuredatalakeanalytics.net",
            "keyVaultDns": "vault.azure.net",
            "storage": "core.windows.net",
            "azureFrontDoorEndpointSuffix": "azurefd.net",
            "storageSyncEndpointSuffix": "afs.azure.net",
            "mhsmDns": "managedhsm.azure.net",
            "mysqlServerEndpoint": "mysql.database.azure.com",
            "postgresqlServerEndpoint": "postgres.database.azure.com",
            "mariadbServerEndpoint": "mariadb.database.azure.com",
            "synapseAnalytics": "dev.azuresynapse.net",
            "attestationEndpoint": "attest.azure.net",
        },
        "batch": "https://batch.core.windows.net/",
        "resourceManager": root,
        "vmImageAliasDoc": (
            "https://raw.githubusercontent.com/Azure/azure-rest-api-specs/main/"
            "arm-compute/quickstart-templates/aliases.json"
        ),
        "activeDirectoryDataLake": "https://datalake.azure.net/",
        "sqlManagement": "https://management.core.windows.net:8443/",
        "gallery": "https://gallery.azure.com/",
        "microsoftGraphResourceId": graph_root(base_url),
        "appInsightsResourceId": "https://api.applicationinsights.io",
        "appInsightsTelemetryChannelResourceId": "https://dc.applicationinsights.azure.com/v2/track",
        "attestationResourceId": "https://attest.azure.net",
        "synapseAnalyticsResourceId": "https://dev.azuresynapse.net",
        "logAnalyticsResourceId": "https://api.loganalytics.io",
        "ossrDbmsResourceId": "https://ossrdbms-aad.database.windows.net",
    }


def legacy_metadata(base_url: str) -> JSON:
    """The 2015-01-01 object (also what Azure Stack hubs answer)."""
    root = base_url.rstrip("/") + "/"
    return {
        "galleryEndpoint": "https://gallery.azure.com/",
        "graphEndpoint": graph_root(base_url),
        "portalEndpoint": root,
        "authentication": {"loginEndpoint": root, "audiences": list(ARM_AUDIENCES)},
    }


def metadata_endpoints(ctx: Context, req: Request, params: dict[str, str]) -> Response:
    version = req.api_version
    if not version:
        raise no_api_version()
    if not _DATE.match(version):
        raise ArmError(
            400,
            "InvalidApiVersionParameter",
            f"The api-version '{version}' is invalid. The supported versions are "
            "'2022-09-01,2020-06-01,2019-05-01,2018-01-01,2015-01-01'.",
        )
    if version < "2019-05-01":
        return Response(200, legacy_metadata(req.base_url))
    if version < "2022-09-01":
        return Response(200, [cloud_metadata(req.base_url)])
    return Response(200, cloud_metadata(req.base_url))


# ---------------------------------------------------------------------- tenants, subscriptions


def list_tenants(ctx: Context, req: Request, params: dict[str, str]) -> Response:
    return page(req, ctx.store.by_type("tenant"), ctx.settings.page_size)


def list_subscriptions(ctx: Context, req: Request, params: dict[str, str]) -> Response:
    return page(req, ctx.store.by_type("subscription"), ctx.settings.page_size)


def get_subscription(ctx: Context, req: Request, params: dict[str, str]) -> Response:
    return Response(200, public(require_subscription(ctx, params["sub"])))


def list_locations(ctx: Context, req: Request, params: dict[str, str]) -> Response:
    sub = require_subscription(ctx, params["sub"])["subscriptionId"]
    items = [regions.location_body(sub, r) for r in regions.REGIONS]
    return page(req, items, ctx.settings.page_size)


# ---------------------------------------------------------------------- management groups


def list_management_groups(ctx: Context, req: Request, params: dict[str, str]) -> Response:
    items = [_management_group_summary(d) for d in ctx.store.by_type(MANAGEMENT_GROUP_TYPE)]
    return page(req, items, ctx.settings.page_size)


def get_management_group(ctx: Context, req: Request, params: dict[str, str]) -> Response:
    doc = ctx.store.get(f"/providers/{MANAGEMENT_GROUP_TYPE}/{params['mg']}")
    if doc is None:
        raise ArmError(404, "NotFound", f"'{params['mg']}' not found")
    return Response(200, public(doc))


def _management_group_summary(doc: JSON) -> JSON:
    props = doc.get("properties", {})
    return {
        "id": doc["id"],
        "type": doc["type"],
        "name": doc["name"],
        "properties": {"tenantId": props.get("tenantId"), "displayName": props.get("displayName")},
    }
