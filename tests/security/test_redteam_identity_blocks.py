"""A re-sealed plan's identity-block write (an attachment or a system-assigned switch) must
write the identity block and nothing else of the resource: the PATCH body is sent as stored,
so extra keys (`tags`, `properties`, `sku`) would change a web app the reviewer saw only an
identity change for."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from security_support import RG_ID, arm, refused_without_writes, reseal

from identity_reconciler.cli import main
from local_azure import api

REPO = Path(__file__).resolve().parents[2]
FUNC = f"{RG_ID}/providers/Microsoft.Web/sites/func-myapp-prod-uks-01"
SITE_API = "2023-12-01"
Forgery = Callable[[dict[str, Any]], None]


def _extra(kind: str, key: str, value: Any) -> Forgery:
    def forge(plan: dict[str, Any]) -> None:
        (change,) = [c for c in plan["changes"] if c["kind"] == kind][:1]
        change["operations"][0]["body"][key] = value

    return forge


FORGERIES: dict[str, Forgery] = {
    "tags on a system-assigned switch": _extra("system_assigned", "tags", {"forged": "yes"}),
    "properties on a system-assigned switch": _extra(
        "system_assigned", "properties", {"httpsOnly": False, "forged": "yes"}
    ),
    "tags on an attachment": _extra("attachment", "tags", {"forged": "yes"}),
    "properties on an attachment": _extra(
        "attachment", "properties", {"httpsOnly": False, "forged": "yes"}
    ),
}


@pytest.mark.parametrize("name", list(FORGERIES))
def test_an_identity_block_write_carries_nothing_else(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
) -> None:
    state = str(tmp_path / "state")
    plan_file = tmp_path / "plan.json"
    specs = str(REPO / "specs")
    assert main(["plan", specs, "--cloud", "local", "--state-dir", state,
                 "--out", str(plan_file)]) == 0
    data = json.loads(plan_file.read_text())
    FORGERIES[name](data)
    reseal(plan_file, data)
    err = refused_without_writes(
        monkeypatch, capsys, ["apply", str(plan_file), "--state-dir", state]
    )
    assert "not only an identity block" in err
    monkeypatch.undo()
    emu = api.start(state_dir=state)
    try:
        sites = [
            arm(emu, "GET", f"{RG_ID}/providers/Microsoft.Web/sites/{s}", api_version=SITE_API)
            for s in ("func-myapp-prod-uks-01", "app-myapp-prod-uks-01")
        ]
    finally:
        emu.stop()
    for site in sites:
        assert site.status_code == 200
        assert "forged" not in site.text, site.text
