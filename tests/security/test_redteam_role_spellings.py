"""More ways to write Owner at a subscription than `test_adversarial.py` tries: a role
definition id under a resource group or a resource, fullwidth letters, a GUID with braces or
without dashes, `urn:`-style prefixes. Each must be privileged (IR102) or refused as unknown or
invalid; none may validate as something harmless."""

from __future__ import annotations

from pathlib import Path

import pytest

from identity_reconciler.cli import main

OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
SUB = "11111111-1111-1111-1111-111111111111"
RG_ID = f"/subscriptions/{SUB}/resourceGroups/rg-myapp-prod-uks-01"
DEFS = "/providers/Microsoft.Authorization/roleDefinitions/"
SPEC = """subscription: 11111111-1111-1111-1111-111111111111
defaults: {location: uksouth, resource_group: rg-myapp-prod-uks-01}
identities:
  - name: id-deploy-prod-uks-01
    roles:
      - role: "%s"
        scope: "/subscriptions/11111111-1111-1111-1111-111111111111"
"""


@pytest.mark.parametrize(
    "role",
    [
        f"{RG_ID}{DEFS}{OWNER}",
        f"{RG_ID}/providers/Microsoft.KeyVault/vaults/kv-1{DEFS}{OWNER}",
        f"/providers/Microsoft.Management/managementGroups/mg-1{DEFS}{OWNER}",
        "\uff2f\uff57\uff4e\uff45\uff52",  # fullwidth Owner
        "{" + OWNER + "}",
        OWNER.replace("-", ""),
        f"{DEFS}{OWNER}/",
        f"{DEFS}{OWNER}?api-version=1",
        f"{DEFS}../roleDefinitions/{OWNER}",
        "Owner\t",
        "User\u00a0Access Administrator",
    ],
)
def test_owner_written_otherwise_is_never_harmless(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], role: str
) -> None:
    spec = tmp_path / "deploy.yaml"
    spec.write_text(SPEC % role.replace("\t", "\\t"), encoding="utf-8")
    assert main(["validate", str(spec)]) == 1
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert any(code in out + err for code in ("IR102", "IR021", "IR020", "IR012"))
