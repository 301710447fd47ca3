"""A flexible federated credential end to end through the CLI on the local Azure: plan shows it,
apply writes it through the SDK pipeline at 2025-01-31-preview, the next plan is empty (the
2024-11-30 reads cannot see the expression, and must not make that a change), a changed
expression is an update applied from the saved plan, drift sees one changed outside git, and
export writes it back so that the exported specs plan nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from estates import write

from identity_reconciler.azure import flexible_credentials
from identity_reconciler.azure.clients import open_session
from identity_reconciler.cli import main

SUB = "11111111-1111-1111-1111-111111111111"
RG = "rg-myapp-prod-uks-01"
NAME = "id-myapp-prod-uks-01"
MI = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.ManagedIdentity"
FIC_ID = f"{MI}/userAssignedIdentities/{NAME}/federatedIdentityCredentials/github-branches"
ADDRESS = f"federated_credential.{RG}/{NAME}/github-branches"
BRANCHES = "claims['sub'] matches 'repo:contoso/myapp:ref:refs/heads/*'"
REPO = "claims['repository_id'] eq '123456'"


def spec(expression: str) -> str:
    return f"""\
subscription: {SUB}
defaults: {{location: uksouth, resource_group: {RG}}}
identities:
  - name: {NAME}
    federated_credentials:
      - name: github-branches
        issuer: https://token.actions.githubusercontent.com
        claims_matching_expression: "{expression}"
      - name: github-main
        issuer: https://token.actions.githubusercontent.com
        subject: repo:contoso/myapp:ref:refs/heads/main
    roles:
      - {{role: Reader, scope: {{resource_group: {RG}}}}}
"""


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def test_plan_apply_and_plan_again_to_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    specs = write(tmp_path / "specs", {"app.yaml": spec(f"{BRANCHES} and {REPO}")})
    state = tmp_path / "state"
    target = ["--cloud", "local", "--state-dir", str(state)]

    rc, out, err = cli(capsys, "plan", str(specs), *target, "--detailed-exitcode")
    assert rc == 2, out + err
    assert f"+ {ADDRESS}" in out
    assert f'+ claims_matching_expression = "{BRANCHES} and {REPO}"' in out
    rc, out, err = cli(capsys, "apply", str(specs), *target, "--auto-approve")
    assert rc == 0, out + err

    with open_session("local", state_dir=state) as session:
        written = flexible_credentials.get_credential(session, FIC_ID)
    assert written.subject is None
    assert written.claims_matching_expression is not None
    assert written.claims_matching_expression.value == f"{BRANCHES} and {REPO}"

    rc, out, err = cli(capsys, "plan", str(specs), *target, "--detailed-exitcode")
    assert rc == 0, out + err
    assert "No changes." in out

    # A changed expression: one update, applied from the reviewed plan file.
    (specs / "app.yaml").write_text(spec(f"{BRANCHES.replace('*', 'release/*')} and {REPO}"))
    plan_file = tmp_path / "plan.json"
    rc, out, _ = cli(capsys, "plan", str(specs), *target, "--out", str(plan_file),
                     "--detailed-exitcode")  # fmt: skip
    assert rc == 2
    changes = json.loads(plan_file.read_text())["changes"]
    assert [(c["address"], c["reason"]) for c in changes] == [
        (ADDRESS, "update_because_claims_matching_expression_differs")
    ]
    rc, out, err = cli(capsys, "apply", str(plan_file), *target)
    assert rc == 0, out + err
    rc, out, err = cli(capsys, "plan", str(specs), *target, "--detailed-exitcode")
    assert rc == 0, out + err


def test_drift_and_export_see_the_expression(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    specs = write(tmp_path / "specs", {"app.yaml": spec(f"{BRANCHES} and {REPO}")})
    state = tmp_path / "state"
    target = ["--cloud", "local", "--state-dir", str(state)]
    assert cli(capsys, "apply", str(specs), *target, "--auto-approve")[0] == 0

    # Someone widens the expression outside git, at the api-version that knows it.
    widened = b'{"properties": {"issuer": "https://token.actions.githubusercontent.com", ' \
        b'"audiences": ["api://AzureADTokenExchange"], "claimsMatchingExpression": ' \
        b'{"value": "claims[\'sub\'] matches \'repo:contoso/*\'", "languageVersion": 1}}}'
    with open_session("local", state_dir=state) as session:
        flexible_credentials.put_credential(session, FIC_ID, widened)
    rc, out, err = cli(capsys, "drift", str(specs), *target)
    assert rc == 2, out + err
    assert ADDRESS in out
    assert "repo:contoso/*" in out

    assert cli(capsys, "apply", str(specs), *target, "--auto-approve")[0] == 0
    exported = tmp_path / "exported"
    rc, out, err = cli(capsys, "export", "--subscription", SUB, "--resource-group", RG,
                       "--out", str(exported), *target)  # fmt: skip
    assert rc == 0, out + err
    text = (exported / f"{RG}.yaml").read_text()
    assert f"claims_matching_expression: {BRANCHES} and {REPO}" in text
    rc, out, err = cli(capsys, "plan", str(exported), *target, "--detailed-exitcode")
    assert rc == 0, out + err
