"""The whole loop on the seed scenario, through the CLI and the emulator:

plan -> apply -> plan (zero changes) -> a change made outside git through the SDK -> drift
(exit 2, naming each change) -> drift --fix -> drift (exit 0) -> plan (zero changes).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from identity_reconciler.azure.clients import open_session
from identity_reconciler.cli import main

REPO = Path(__file__).resolve().parents[2]
SPECS = str(REPO / "specs")
SUB = "11111111-1111-1111-1111-111111111111"
RG = "rg-myapp-prod-uks-01"
IDENTITY = "id-myapp-prod-uks-01"
KV = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.KeyVault/vaults/" \
    "kv-myapp-prod-uks-01"
# The local emulator has no SQL endpoint: drift says so instead of calling the SQL users equal.
NO_DRIFT = (
    "No drift: live Azure matches the specs.\n\nNotices:\n"
    "  ! specs/myapp-prod.yaml:33:5: SQL users of sql-myapp-prod-uks-01/appdb not checked: "
    "no SQL endpoint on the local emulator\n"
)


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    rc = main(list(argv))
    return rc, capsys.readouterr().out


def change_outside_git(state: Path) -> None:
    """What a person might do in the portal: plain SDK calls, no identity-reconciler logic."""
    with open_session("local", state_dir=state) as session:
        msi = session.msi(SUB)
        msi.federated_identity_credentials.delete(RG, IDENTITY, "github-production")
        identity = msi.user_assigned_identities.get(RG, IDENTITY)
        tags = dict(identity.tags or {})
        tags["owner"] = "someone-else"
        msi.user_assigned_identities.update(RG, IDENTITY, {"tags": tags})
        grants = session.authorization(SUB).role_assignments
        for assignment in grants.list_for_scope(KV):
            if (assignment.principal_id or "").lower() == str(identity.principal_id).lower():
                grants.delete_by_id(assignment.id)


def test_plan_apply_plan_drift_fix_drift(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = ["--cloud", "local", "--state-dir", str(tmp_path / "state")]
    plan_file = str(tmp_path / "plan.json")

    rc, _ = cli(capsys, "plan", SPECS, *target, "--out", plan_file, "--detailed-exitcode")
    assert rc == 2
    rc, _ = cli(capsys, "apply", plan_file, "--specs", SPECS, *target)
    assert rc == 0
    rc, out = cli(capsys, "plan", SPECS, *target, "--detailed-exitcode")
    assert rc == 0, out
    assert "No changes." in out
    rc, out = cli(capsys, "drift", SPECS, *target)
    assert (rc, out) == (0, NO_DRIFT)

    change_outside_git(tmp_path / "state")

    rc, out = cli(capsys, "drift", SPECS, *target, "--format", "json")
    assert rc == 2
    report = json.loads(out)
    assert {(i["address"], i["drift"]) for i in report["items"]} == {
        (f"identity.{RG}/{IDENTITY}", "changed"),
        (f"federated_credential.{RG}/{IDENTITY}/github-production", "missing"),
        (f"grant.{RG}/{IDENTITY}/Key Vault Secrets User@{RG}/vaults/kv-myapp-prod-uks-01",
         "missing"),
    }
    tags = next(i for i in report["items"] if i["kind"] == "identity")
    assert tags["details"] == ['tags.owner: live "someone-else", specs "platform"']
    assert report["fixable"] == 3

    rc, out = cli(capsys, "drift", SPECS, *target, "--fix")
    assert rc == 0, out
    assert "Apply complete: 3 done, 0 failed, 0 skipped" in out
    assert "After --fix: No drift: live Azure matches the specs." in out

    rc, out = cli(capsys, "drift", SPECS, *target)
    assert (rc, out) == (0, NO_DRIFT)
    rc, out = cli(capsys, "plan", SPECS, *target, "--detailed-exitcode")
    assert rc == 0, out
