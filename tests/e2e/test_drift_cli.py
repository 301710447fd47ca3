"""`drift` through the CLI against the emulator: changes made outside git with the SDK are named,
what is not ours is reported but never fixed, and `--fix` obeys apply's safety flags."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from identity_reconciler.azure.clients import open_session
from identity_reconciler.cli import main

REPO = Path(__file__).resolve().parents[2]
SPECS = str(REPO / "specs")
WORLD = str(REPO / "identity_reconciler" / "data" / "default-world.yaml")
SUB = "11111111-1111-1111-1111-111111111111"
RG = "rg-myapp-prod-uks-01"
RG_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}"
IDENTITY = "id-myapp-prod-uks-01"
SITE = f"{RG_ID}/providers/Microsoft.Web/sites/app-myapp-prod-uks-01"
FUNC = f"{RG_ID}/providers/Microsoft.Web/sites/func-myapp-prod-uks-01"
CONTRIBUTOR = f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/" \
    "b24988ac-6180-42a0-ab88-20f7382dd24c"
HAND_GRANT = f"grant.{RG}/{IDENTITY}/Contributor@{RG}"


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Emulator state with the seed specs applied (copied by each test that changes it)."""
    state = tmp_path_factory.mktemp("applied") / "state"
    assert main(["apply", SPECS, "--auto-approve", "--cloud", "local", "--state-dir",
                 str(state)]) == 0
    return state


