"""Adversarial spellings of privileged grants: what a reviewer might read as harmless.

Each is a way to write Owner, or a scope, that a name list or a string comparison would miss;
each must be judged as what ARM will do with it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from identity_reconciler.cli import main

OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
SUB = "11111111-1111-1111-1111-111111111111"
RG_ID = f"/subscriptions/{SUB}/resourceGroups/rg-myapp-prod-uks-01"
SPEC = """subscription: 11111111-1111-1111-1111-111111111111
defaults: {location: uksouth, resource_group: rg-myapp-prod-uks-01}
identities:
  - name: id-deploy-prod-uks-01
    roles:
      - role: "%s"
        scope: "%s"
"""


def _validate(tmp_path: Path, capsys: pytest.CaptureFixture[str], role: str, scope: str) -> str:
    spec = tmp_path / "deploy.yaml"
    spec.write_text(SPEC % (role, scope), encoding="utf-8")
    assert main(["validate", str(spec)]) == 1
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return out + err


@pytest.mark.parametrize(
    "role",
    [
        OWNER,
        OWNER.upper(),
        f"/providers/Microsoft.Authorization/roleDefinitions/{OWNER}",
        f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{OWNER}",
        f"/subscriptions/33333333-3333-3333-3333-333333333333/providers/"
        f"Microsoft.Authorization/roleDefinitions/{OWNER}",
        "  oWnEr ",
    ],
)
@pytest.mark.parametrize("scope", [f"/subscriptions/{SUB}", f"/SUBSCRIPTIONS/{SUB.upper()}"])
def test_role_spellings_are_judged_as_the_role(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], role: str, scope: str
) -> None:
    output = _validate(tmp_path, capsys, role, scope)
    assert "IR102" in output
    assert "deploy.yaml:6:" in output


@pytest.mark.parametrize(
    "scope",
    [
        f"{RG_ID}/providers/Microsoft.Authorization/roleAssignments/{OWNER}",
        f"{RG_ID}/providers/Microsoft.Authorization/locks/lock-1",
        f"{RG_ID}/providers/Microsoft.Web/sites/app-1/providers/Microsoft.Authorization/x/y",
        f"{RG_ID}/providers/Microsoft.Web/sites/app-1/providers/Microsoft.Insights/diag/d1",
    ],
)
def test_extension_resources_are_not_scopes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], scope: str
) -> None:
    output = _validate(tmp_path, capsys, "Reader", scope)
    assert "IR020" in output


@pytest.mark.parametrize("role", ["\u041ewner", "Own\u0435r", "Owner\u200b", "Ow\u202ener"])
def test_confusable_role_names_resolve_to_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], role: str
) -> None:
    output = _validate(tmp_path, capsys, role, f"/subscriptions/{SUB}")
    assert "IR021" in output
