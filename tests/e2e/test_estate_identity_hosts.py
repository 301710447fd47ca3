"""Identities on every resource type people attach them to, through plan and apply locally.

The data platform attaches one identity to a Data Factory, a SQL server, a Cosmos DB account,
a Logic App, an AKS cluster, a container group, a scale set, a Container Apps job, a function
app and its staging slot, and turns system-assigned identities on for API Management, an
Automation account and the factory. Types that PATCH only their tags (Logic, AKS, container
groups) are written with a PUT; the SQL server gets its primary user-assigned identity.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from azure.identity import ManagedIdentityCredential
from azure.mgmt.resource.resources import ResourceManagementClient
from estates import DATA_PLATFORM, DATA_RG_ID, SHOP_SUB, SQL_SERVER, cli, write

from identity_reconciler.core import identity_hosts
from local_azure.api import RunningEmulator

IDENTITY = f"{DATA_RG_ID}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/" \
    "id-data-ingest-prod-uks-01"


def test_every_identity_host_type_applies_and_converges(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fresh_emulator: Callable[..., RunningEmulator],
    identity_env: Callable[[RunningEmulator], None],
) -> None:
    specs = str(write(tmp_path / "specs", {"data.yaml": DATA_PLATFORM}))
    local = ["--cloud", "local", "--state-dir", str(tmp_path / "state")]
    rc, out, err = cli(capsys, "validate", specs)
    assert rc == 0, out + err
    plan = str(tmp_path / "plan.json")
    rc, out, err = cli(capsys, "plan", specs, *local, "--out", plan, "--detailed-exitcode")
    assert rc == 2, err
    rc, out, err = cli(capsys, "apply", plan, *local)
    assert rc == 0, out + err
    assert "0 failed" in out + err
    rc, out, err = cli(capsys, "plan", specs, *local, "--detailed-exitcode")
    assert rc == 0, out + err

    emu = fresh_emulator(state_dir=tmp_path / "state")
    identity_env(emu)
    res = ResourceManagementClient(
        ManagedIdentityCredential(connection_verify=emu.info.ca_bundle), SHOP_SUB,
        **emu.sdk_kwargs(),
    )
    for rtype, name in (
        ("Microsoft.Logic/workflows", "logic-data-prod-uks-01"),
        ("Microsoft.ContainerService/managedClusters", "aks-data-prod-uks-01"),
        ("Microsoft.ContainerInstance/containerGroups", "ci-data-prod-uks-01"),
        ("Microsoft.Web/sites/slots", "func-data-prod-uks-01/slots/staging"),
    ):
        host = identity_hosts.find(rtype)
        assert host is not None
        rid = f"{DATA_RG_ID}/providers/{rtype.rsplit('/slots', 1)[0]}/{name}"
        body = res.resources.get_by_id(rid, api_version=host.api_version)
        assert body.identity is not None, rtype
        attached = {k.lower() for k in body.identity.user_assigned_identities or {}}
        assert IDENTITY.lower() in attached, rtype
    sql = res.resources.get_by_id(SQL_SERVER, api_version="2023-08-01")
    assert sql.properties is not None
    assert sql.properties["primaryUserAssignedIdentityId"].lower() == IDENTITY.lower()
    factory = res.resources.get_by_id(
        f"{DATA_RG_ID}/providers/Microsoft.DataFactory/factories/adf-data-prod-uks-01",
        api_version="2018-06-01",
    )
    assert factory.identity is not None
    assert factory.identity.type == "SystemAssigned,UserAssigned"
    emu.stop()

    # export writes every one of them back (a slot as app/slot), and plans clean
    exported = tmp_path / "exported"
    rc, out, err = cli(capsys, "export", "--subscription", SHOP_SUB, "--out", str(exported),
                       *local)
    assert rc == 0, out + err
    text = (exported / "rg-data-prod-uks-01.yaml").read_text()
    assert "name: func-data-prod-uks-01/staging" in text
    for host in identity_hosts.TABLE:
        if host.type not in ("Microsoft.Compute/virtualMachines", "Microsoft.App/containerApps"):
            assert host.type in text, host.type
    rc, out, err = cli(capsys, "plan", str(exported), *local, "--detailed-exitcode")
    assert rc == 0, out + err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            "  - name: id-data-other-prod-uks-01\n"
            "    assigned_to: [{type: Microsoft.Logic/workflows, name: logic-data-prod-uks-01}]\n",
            "Logic Apps (Consumption) take at most 1 user-assigned identity",
        ),
    ],
)
def test_one_identity_types_refuse_a_second(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: str, message: str
) -> None:
    text = DATA_PLATFORM.replace("resources:\n", extra + "resources:\n", 1)
    specs = str(write(tmp_path / "specs", {"data.yaml": text}))
    rc, out, err = cli(capsys, "validate", specs)
    assert rc == 1
    assert "IR036" in out + err
    assert message in out + err


def test_system_and_user_assigned_together_are_refused_where_the_type_takes_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = DATA_PLATFORM + "  - {type: Microsoft.ContainerService/managedClusters, " \
        "name: aks-data-prod-uks-01}\n"
    specs = str(write(tmp_path / "specs", {"data.yaml": text}))
    rc, out, err = cli(capsys, "validate", specs)
    assert rc == 1
    assert "AKS (control-plane identity) take the system-assigned identity or a " \
        "user-assigned one, not both" in out + err
    assert "data.yaml:" in out + err
