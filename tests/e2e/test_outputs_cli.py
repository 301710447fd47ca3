"""`identity-reconciler outputs` against the embedded local Azure: refused before apply (no
empty ids handed to a deployment), then the live ids after apply, in every format."""

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
UAI = "id-myapp-prod-uks-01"


def test_outputs_before_and_after_apply(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    state = ["--cloud", "local", "--state-dir", str(tmp_path / "state")]
    assert main(["outputs", SPECS, *state]) == 1
    err = capsys.readouterr().err
    assert f"not in Azure yet: {UAI} (user-assigned), func-myapp-prod-uks-01" in err

    plan = str(tmp_path / "plan.json")
    assert main(["plan", SPECS, *state, "--out", plan, "-q"]) == 0
    assert main(["apply", plan, *state, "-q"]) == 0
    capsys.readouterr()

    assert main(["outputs", SPECS, *state]) == 0
    data = json.loads(capsys.readouterr().out)
    by_name = {o["name"]: o for o in data["identities"]}
    assert set(by_name) == {UAI, "func-myapp-prod-uks-01"}
    with open_session("local", state_dir=tmp_path / "state") as session:
        live = session.msi(SUB).user_assigned_identities.get(RG, UAI)
        site = session.resources(SUB).resources.get_by_id(
            by_name["func-myapp-prod-uks-01"]["resource_id"], api_version="2023-12-01"
        )
    assert site.identity is not None
    assert by_name[UAI]["client_id"] == live.client_id
    assert by_name[UAI]["principal_id"] == live.principal_id
    assert by_name[UAI]["kind"] == "user_assigned"
    assert by_name["func-myapp-prod-uks-01"]["principal_id"] == site.identity.principal_id
    assert by_name["func-myapp-prod-uks-01"]["client_id"] is None

    assert main(["outputs", SPECS, *state, "--format", "env"]) == 0
    env = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines())
    assert env["ID_MYAPP_PROD_UKS_01_CLIENT_ID"] == live.client_id
    assert env["FUNC_MYAPP_PROD_UKS_01_PRINCIPAL_ID"] == site.identity.principal_id

    out_file = tmp_path / "github_output"
    out_file.write_text("earlier=kept\n")
    monkeypatch.setenv("GITHUB_OUTPUT", str(out_file))
    assert main(["outputs", SPECS, *state, "--format", "github", "--identity", UAI]) == 0
    written = out_file.read_text().splitlines()
    assert written[0] == "earlier=kept"  # appended, never overwritten
    assert f"AZURE_CLIENT_ID={live.client_id}" in written
    assert f"AZURE_PRINCIPAL_ID={live.principal_id}" in written
    assert any(line.startswith("AZURE_TENANT_ID=") for line in written)

    capsys.readouterr()
    assert main(["outputs", SPECS, *state, "--identity", "id-nope"]) == 1
    assert "'id-nope' is not declared; the specs declare:" in capsys.readouterr().err


def test_github_format_needs_github_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    state = ["--cloud", "local", "--state-dir", str(tmp_path / "state")]
    plan = str(tmp_path / "plan.json")
    assert main(["plan", SPECS, *state, "--out", plan, "-q"]) == 0
    assert main(["apply", plan, *state, "-q"]) == 0
    capsys.readouterr()
    assert main(["outputs", SPECS, *state, "--format", "github"]) == 1
    assert "GITHUB_OUTPUT is not set" in capsys.readouterr().err
