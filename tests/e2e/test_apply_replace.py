"""Multi-write changes and races: an identity re-created with everything on it, and a grant
someone else made under another name while the plan waited for review."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest
from apply_support import SPECS, cli, converged, local, plan_to, sdk_session, watch_local
from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters

SUB = "11111111-1111-1111-1111-111111111111"
RG_ID = f"/subscriptions/{SUB}/resourceGroups/rg-myapp-prod-uks-01"
KV = f"{RG_ID}/providers/Microsoft.KeyVault/vaults/kv-myapp-prod-uks-01"
KV_READER = "21090545-7ca7-4776-b22c-e363652d74d2"
IDENTITY = "identity.rg-myapp-prod-uks-01/id-myapp-prod-uks-01"


def _seeded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    specs, state = tmp_path / "specs", tmp_path / "state"
    shutil.copytree(SPECS, specs)
    rc, _, err = cli(capsys, "apply", str(specs), *local(state), "--auto-approve")
    assert rc == 0, err
    return specs, state


def test_a_relocated_identity_is_recreated_with_its_credentials_attachment_and_grants(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    specs, state = _seeded(tmp_path, capsys)
    spec = specs / "myapp-prod.yaml"
    spec.write_text(spec.read_text().replace("  location: uksouth", "  location: ukwest"))
    plan = tmp_path / "plan.json"
    data = plan_to(capsys, str(specs), state, plan)
    actions = {c["address"]: c["actions"] for c in data["changes"]}
    assert actions[IDENTITY] == ["delete", "create"]
    rc, out, err = cli(
        capsys, "apply", str(plan), "--specs", str(specs), "--state-dir", str(state),
        "--allow-delete-identity", "--format", "json",
    )  # fmt: skip
    assert rc == 0, err
    summary = json.loads(out)
    assert summary["counts"] == {"done": 4, "failed": 0, "skipped": 0}
    new_principal = next(a for a in summary["actions"] if a["address"] == IDENTITY)["principal_id"]
    old_principal = data["changes"][0]["before"]["principal_id"]
    assert new_principal != old_principal
    assert converged(capsys, str(specs), state)


def test_an_equal_grant_made_meanwhile_under_another_name_counts_as_done(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    specs, state = _seeded(tmp_path, capsys)
    spec = specs / "myapp-prod.yaml"
    spec.write_text(
        spec.read_text().replace(
            "    roles:\n",
            "    roles:\n      - role: Key Vault Reader\n"
            "        scope: {type: Microsoft.KeyVault/vaults, name: kv-myapp-prod-uks-01}\n",
        )
    )
    plan = tmp_path / "plan.json"
    data = plan_to(capsys, str(specs), state, plan)
    (new_grant,) = data["changes"]
    principal_id = new_grant["principal"]["principal_id"]
    other_name = str(uuid.uuid4())
    with sdk_session(state) as session:  # someone grants the same thing by hand
        session.authorization(SUB).role_assignments.create(
            KV,
            other_name,
            RoleAssignmentCreateParameters(
                role_definition_id=f"/subscriptions/{SUB}/providers/Microsoft.Authorization/"
                f"roleDefinitions/{KV_READER}",
                principal_id=principal_id,
                principal_type="ServicePrincipal",
            ),
        )
    # With --specs, apply plans again and refuses: a fresh plan no longer has this grant.
    rc, out, err = cli(capsys, "apply", str(plan), "--specs", str(specs), "--state-dir", str(state))
    assert rc == 1
    assert "is not in a fresh plan" in err
    # Without --specs, the saved plan runs, and ARM's 409 for the equal grant counts as done.
    watch = watch_local(monkeypatch)
    rc, out, err = cli(capsys, "apply", str(plan), "--state-dir", str(state))
    assert rc == 0, err
    assert f"exists as role assignment {other_name}" in out
    assert watch.statuses().get("409") == 1  # ARM said it exists; a read confirmed it
    assert converged(capsys, str(specs), state)  # the grant is there (not ours: never deleted)
