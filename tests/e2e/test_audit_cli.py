"""`audit` through the CLI on a seeded estate: a privileged grant, an orphaned grant and a badly
named identity are found; `--fail-on` decides the exit code; `--specs` adds what is undeclared
and brings its own naming pattern."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from azure.identity import ManagedIdentityCredential
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.msi.v2024_11_30.models import Identity

from identity_reconciler.cli import main
from identity_reconciler.core import armid, ownership
from local_azure.api import RunningEmulator, start

SUB = "11111111-1111-1111-1111-111111111111"
OTHER_SUB = "33333333-3333-3333-3333-333333333333"
RG = "rg-myapp-prod-uks-01"
RG_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}"
KV = f"{RG_ID}/providers/Microsoft.KeyVault/vaults/kv-myapp-prod-uks-01"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
KV_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
OWNED = {ownership.OWNER_TAG: ownership.OWNER_TAG_VALUE}


def build_estate(emu: RunningEmulator) -> None:
    cred = ManagedIdentityCredential(connection_verify=emu.info.ca_bundle)
    msi = ManagedServiceIdentityClient(cred, SUB, **emu.sdk_kwargs())
    auth = AuthorizationManagementClient(cred, SUB, **emu.sdk_kwargs())

    def grant(scope: str, guid: str, principal: str) -> None:
        auth.role_assignments.create(
            scope, ownership.assignment_name(scope, guid, principal),
            RoleAssignmentCreateParameters(
                role_definition_id=f"/subscriptions/{SUB}/providers/Microsoft.Authorization/"
                f"roleDefinitions/{guid}",
                principal_id=principal, principal_type="ServicePrincipal",
                description=ownership.with_marker(None)))

    identities = msi.user_assigned_identities
    app = identities.create_or_update(RG, "id-app-prod-uks-01", Identity(location="uksouth",
                                                                         tags=OWNED))
    grant(KV, KV_SECRETS_USER, str(app.principal_id))
    grant(f"/subscriptions/{SUB}", OWNER, str(app.principal_id))  # privileged, broad
    bad = identities.create_or_update(RG, "BadName", Identity(location="uksouth", tags=OWNED))
    grant(RG_ID, READER, str(bad.principal_id))
    gone = identities.create_or_update(RG, "id-gone-prod-uks-01", Identity(location="uksouth",
                                                                           tags=OWNED))
    grant(KV, READER, str(gone.principal_id))
    identities.delete(RG, "id-gone-prod-uks-01")  # its assignment stays behind, as in Azure


@pytest.fixture(scope="module")
def estate_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once for the module (the audits only read it)."""
    state = tmp_path_factory.mktemp("audit") / "state"
    emu = start(state_dir=state)
    try:
        with pytest.MonkeyPatch.context() as env:
            for name, value in emu.environ().items():
                env.setenv(name, value)
            build_estate(emu)
    finally:
        emu.stop()  # each CLI run opens the same state with its own emulator
    return state


def audit(capsys: pytest.CaptureFixture[str], state: Path, *extra: str) -> tuple[int, Any]:
    rc = main(["audit", "--cloud", "local", "--state-dir", str(state), "--format", "json",
               *extra])
    return rc, json.loads(capsys.readouterr().out)


def rules(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(f["id"], f["severity"], f["object"].rsplit("/", 1)[-1]) for f in report["findings"]]


