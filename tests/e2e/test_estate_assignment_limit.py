"""ARM's 4,000 role assignments per subscription: plan warns from 90 %, errors past it, and
the local Azure refuses the 4,001st with RoleAssignmentLimitExceeded.

The estate: a multi-tenant shop where each customer's support group holds Reader on that
customer's Service Bus queues, thousands of them, granted by hand over the years; the specs
then add the app's three grants.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.identity import ManagedIdentityCredential
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters
from estates import SHOP_RG, SHOP_RG_ID, SHOP_SUB, cli, write

from local_azure.api import RunningEmulator

TENANT = "22222222-2222-2222-2222-222222222222"  # the default world's
SUPPORT = "5e1c7a3b-9d2f-4b8e-a6c4-1f0e2d3c4b5a"
GROUPS = 100


def support_group(n: int) -> str:
    return f"5e1c7a3b-9d2f-4b8e-a6c4-{n % GROUPS:012d}"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
NAMESPACE = f"{SHOP_RG_ID}/providers/Microsoft.ServiceBus/namespaces/sb-shop-prod-uks-01"
SPEC = f"""\
subscription: {SHOP_SUB}
defaults: {{location: uksouth, resource_group: {SHOP_RG}, tags: {{app: shop, env: prod}}}}
identities:
  - name: id-shop-prod-uks-01
    roles:
      - role: AcrPull
        scope: {{type: Microsoft.ContainerRegistry/registries, name: crshopproduks01}}
      - role: Azure Service Bus Data Sender
        scope: {{type: Microsoft.ServiceBus/namespaces, name: sb-shop-prod-uks-01}}
      - {{role: Reader, scope: {{resource_group: {SHOP_RG}}}}}
"""


def estate(customers: int) -> dict[str, Any]:
    return {
        "tenant_id": TENANT,
        "subscriptions": [{
            "id": SHOP_SUB, "display_name": "Shop production",
            "resource_groups": [{
                "name": SHOP_RG, "location": "uksouth",
                "resources": [
                    {"type": "Microsoft.ServiceBus/namespaces", "name": "sb-shop-prod-uks-01"},
                ],
            }],
        }],
        "principals": [
            {"object_id": SUPPORT, "kind": "Group", "display_name": "grp-support"},
            *(
                {"object_id": support_group(n), "kind": "Group",
                 "display_name": f"grp-support-customer-{n:03d}"}
                for n in range(GROUPS)
            ),
        ],
        "role_assignments": [
            {"scope": f"{NAMESPACE}/queues/customer-{n:05d}", "role": "Reader",
             "principal_id": support_group(n)}
            for n in range(customers)
        ],
    }


def _plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
    fresh_emulator: Callable[..., RunningEmulator], customers: int,
) -> tuple[int, dict[str, Any], str]:
    state = tmp_path / "state"
    fresh_emulator(world=estate(customers), state_dir=state).stop()
    specs = str(write(tmp_path / "specs", {"shop.yaml": SPEC}))
    local = ["--cloud", "local", "--state-dir", str(state)]
    out_file = tmp_path / "plan.json"
    rc, _, err = cli(capsys, "plan", specs, *local, "--out", str(out_file), "--format", "json")
    return rc, json.loads(out_file.read_text()) if out_file.exists() else {}, err


def test_plan_warns_from_ninety_percent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
    fresh_emulator: Callable[..., RunningEmulator],
) -> None:
    rc, plan, _ = _plan(tmp_path, capsys, fresh_emulator, 3597)
    assert rc == 0
    assert not plan["errors"]
    near = [n for n in plan["notices"] if n["code"] == "role_assignment_limit_near"]
    assert len(near) == 1
    assert "3,600 of the 4,000 role assignments" in near[0]["message"]


def test_plan_errors_past_the_limit_and_the_local_azure_enforces_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
    fresh_emulator: Callable[..., RunningEmulator],
    identity_env: Callable[[RunningEmulator], None],
) -> None:
    rc, plan, err = _plan(tmp_path, capsys, fresh_emulator, 3998)
    assert rc == 1
    errors = [e for e in plan["errors"] if e["code"] == "role_assignment_limit"]
    assert len(errors) == 1, err
    assert "4,001 role assignments (3,998 live, 3 added by this plan)" in errors[0]["message"]
    assert "RoleAssignmentLimitExceeded" in errors[0]["message"]

    emu = fresh_emulator(state_dir=tmp_path / "state")
    identity_env(emu)
    auth = AuthorizationManagementClient(
        ManagedIdentityCredential(connection_verify=emu.info.ca_bundle), SHOP_SUB,
        **emu.sdk_kwargs(),
    )

    def grant(n: int) -> None:
        auth.role_assignments.create(
            f"{NAMESPACE}/queues/customer-{n:05d}", f"00000000-0000-4000-8000-{n:012d}",
            RoleAssignmentCreateParameters(
                role_definition_id=f"/subscriptions/{SHOP_SUB}/providers/Microsoft."
                f"Authorization/roleDefinitions/{READER}",
                principal_id=SUPPORT, principal_type="Group",
            ),
        )

    grant(5000)
    grant(5001)  # the 4,000th
    with pytest.raises(HttpResponseError) as refused:
        grant(5002)
    assert refused.value.error is not None
    assert refused.value.error.code == "RoleAssignmentLimitExceeded"
