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