def test_findings_on_a_seeded_estate(
    estate_state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, report = audit(capsys, estate_state)
    assert rc == 0  # without --fail-on, findings are a report, not a failure
    assert report["subscriptions"] == [SUB, OTHER_SUB]
    found = rules(report)
    owner_grant = ownership.assignment_name(f"/subscriptions/{SUB}", OWNER, next(
        i["principal_id"] for i in report["identities"] if i["id"].endswith("id-app-prod-uks-01")))
    assert ("AUD001", "error", owner_grant) in found
    assert ("AUD007", "warning", "BadName") in found
    orphan = [f for f in report["findings"] if f["id"] == "AUD002"]
    assert len(orphan) == 1
    assert "Reader on" in orphan[0]["message"]
    assert "kv-myapp-prod-uks-01" in orphan[0]["message"]
    assert "not audited" not in orphan[0]["message"]  # every subscription was read
    # the operator's Owner grants: not provably anything, so only information
    assert [s for i, s, _ in found if i == "AUD003"] == ["info", "info"]
    assert {i["address"].rsplit("/", 1)[-1] for i in report["identities"]} == {
        "id-app-prod-uks-01", "BadName"
    }

    assert audit(capsys, estate_state, "--fail-on", "error")[0] == 2
    assert audit(capsys, estate_state, "--fail-on", "warning")[0] == 2


def test_with_specs(estate_state: Path, tmp_path: Path,
                    capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "app.yaml"
    spec.write_text(f"""\
subscription: {SUB}
defaults: {{location: uksouth, resource_group: {RG}}}
policy: {{naming: "id-{{app}}-{{env}}-{{location}}-{{instance}}x"}}
identities:
  - name: id-app-prod-uks-01x
    roles:
      - {{role: Key Vault Secrets User, scope: {{type: Microsoft.KeyVault/vaults,
          name: kv-myapp-prod-uks-01}}}}
""")
    rc, report = audit(capsys, estate_state, "--specs", str(spec), "--subscription", SUB)
    assert rc == 0
    assert report["naming"] == "id-{app}-{env}-{location}-{instance}x"
    found = {(i, o) for i, _, o in rules(report)}
    assert ("AUD005", "BadName") in found
    assert ("AUD005", "id-app-prod-uks-01") in found  # the spec names id-app-prod-uks-01x
    assert ("AUD007", "id-app-prod-uks-01") in found  # the specs' own pattern
    orphan = next(f for f in report["findings"] if f["id"] == "AUD002")
    assert "or it lives in a subscription not audited" in orphan["message"]


def test_text_and_markdown(estate_state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--cloud", "local", "--state-dir", str(estate_state),
                 "--subscription", SUB]) == 0
    text = capsys.readouterr().out
    assert text.startswith("Audit: 2 managed identities with 3 grants in 1 subscription")
    assert "error   AUD001 privileged-broad-scope:" in text
    assert main(["audit", "--cloud", "local", "--state-dir", str(estate_state),
                 "--subscription", SUB, "--format", "markdown", "--fail-on", "error"]) == 2
    md = capsys.readouterr().out
    assert md.startswith("### identity-reconciler audit\n")
    assert "| error | AUD001 privileged-broad-scope |" in md


def test_audit_names_the_specs_identities_as_plan_does(
    estate_state: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Audit reads a second subscription as well; the specs' one is still home, so the
    identity reads `identity.<rg>/<name>` in both, and --target takes either spelling."""
    spec = tmp_path / "app.yaml"
    spec.write_text(f"""\
subscription: {SUB}
defaults: {{location: uksouth, resource_group: {RG}}}
identities:
  - name: id-app-prod-uks-01
    tags: {{env: prod}}
""")
    address = f"identity.{RG}/id-app-prod-uks-01"
    state = ["--cloud", "local", "--state-dir", str(estate_state)]
    assert main(["plan", str(spec), *state, "--format", "json"]) == 0
    planned = json.loads(capsys.readouterr().out)["changes"]
    assert address in [c["address"] for c in planned]
    rc, report = audit(capsys, estate_state, "--specs", str(spec), "--subscription", SUB,
                       "--subscription", OTHER_SUB)
    assert rc == 0
    assert report["subscriptions"] == [SUB, OTHER_SUB]
    audited = {armid.key(i["id"]): i["address"] for i in report["identities"]}
    app_id = armid.identity_id(SUB, RG, "id-app-prod-uks-01")
    assert audited[armid.key(app_id)] == address
    for target in (address, f"identity.{SUB}/{RG}/ID-APP-PROD-UKS-01"):
        assert main(["plan", str(spec), *state, "--format", "json", "--target", target]) == 0
        kept = json.loads(capsys.readouterr().out)["changes"]
        assert [c["address"] for c in kept] == [address]
    assert main(["plan", str(spec), *state, "--target", f"{RG}/id-app-prod-uks-01"]) == 1
    err = capsys.readouterr().err
    assert f"error: --target {RG}/id-app-prod-uks-01: not an address" in err
    assert "Traceback" not in err
