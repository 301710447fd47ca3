"""An attachment's PATCH also carries the resource's identity type. Re-sealed with the
system-assigned part dropped, it would delete the resource's system-assigned identity (its
principal and what was granted to it) under a change that shows only an attach, without
`--allow-delete-identity`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from security_support import RG_ID, arm, refused_without_writes, reseal

from identity_reconciler.cli import main
from local_azure import api

REPO = Path(__file__).resolve().parents[2]
FUNC = f"{RG_ID}/providers/Microsoft.Web/sites/func-myapp-prod-uks-01"
ATTACH_FUNC = """      - type: Microsoft.Web/sites
        name: func-myapp-prod-uks-01
"""


def test_an_attachment_cannot_drop_the_system_assigned_identity(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    specs = tmp_path / "specs"
    shutil.copytree(REPO / "specs", specs)
    state = str(tmp_path / "state")
    local = ["--cloud", "local", "--state-dir", state]
    assert main(["apply", str(specs), *local, "--auto-approve"]) == 0
    app = specs / "myapp-prod.yaml"
    text = app.read_text()
    marker = "        name: app-myapp-prod-uks-01\n"
    assert marker in text
    app.write_text(text.replace(marker, marker + ATTACH_FUNC, 1))
    plan_file = tmp_path / "plan.json"
    assert main(["plan", str(specs), *local, "--out", str(plan_file)]) == 0
    data = json.loads(plan_file.read_text())
    (change,) = [c for c in data["changes"] if c["kind"] == "attachment"]
    block = change["operations"][0]["body"]["identity"]
    assert "systemassigned" in block["type"].replace(" ", "").lower()
    block["type"] = "UserAssigned"
    reseal(plan_file, data)
    refused_without_writes(monkeypatch, capsys, ["apply", str(plan_file), "--state-dir", state])
    monkeypatch.undo()
    emu = api.start(state_dir=state)
    try:
        site = arm(emu, "GET", FUNC, api_version="2023-12-01").json()
    finally:
        emu.stop()
    assert "SystemAssigned" in site["identity"]["type"]
