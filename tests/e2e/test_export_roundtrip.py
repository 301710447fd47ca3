"""`export` through the CLI: live estate -> spec files -> `validate` (exit 0) -> `plan`.

The round trip, honestly: identities identity-reconciler owns plan zero changes; an identity it
does not own is a "takeover refused" notice, and with `--adopt` the only changes are the
ownership updates. The estate is built with plain SDK calls, as apply (owned objects: tag,
deterministic assignment names, description marker) or a person (the rest) would leave it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from azure.identity import ManagedIdentityCredential
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.msi.v2024_11_30.models import FederatedIdentityCredential, Identity
from azure.mgmt.resource.resources import ResourceManagementClient

from identity_reconciler.cli import main
from identity_reconciler.core import ownership
from local_azure.api import RunningEmulator

SUB = "11111111-1111-1111-1111-111111111111"
RG, RG2 = "rg-myapp-prod-uks-01", "rg-data-prod-uks-01"
RG_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}"
KV = f"{RG_ID}/providers/Microsoft.KeyVault/vaults/kv-myapp-prod-uks-01"
ST = f"{RG_ID}/providers/Microsoft.Storage/storageAccounts/stmyappproduks01"
SITE = f"{RG_ID}/providers/Microsoft.Web/sites/app-myapp-prod-uks-01"
FUNC = f"{RG_ID}/providers/Microsoft.Web/sites/func-myapp-prod-uks-01"
KV_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
BLOB_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
CONDITION = (
    "((!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'}))"
    " OR (@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name]"
    " StringEquals 'logs'))"
)
OWNED = {ownership.OWNER_TAG: ownership.OWNER_TAG_VALUE}


def role_id(guid: str) -> str:
    return f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{guid}"


def build_estate(emu: RunningEmulator, identity_env: Callable[[RunningEmulator], None]) -> None:
    identity_env(emu)
    cred = ManagedIdentityCredential(connection_verify=emu.info.ca_bundle)
    kw = emu.sdk_kwargs()
    msi = ManagedServiceIdentityClient(cred, SUB, **kw)
    auth = AuthorizationManagementClient(cred, SUB, **kw)
    res = ResourceManagementClient(cred, SUB, **kw)
    res.resource_groups.create_or_update(RG2, {"location": "uksouth"})

    def grant(scope: str, guid: str, principal: str, *, owned: bool, **extra: Any) -> None:
        name = ownership.assignment_name(scope, guid, principal) if owned else str(uuid.uuid4())
        description = extra.pop("description", None)
        auth.role_assignments.create(scope, name, RoleAssignmentCreateParameters(
            role_definition_id=role_id(guid), principal_id=principal,
            principal_type="ServicePrincipal",
            description=ownership.with_marker(description) if owned else description, **extra))

    app = msi.user_assigned_identities.create_or_update(
        RG, "id-myapp-prod-uks-01",
        Identity(location="uksouth", tags={"app": "myapp", "cost-center": "0042", **OWNED}))
    msi.federated_identity_credentials.create_or_update(
        RG, "id-myapp-prod-uks-01", "github-main", FederatedIdentityCredential(
            issuer="https://token.actions.githubusercontent.com",
            subject="repo:contoso/myapp:ref:refs/heads/main",
            audiences=["api://AzureADTokenExchange"]))
    res.resources.begin_update_by_id(
        SITE, {"identity": {"type": "UserAssigned", "userAssignedIdentities": {app.id: {}}}},
        api_version="2024-11-01").result()
    func = res.resources.begin_update_by_id(
        FUNC, {"identity": {"type": "SystemAssigned"}}, api_version="2024-11-01").result()
    assert func.identity is not None
    grant(KV, KV_SECRETS_USER, str(app.principal_id), owned=True, description="reads secrets")
    grant(ST, BLOB_READER, str(app.principal_id), owned=True, condition=CONDITION,
          condition_version="2.0")
    grant(ST, BLOB_READER, str(func.identity.principal_id), owned=True)

    data = msi.user_assigned_identities.create_or_update(
        RG2, "id-data-prod-uks-01", Identity(location="uksouth", tags=OWNED))
    grant(f"/subscriptions/{SUB}/resourceGroups/{RG2}", READER, str(data.principal_id),
          owned=True)

    legacy = msi.user_assigned_identities.create_or_update(
        RG, "legacy-identity", Identity(location="westeurope", tags={"team": "data"}))
    grant(KV, READER, str(legacy.principal_id), owned=False, description="granted by hand")


@pytest.fixture
def estate_state(
    tmp_path: Path,
    fresh_emulator: Callable[..., RunningEmulator],
    identity_env: Callable[[RunningEmulator], None],
) -> Path:
    state = tmp_path / "state"
    emu = fresh_emulator(state_dir=state)
    build_estate(emu, identity_env)
    emu.stop()  # each CLI run opens the same state with its own emulator
    return state


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def test_export_validate_plan_round_trip(
    estate_state: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = ["--cloud", "local", "--state-dir", str(estate_state)]
    out = tmp_path / "exported"
    rc, stdout, stderr = cli(capsys, "export", "--subscription", SUB, "--out", str(out), *target)
    assert rc == 0, stderr
    assert sorted(p.name for p in out.iterdir()) == [f"{RG2}.yaml", f"{RG}.yaml"]
    assert f"wrote {out / (RG + '.yaml')}: 2 identities, 1 resource, 4 grants (1 not owned" \
        in stdout
    assert "validate: 2 files, 0 errors" in stderr

    rc, _, stderr = cli(capsys, "validate", str(out))
    assert rc == 0, stderr

    rc, stdout, _ = cli(capsys, "plan", str(out), *target, "--format", "json",
                        "--detailed-exitcode")
    plan = json.loads(stdout)
    assert plan["errors"] == []
    assert plan["changes"] == [], [c["address"] for c in plan["changes"]]
    assert rc == 0
    assert [(n["code"], n["address"]) for n in plan["notices"]] == [
        ("takeover_refused", f"identity.{RG}/legacy-identity")
    ]

    rc, stdout, _ = cli(capsys, "plan", str(out), *target, "--format", "json",
                        "--detailed-exitcode", "--adopt")
    plan = json.loads(stdout)
    assert rc == 2
    assert [(c["address"], c["actions"], c["reason"]) for c in plan["changes"]] == [
        (f"identity.{RG}/legacy-identity", ["update"], "update_because_adopted")
    ]
    assert plan["changes"][0]["after"]["tags"] == {"managed-by": "identity-reconciler",
                                                  "team": "data"}
    assert [n["code"] for n in plan["notices"]] == ["grant_adopted"]


def test_export_never_overwrites_without_force(
    estate_state: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = ["--cloud", "local", "--state-dir", str(estate_state)]
    out = tmp_path / "exported"
    args = ["export", "--subscription", SUB, "--resource-group", RG2, "--out", str(out), *target]
    assert cli(capsys, *args)[0] == 0
    written = (out / f"{RG2}.yaml").read_bytes()
    (out / f"{RG2}.yaml").write_text("# edited by hand\n")

    rc, _, stderr = cli(capsys, *args)
    assert rc == 1
    assert "refusing to overwrite" in stderr
    assert (out / f"{RG2}.yaml").read_text() == "# edited by hand\n"

    assert cli(capsys, *args, "--force")[0] == 0
    assert (out / f"{RG2}.yaml").read_bytes() == written  # same estate, same bytes
    assert sorted(p.name for p in out.iterdir()) == [f"{RG2}.yaml"]

    rc, _, stderr = cli(capsys, "export", "--subscription", SUB, "--resource-group", "rg-nope",
                        "--out", str(out), *target)
    assert rc == 1
    assert f"no resource group rg-nope in subscription {SUB}" in stderr
