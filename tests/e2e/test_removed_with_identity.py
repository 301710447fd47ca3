"""A plan that deletes an identity lists the federated credentials that go with it.

ARM deletes an identity's federated credentials with it; a rename therefore ends every trust
relationship of the old identity, and the review must say which, whether or not the specs
manage credentials.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from identity_reconciler.azure.clients import open_session
from identity_reconciler.cli import main

SUB = "11111111-1111-1111-1111-111111111111"
RG = "rg-shop-dev"
SUBJECT = "repo:contoso/shop:environment:dev"


def spec(name: str, *, credentials: bool) -> str:
    fic = (
        "    federated_credentials:\n"
        '      - {name: github-dev, issuer: "https://token.actions.githubusercontent.com",\n'
        f'         subject: "{SUBJECT}"}}\n'
        if credentials
        else ""
    )
    return f"""\
subscription: {SUB}
defaults: {{location: uksouth, resource_group: {RG}}}
managed: {{resource_groups: [{RG}]}}
identities:
  - name: {name}
{fic}"""


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


@pytest.mark.parametrize("managed", [True, False], ids=["specs-manage-them", "read-for-the-delete"])
def test_a_rename_lists_the_credentials_the_old_identity_takes_with_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], managed: bool
) -> None:
    specs, state = tmp_path / "specs", tmp_path / "state"
    specs.mkdir()
    target = ["--cloud", "local", "--state-dir", str(state)]
    (specs / "dev.yaml").write_text(spec("id-shop-dev-uks-01", credentials=True))
    assert cli(capsys, "apply", str(specs), *target, "--auto-approve")[0] == 0
    (specs / "dev.yaml").write_text(spec("id-shop-dev-uks-02", credentials=managed))
    plan_file = tmp_path / "plan.json"
    rc, out, _ = cli(capsys, "plan", str(specs), *target, "--out", str(plan_file))
    assert rc == 0, out
    old = f"identity.{RG}/id-shop-dev-uks-01"
    assert f"  - {old}\n" in out
    block = out[out.index(f"  - {old}\n"):]
    block = block[: block.index("\n\n")]
    assert f'- federated_credentials = ["github-dev ({SUBJECT})"]' in block
    saved = json.loads(plan_file.read_text())
    delete = next(c for c in saved["changes"] if c["address"] == old)
    assert delete["before"]["federated_credentials"] == [f"github-dev ({SUBJECT})"]
    rc, _, err = cli(capsys, "apply", str(plan_file), "--specs", str(specs), *target,
                     "--allow-delete-identity")
    assert rc == 0, err
    with open_session("local", state_dir=state) as session:
        listed = session.msi(SUB).user_assigned_identities.list_by_resource_group(RG)
        names = {i.name for i in listed}
    assert names == {"id-shop-dev-uks-02"}


def test_a_plan_that_deletes_no_identity_reads_no_credentials(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    specs, state = tmp_path / "specs", tmp_path / "state"
    specs.mkdir()
    target = ["--cloud", "local", "--state-dir", str(state), "--format", "json"]
    (specs / "dev.yaml").write_text(spec("id-shop-dev-uks-01", credentials=False))
    assert cli(capsys, "apply", str(specs), *target[:4], "--auto-approve")[0] == 0
    rc, out, _ = cli(capsys, "plan", str(specs), *target)
    assert rc == 0
    first = json.loads(out)["live_requests"]
    (specs / "other.yaml").write_text(spec("id-shop-dev-uks-09", credentials=False).replace(
        f"managed: {{resource_groups: [{RG}]}}\n", ""))
    rc, out, _ = cli(capsys, "plan", str(specs), *target)
    assert json.loads(out)["live_requests"] == first  # a create adds no credential read
