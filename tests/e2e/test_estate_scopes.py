"""Any ARM resource type is a grant scope locally: registries, queues, blob containers, secrets.

The shop estate names types the emulator does not model; `--cloud local` seeds each as a
generic resource (children under their parents), and plan, apply and a re-plan work on it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from azure.identity import ManagedIdentityCredential
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient
from estates import ACR, CONTAINER, QUEUE, SECRET, SHOP, SHOP_SUB, cli, write

from local_azure.api import RunningEmulator


def test_any_type_and_nested_types_plan_apply_and_converge(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fresh_emulator: Callable[..., RunningEmulator],
    identity_env: Callable[[RunningEmulator], None],
) -> None:
    specs = str(write(tmp_path / "specs", {"shop.yaml": SHOP}))
    state = tmp_path / "state"
    local = ["--cloud", "local", "--state-dir", str(state)]
    assert cli(capsys, "validate", specs)[0] == 0
    plan = str(tmp_path / "plan.json")
    rc, out, err = cli(capsys, "plan", specs, *local, "--out", plan, "--detailed-exitcode")
    assert rc == 2, err
    assert "world" not in (out + err).lower()
    for scope in (ACR, QUEUE, CONTAINER, SECRET):
        assert scope in out
    rc, out, err = cli(capsys, "apply", plan, *local)
    assert rc == 0, err
    assert "6 done, 0 failed" in out + err
    rc, out, err = cli(capsys, "plan", specs, *local, "--detailed-exitcode")
    assert rc == 0, out + err

    emu = fresh_emulator(state_dir=state)
    identity_env(emu)
    cred = ManagedIdentityCredential(connection_verify=emu.info.ca_bundle)
    auth = AuthorizationManagementClient(cred, SHOP_SUB, **emu.sdk_kwargs())
    for scope in (ACR, QUEUE, CONTAINER, SECRET):
        found = list(auth.role_assignments.list_for_scope(scope, filter="atScope()"))
        assert any(a.scope.lower() == scope.lower() for a in found), scope
    res = ResourceManagementClient(cred, SHOP_SUB, **emu.sdk_kwargs())
    queue = res.resources.get_by_id(QUEUE, api_version="2022-10-01-preview")
    assert queue.type == "Microsoft.ServiceBus/namespaces/queues"
    assert queue.name == "sb-shop-prod-uks-01/orders"


def test_a_name_the_local_azure_refuses_never_speaks_of_worlds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = SHOP.replace("name: crshopproduks01", "name: cr-shop").replace(
        "Microsoft.ContainerRegistry/registries", "Microsoft.KeyVault/vaults"
    ).replace("cr-shop", "kv--shop")
    specs = str(write(tmp_path / "specs", {"shop.yaml": bad}))
    rc, out, err = cli(capsys, "plan", specs, "--cloud", "local", "--state-dir",
                       str(tmp_path / "s"))
    assert rc == 1
    assert "'kv--shop' is not a valid name for Microsoft.KeyVault/vaults" in err
    assert "world" not in (out + err).lower()
    assert "Traceback" not in err
