"""Quietness: an estate made by other hands, in Azure's own spellings, that equals a spec plans
zero changes. Built directly through the SDK (not our writer) with every casing quirk ARM has."""

from __future__ import annotations

import json
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
RG = "rg-myapp-prod-uks-01"
LOWER_RG = f"/subscriptions/{SUB}/resourcegroups/{RG}"  # ARM's own spelling in answers
RG_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}"
KV = f"{RG_ID}/providers/Microsoft.KeyVault/vaults/kv-myapp-prod-uks-01"
ST = f"{RG_ID}/providers/Microsoft.Storage/storageAccounts/stmyappproduks01"
SITE = f"{LOWER_RG}/providers/Microsoft.Web/sites/app-myapp-prod-uks-01"
FUNC = f"{LOWER_RG}/providers/Microsoft.Web/sites/func-myapp-prod-uks-01"
CAPP = f"{LOWER_RG}/providers/Microsoft.App/containerApps/ca-myapp-prod-uks-01"
KV_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
BLOB_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
CONDITION = (
    "((!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'}))"
    " OR (@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name]"
    " StringEquals 'logs'))"
)

SPEC = f"""\
subscription: {SUB}
defaults:
  location: uksouth
  resource_group: {RG}
  tags: {{app: myapp, env: prod}}
identities:
  - name: id-quiet-prod-uks-01
    tags: {{owner: platform}}
    federated_credentials:
      - name: github-main
        issuer: https://token.actions.githubusercontent.com
        subject: repo:contoso/myapp:ref:refs/heads/main
    assigned_to:
      - {{type: Microsoft.Web/sites, name: app-myapp-prod-uks-01}}
      - {{type: Microsoft.App/containerApps, name: ca-myapp-prod-uks-01}}
    roles:
      - role: Key Vault Secrets User
        scope: {{type: Microsoft.KeyVault/vaults, name: kv-myapp-prod-uks-01}}
      - role: Storage Blob Data Reader
        scope: {{type: Microsoft.Storage/storageAccounts, name: stmyappproduks01}}
        condition: "{CONDITION}"
        description: logs for the app
resources:
  - type: Microsoft.Web/sites
    name: func-myapp-prod-uks-01
    system_assigned: true
    roles:
      - role: Reader
        scope: {{resource_group: {RG}}}
"""


def role_id(guid: str) -> str:
    # Subscription-scoped form, as ARM answers it (the specs resolve names to the tenant form).
    return f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{guid}"


def build_estate(emu: RunningEmulator, identity_env: Callable[[RunningEmulator], None]) -> None:
    identity_env(emu)
    cred = ManagedIdentityCredential(connection_verify=emu.info.ca_bundle)
    kw = emu.sdk_kwargs()
    msi = ManagedServiceIdentityClient(cred, SUB, **kw)
    auth = AuthorizationManagementClient(cred, SUB, **kw)
    res = ResourceManagementClient(cred, SUB, **kw)

    tags = {"owner": "platform", ownership.OWNER_TAG: ownership.OWNER_TAG_VALUE,
            "env": "prod", "app": "myapp"}  # another order than the spec's
    ident = msi.user_assigned_identities.create_or_update(
        RG, "id-quiet-prod-uks-01", Identity(location="UK South", tags=tags))
    msi.federated_identity_credentials.create_or_update(
        RG, "id-quiet-prod-uks-01", "github-main",
        FederatedIdentityCredential(issuer="https://token.actions.githubusercontent.com",
                                    subject="repo:contoso/myapp:ref:refs/heads/main",
                                    audiences=["api://AzureADTokenExchange"]))
    ident_id = f"{LOWER_RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/" \
               "id-quiet-prod-uks-01"
    res.resources.begin_update_by_id(
        SITE, {"identity": {"type": "SystemAssigned, UserAssigned",
                            "userAssignedIdentities": {ident_id: {}}}},
        api_version="2024-11-01").result()
    res.resources.begin_update_by_id(
        CAPP, {"identity": {"type": "SystemAssigned,UserAssigned",
                            "userAssignedIdentities": {ident_id.upper(): {}}}},
        api_version="2024-03-01").result()
    func = res.resources.begin_update_by_id(
        FUNC, {"identity": {"type": "SystemAssigned"}}, api_version="2024-11-01").result()

    assert func.identity is not None
    pid, func_pid = str(ident.principal_id), str(func.identity.principal_id)
    for scope, guid, principal, extra in (
        (KV, KV_SECRETS_USER, pid, {}),
        (ST, BLOB_READER, pid, {"condition": CONDITION, "condition_version": "2.0",
                                "description": "logs for the app"}),
        (RG_ID, READER, func_pid, {}),
    ):
        description = ownership.with_marker(extra.pop("description", None))
        auth.role_assignments.create(
            scope.replace("resourceGroups", "resourcegroups"),
            ownership.assignment_name(scope, guid, principal),
            RoleAssignmentCreateParameters(
                role_definition_id=role_id(guid), principal_id=principal,
                principal_type="ServicePrincipal", description=description, **extra),
        )


@pytest.fixture
def estate_state(
    tmp_path: Path,
    fresh_emulator: Callable[..., RunningEmulator],
    identity_env: Callable[[RunningEmulator], None],
) -> Path:
    state = tmp_path / "state"
    emu = fresh_emulator(state_dir=state)
    build_estate(emu, identity_env)
    emu.stop()  # the plan opens the same state with its own emulator
    return state


def plan_json(
    spec_text: str, state: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, Any]]:
    spec = state.parent / "quiet.yaml"
    spec.write_text(spec_text)
    rc = main(["plan", str(spec), "--cloud", "local", "--state-dir", str(state),
               "--format", "json", "--detailed-exitcode"])
    return rc, json.loads(capsys.readouterr().out)


def test_estate_equal_to_the_spec_plans_no_changes(
    estate_state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, plan = plan_json(SPEC, estate_state, capsys)
    assert plan["changes"] == [], [c["address"] for c in plan["changes"]]
    assert plan["errors"] == []
    assert rc == 0
    # 1 identity list + 1 role-assignment list + 3 identity blocks + 1 credential list
    assert plan["live_requests"] == 6


def test_a_real_difference_is_still_seen(
    estate_state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, plan = plan_json(SPEC.replace("description: logs for the app",
                                      "description: audit logs"), estate_state, capsys)
    assert rc == 2
    assert [(c["kind"], c["actions"]) for c in plan["changes"]] == [("grant", ["update"])]
