"""Estates written the way teams write them, for the end-to-end tests of real layouts.

An online shop (App Service with a container registry, Service Bus and blob storage), a data
platform (Data Factory, Cosmos DB, SQL), and a second subscription for shared services.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from identity_reconciler.cli import main

SHOP_SUB = "22222222-2222-2222-2222-222222222222"
SHARED_SUB = "33333333-3333-3333-3333-333333333333"
SHOP_RG = "rg-shop-prod-uks-01"
SHOP_RG_ID = f"/subscriptions/{SHOP_SUB}/resourceGroups/{SHOP_RG}"
ACR = f"{SHOP_RG_ID}/providers/Microsoft.ContainerRegistry/registries/crshopproduks01"
QUEUE = f"{SHOP_RG_ID}/providers/Microsoft.ServiceBus/namespaces/sb-shop-prod-uks-01/queues/orders"
CONTAINER = (
    f"{SHOP_RG_ID}/providers/Microsoft.Storage/storageAccounts/stshopproduks01"
    "/blobServices/default/containers/images"
)
SECRET = f"{SHOP_RG_ID}/providers/Microsoft.KeyVault/vaults/kv-shop-prod-uks-01/secrets/stripe-key"

SHOP = f"""\
subscription: {SHOP_SUB}
defaults: {{location: uksouth, resource_group: {SHOP_RG}, tags: {{app: shop, env: prod}}}}
identities:
  - name: id-shop-prod-uks-01
    assigned_to: [{{type: Microsoft.Web/sites, name: app-shop-prod-uks-01}}]
    roles:
      - role: AcrPull
        scope: {{type: Microsoft.ContainerRegistry/registries, name: crshopproduks01}}
      - role: Azure Service Bus Data Sender
        scope: {{type: Microsoft.ServiceBus/namespaces/queues, name: sb-shop-prod-uks-01/orders}}
      - role: Storage Blob Data Reader
        scope: "{CONTAINER}"
      - role: Key Vault Secrets User
        scope: "{SECRET}"
"""


def write(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text)
    return directory


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    captured = capsys.readouterr()
    return rc, captured.out, captured.err

DATA_RG = "rg-data-prod-uks-01"
DATA_RG_ID = f"/subscriptions/{SHOP_SUB}/resourceGroups/{DATA_RG}"
SQL_SERVER = f"{DATA_RG_ID}/providers/Microsoft.Sql/servers/sql-data-prod-uks-01"

# Every kind of resource people attach identities to, in one data platform.
DATA_PLATFORM = f"""\
subscription: {SHOP_SUB}
defaults: {{location: uksouth, resource_group: {DATA_RG}, tags: {{app: data, env: prod}}}}
identities:
  - name: id-data-ingest-prod-uks-01
    assigned_to:
      - {{type: Microsoft.DataFactory/factories, name: adf-data-prod-uks-01}}
      - {{type: Microsoft.Sql/servers, name: sql-data-prod-uks-01}}
      - {{type: Microsoft.DocumentDB/databaseAccounts, name: cosmos-data-prod-uks-01}}
      - {{type: Microsoft.Logic/workflows, name: logic-data-prod-uks-01}}
      - {{type: Microsoft.ContainerService/managedClusters, name: aks-data-prod-uks-01}}
      - {{type: Microsoft.ContainerInstance/containerGroups, name: ci-data-prod-uks-01}}
      - {{type: Microsoft.Compute/virtualMachineScaleSets, name: vmss-data-prod-uks-01}}
      - {{type: Microsoft.App/jobs, name: job-data-prod-uks-01}}
      - {{type: Microsoft.Web/sites, name: func-data-prod-uks-01}}
      - {{type: Microsoft.Web/sites/slots, name: func-data-prod-uks-01/staging}}
    roles:
      - role: Storage Blob Data Contributor
        scope: {{type: Microsoft.Storage/storageAccounts, name: stdataproduks01}}
resources:
  - {{type: Microsoft.ApiManagement/service, name: apim-data-prod-uks-01}}
  - {{type: Microsoft.Automation/automationAccounts, name: aa-data-prod-uks-01}}
  - {{type: Microsoft.DataFactory/factories, name: adf-data-prod-uks-01,
     roles: [{{role: Storage Blob Data Reader,
              scope: {{type: Microsoft.Storage/storageAccounts, name: stdataproduks01}}}}]}}
"""

SHARED_RG = "rg-shared-prod-uks-01"
SHARED_ACR = (
    f"/subscriptions/{SHARED_SUB}/resourceGroups/{SHARED_RG}"
    "/providers/Microsoft.ContainerRegistry/registries/crsharedproduks01"
)
PLATFORM_MG = "/providers/Microsoft.Management/managementGroups/mg-contoso-platform"
MG_READER_ROLES = ("Reader", "Security Reader", "Cost Management Reader")

# Two subscriptions: the shop's, and shared services holding the registry every app pulls
# from; the platform identity reads the whole management group.
TWO_SUBSCRIPTIONS = {
    "shop.yaml": f"""\
subscription: {SHOP_SUB}
defaults: {{location: uksouth, resource_group: {SHOP_RG}, tags: {{app: shop, env: prod}}}}
identities:
  - name: id-shop-prod-uks-01
    roles:
      - {{role: AcrPull, scope: "{SHARED_ACR}"}}
      - role: Azure Service Bus Data Sender
        scope: {{type: Microsoft.ServiceBus/namespaces/queues, name: sb-shop-prod-uks-01/orders}}
""",
    "platform.yaml": f"""\
subscription: {SHARED_SUB}
defaults: {{location: uksouth, resource_group: {SHARED_RG}, tags: {{app: platform, env: prod}}}}
identities:
  - name: id-platform-inventory-prod-uks-01
    roles:
{"".join(f'      - {{role: {r}, scope: {{management_group: mg-contoso-platform}}}}{chr(10)}'
         for r in MG_READER_ROLES)}""",
}
