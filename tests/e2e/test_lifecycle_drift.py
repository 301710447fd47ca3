"""Drift's vocabulary and signs, and acknowledged drift, end to end on the emulator.

A hand-made grant on a managed identity is `unmanaged` (`!`), never `extra` (which is said of
what identity-reconciler owns); what `--fix` would create is `missing` with the plan's `+`. An
acknowledged hand-made grant keeps the nightly job green until its expiry date.
"""

from __future__ import annotations

import json
import uuid
from datetime import date
from pathlib import Path

import pytest

from identity_reconciler.azure.clients import open_session
from identity_reconciler.cli import main
from identity_reconciler.core import armid

SUB = "11111111-1111-1111-1111-111111111111"
RG = "rg-shop-dev"
NAME = "id-shop-dev-uks-01"
RG_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
HAND = f"grant.{RG}/{NAME}/Reader@{RG}"
SPEC = f"""\
subscription: {SUB}
defaults: {{location: uksouth, resource_group: {RG}}}
identities:
  - name: {NAME}
    federated_credentials:
      - {{name: gh-main, issuer: "https://token.actions.githubusercontent.com",
          subject: "repo:a/b"}}
"""


def acknowledge(expires: str) -> str:
    return f"""\
subscription: {SUB}
acknowledged:
  - principal: {NAME}
    role: Reader
    scope: {{resource_group: {RG}}}
    reason: read access for the data team's migration
    expires: "{expires}"
"""


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    rc = main(list(argv))
    return rc, capsys.readouterr().out


@pytest.fixture
def estate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, list[str]]:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "dev.yaml").write_text(SPEC)
    target = ["--cloud", "local", "--state-dir", str(tmp_path / "state")]
    assert cli(capsys, "apply", str(specs), *target, "--auto-approve")[0] == 0
    with open_session("local", state_dir=tmp_path / "state") as session:
        identity = session.msi(SUB).user_assigned_identities.get(RG, NAME)
        session.authorization(SUB).role_assignments.create(
            RG_ID, str(uuid.uuid4()),
            {
                "role_definition_id": armid.role_definition_id(READER, SUB),
                "principal_id": str(identity.principal_id),
                "principal_type": "ServicePrincipal",
            },
        )
        session.msi(SUB).federated_identity_credentials.delete(RG, NAME, "gh-main")
    return specs, target


def test_a_hand_made_grant_is_unmanaged_and_signs_are_the_plans(
    estate: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    specs, target = estate
    rc, out = cli(capsys, "drift", str(specs), *target, "--format", "json")
    assert rc == 2
    report = json.loads(out)
    assert {(i["address"], i["drift"]) for i in report["items"]} == {
        (HAND, "unmanaged"),
        (f"federated_credential.{RG}/{NAME}/gh-main", "missing"),
    }
    rc, text = cli(capsys, "drift", str(specs), *target)
    assert f"  ! {HAND}" in text
    assert f"  + federated_credential.{RG}/{NAME}/gh-main" in text
    rc, plan = cli(capsys, "plan", str(specs), *target)
    assert f"  + federated_credential.{RG}/{NAME}/gh-main" in plan  # the same sign as in drift
    assert text.rstrip().endswith("Drift: 1 missing, 1 unmanaged.")


def test_an_acknowledged_grant_is_not_drift_until_it_expires(
    estate: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    specs, target = estate
    assert cli(capsys, "drift", str(specs), *target, "--fix")[0] == 2  # the hand grant stays
    (specs / "acknowledged.yaml").write_text(acknowledge("2999-12-31"))
    rc, out = cli(capsys, "drift", str(specs), *target)
    assert rc == 0, out
    assert out.startswith("No drift: live Azure matches the specs. (1 acknowledged)")
    assert f"  = {HAND}" in out
    assert "acknowledged until 2999-12-31: read access for the data team's migration" in out
    rc, md = cli(capsys, "drift", str(specs), *target, "--format", "markdown")
    assert rc == 0
    assert md.startswith("### identity-reconciler drift: 0 differences\n")
    assert f"| = | `{HAND}` |" in md

    yesterday = date.fromordinal(date.today().toordinal() - 1).isoformat()
    (specs / "acknowledged.yaml").write_text(acknowledge(yesterday))
    rc, out = cli(capsys, "drift", str(specs), *target, "--format", "json")
    assert rc == 2
    (item,) = json.loads(out)["items"]
    assert item["drift"] == "unmanaged"
    assert f"its acknowledgment expired on {yesterday}" in item["summary"]
    assert item["source"].endswith("acknowledged.yaml:3:5")


def test_an_acknowledgment_names_a_declared_principal_and_a_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "dev.yaml").write_text(SPEC)
    (specs / "ack.yaml").write_text(
        acknowledge("next week").replace(f"principal: {NAME}", "principal: id-nobody")
    )
    rc = main(["validate", str(specs)])
    captured = capsys.readouterr()
    found = captured.out + captured.err
    assert rc == 1
    assert "ack.yaml:7:14: error IR012" in found
    assert "'next week' is not a date" in found
    (specs / "ack.yaml").write_text(
        acknowledge("2999-01-01").replace(f"principal: {NAME}", "principal: id-nobody")
    )
    rc = main(["validate", str(specs)])
    captured = capsys.readouterr()
    assert rc == 1
    assert "ack.yaml:3:16: error IR032: acknowledged principal 'id-nobody'" in captured.out
