"""export writes what a person would have written: tags every identity of a resource group
shares go once into `defaults`, and only the differences stay on the identities."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from estates import SHOP_RG, SHOP_SUB, cli, write

SHOP_TEAM = f"""\
subscription: {SHOP_SUB}
defaults:
  location: uksouth
  resource_group: {SHOP_RG}
  tags: {{app: shop, env: prod, cost-center: "0042"}}
identities:
  - name: id-shop-web-prod-uks-01
    roles:
      - role: AcrPull
        scope: {{type: Microsoft.ContainerRegistry/registries, name: crshopproduks01}}
  - name: id-shop-orders-prod-uks-01
    tags: {{component: orders}}
    roles:
      - role: Azure Service Bus Data Receiver
        scope: {{type: Microsoft.ServiceBus/namespaces/queues, name: sb-shop-prod-uks-01/orders}}
  - name: id-shop-images-prod-uks-01
    tags: {{component: images}}
    roles:
      - role: Storage Blob Data Contributor
        scope: {{type: Microsoft.Storage/storageAccounts, name: stshopproduks01}}
"""


def test_shared_tags_go_to_defaults_and_the_export_plans_clean(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    specs = str(write(tmp_path / "specs", {"shop.yaml": SHOP_TEAM}))
    local = ["--cloud", "local", "--state-dir", str(tmp_path / "state")]
    plan = str(tmp_path / "plan.json")
    assert cli(capsys, "plan", specs, *local, "--out", plan)[0] == 0
    rc, out, err = cli(capsys, "apply", plan, *local)
    assert rc == 0, out + err

    exported = tmp_path / "exported"
    rc, out, err = cli(capsys, "export", "--subscription", SHOP_SUB, "--out", str(exported),
                       *local)
    assert rc == 0, out + err
    doc = yaml.safe_load((exported / f"{SHOP_RG}.yaml").read_text())
    assert doc["defaults"]["tags"] == {"app": "shop", "cost-center": "0042", "env": "prod"}
    tags = {i["name"]: i.get("tags") for i in doc["identities"]}
    assert tags == {
        "id-shop-images-prod-uks-01": {"component": "images"},
        "id-shop-orders-prod-uks-01": {"component": "orders"},
        "id-shop-web-prod-uks-01": None,
    }
    rc, out, err = cli(capsys, "plan", str(exported), *local, "--detailed-exitcode")
    assert rc == 0, out + err