@pytest.fixture
def state(applied: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "state"
    shutil.copytree(applied, copy)
    return copy


def drift(capsys: pytest.CaptureFixture[str], state: Path, *extra: str,
          specs: str = SPECS) -> tuple[int, Any]:
    rc = main(["drift", specs, "--cloud", "local", "--state-dir", str(state), "--format",
               "json", *extra])
    out = capsys.readouterr().out
    return rc, json.loads(out) if out.strip() else None


def by_address(report: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    return {i["address"]: (i["drift"], i["fixable"]) for i in report["items"]}


def hand_grant(session: Any, principal_id: str) -> None:
    from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters

    session.authorization(SUB).role_assignments.create(
        RG_ID, "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
        RoleAssignmentCreateParameters(
            role_definition_id=CONTRIBUTOR, principal_id=principal_id,
            principal_type="ServicePrincipal", description="quick fix during an incident",
        ),
    )


def switch_off(session: Any, resource_id: str) -> None:
    session.resources(SUB).resources.begin_update_by_id(
        resource_id, {"identity": {"type": "None"}}, api_version="2024-11-01"
    ).result()


def test_what_a_plan_leaves_alone_is_still_drift(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with open_session("local", state_dir=state) as session:
        msi = session.msi(SUB).user_assigned_identities
        identity = msi.get(RG, IDENTITY)
        hand_grant(session, identity.principal_id)
        tags = {k: v for k, v in (identity.tags or {}).items() if k != "managed-by"}
        msi.update(RG, IDENTITY, {"tags": tags})
        switch_off(session, SITE)  # detaches the identity

    rc, report = drift(capsys, state)
    assert rc == 2
    # Not ours any more: nothing about it is compared, and --fix cannot touch it.
    assert by_address(report) == {f"identity.{RG}/{IDENTITY}": ("not_owned", False)}
    assert report["items"][0]["why_not"].startswith("run drift --fix --adopt")
    rc, report = drift(capsys, state, "--fix")
    assert rc == 2
    assert report["fix"] is None  # nothing to apply

    rc, report = drift(capsys, state, "--adopt")
    assert rc == 2
    assert by_address(report) == {
        f"identity.{RG}/{IDENTITY}": ("not_owned", True),
        f"attachment.{RG}/sites/app-myapp-prod-uks-01/{RG}/{IDENTITY}": ("missing", True),
        HAND_GRANT: ("unmanaged", False),
    }
    hand = next(i for i in report["items"] if i["address"] == HAND_GRANT)
    assert 'live: description = "quick fix during an incident"' in hand["details"]

    rc, report = drift(capsys, state, "--fix", "--adopt")
    assert rc == 2  # the hand-made grant stays: identity-reconciler never deletes it
    assert report["fix"]["counts"] == {"done": 2, "failed": 0, "skipped": 0}
    assert by_address(report["after"]) == {HAND_GRANT: ("unmanaged", False)}
    with open_session("local", state_dir=state) as session:
        assignments = session.authorization(SUB).role_assignments.list_for_scope(RG_ID)
        assert any(a.name == "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0" for a in assignments)


def test_a_system_identity_switched_off(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with open_session("local", state_dir=state) as session:
        identity = session.resources(SUB).resources.get_by_id(
            FUNC, api_version="2023-12-01").identity
        assert identity is not None
        old = str(identity.principal_id).lower()
        switch_off(session, FUNC)
    rc, report = drift(capsys, state)
    assert rc == 2
    assert by_address(report) == {
        f"system_assigned.{RG}/sites/func-myapp-prod-uks-01": ("missing", True),
        # fixing re-creates its grant for the new principal ...
        f"grant.{RG}/sites/func-myapp-prod-uks-01/Storage Blob Data Reader@{RG}/"
        "storageAccounts/stmyappproduks01": ("missing", True),
        # ... and deletes the one left behind for the principal that is gone
        f"grant.deleted-principal-{old}/Storage Blob Data Reader@{RG}/"
        "storageAccounts/stmyappproduks01": ("extra", True),
    }
    system = next(i for i in report["items"] if i["kind"] == "system_assigned")
    assert "switched off outside git?" in system["summary"]
    assert system["source"].endswith("specs/myapp-func-prod.yaml:16:5")


def test_markdown_is_an_issue_body(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with open_session("local", state_dir=state) as session:
        session.msi(SUB).federated_identity_credentials.delete(RG, IDENTITY, "github-production")
    rc = main(["drift", SPECS, "--cloud", "local", "--state-dir", str(state),
               "--format", "markdown"])
    md = capsys.readouterr().out
    assert rc == 2
    assert md.startswith("### identity-reconciler drift: 1 difference\n")
    assert f"| + | `federated_credential.{RG}/{IDENTITY}/github-production` |" in md
    assert "```diff" in md


TWO = f"""\
subscription: {SUB}
defaults: {{location: uksouth, resource_group: {RG}}}
policy: {{rules: {{IR106: off}}}}
identities:
  - name: id-keep-prod-uks-01
  - name: id-drop-prod-uks-01
"""


def test_fix_obeys_the_safety_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "ids.yaml").write_text(TWO)
    state = tmp_path / "state"
    assert main(["apply", str(specs), "--auto-approve", "--cloud", "local",
                 "--state-dir", str(state)]) == 0
    (specs / "ids.yaml").write_text(TWO.replace("  - name: id-drop-prod-uks-01\n", ""))
    capsys.readouterr()

    rc, report = drift(capsys, state, specs=str(specs))
    assert rc == 2
    assert by_address(report) == {f"identity.{RG}/id-drop-prod-uks-01": ("extra", True)}

    rc = main(["drift", str(specs), "--cloud", "local", "--state-dir", str(state), "--fix"])
    err = capsys.readouterr().err
    assert rc == 1
    assert "the correcting plan is unsafe; nothing fixed" in err
    assert "drift --fix --allow-delete-identity" in err
    assert drift(capsys, state, specs=str(specs))[0] == 2  # nothing was written

    rc, report = drift(capsys, state, "--fix", "--allow-delete-identity", specs=str(specs))
    assert rc == 0
    assert report["after"]["items"] == []


def test_errors_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drift", SPECS, "--allow-privileged"]) == 1
    assert "only apply with --fix" in capsys.readouterr().err
    spec = tmp_path / "missing.yaml"
    spec.write_text(
        f"subscription: {SUB}\nresources:\n  - {{resource_group: {RG}, "
        "type: Microsoft.Web/sites, name: app-gone-prod-uks-01, system_assigned: true}\n"
    )
    rc = main(["drift", str(spec), "--cloud", "local", "--state-dir", str(tmp_path / "s"),
               "--world", WORLD])
    captured = capsys.readouterr()
    assert rc == 1
    assert "app-gone-prod-uks-01" in captured.out
    assert "Traceback" not in captured.err
