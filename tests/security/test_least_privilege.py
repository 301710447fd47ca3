"""The reconciler runs with the roles docs/permissions.md lists, and with nothing less.

The CLI signs in to the local emulator as a CI service principal
(IDENTITY_RECONCILER_LOCAL_CLIENT_ID, which also makes the emulator enforce RBAC). Roles are added
one at a time; after each, apply does exactly what the roles so far allow and fails the rest with
ARM's error naming the missing action and scope. With all of them the specs converge; granting
Owner stays impossible, because the Role Based Access Control Administrator assignment is
constrained to the roles the specs grant by the very condition docs/permissions.md gives.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from security_support import (
    CI_APP_ID,
    CI_OBJECT_ID,
    MI_CONTRIBUTOR,
    MI_OPERATOR,
    MI_TYPE,
    RBAC_ADMIN,
    READER,
    RG_ID,
    SUB_ID,
    WEBSITE_CONTRIBUTOR,
    ci_world,
    documented_condition,
    grant,
)

from identity_reconciler.azure.clients import LOCAL_CLIENT_ID_ENV
from identity_reconciler.cli import main
from local_azure.api import running

SPEC = """subscription: 11111111-1111-1111-1111-111111111111
defaults: {location: uksouth, resource_group: rg-myapp-prod-uks-01, tags: {app: myapp}}
identities:
  - name: id-myapp-prod-uks-01
    federated_credentials:
      - name: github-production
        issuer: https://token.actions.githubusercontent.com
        subject: repo:contoso/myapp:environment:production
    assigned_to: [{type: Microsoft.Web/sites, name: app-myapp-prod-uks-01}]
    roles:
      - role: %s
        scope: {type: Microsoft.KeyVault/vaults, name: kv-myapp-prod-uks-01}
resources:
  - {type: Microsoft.Web/sites, name: func-myapp-prod-uks-01, system_assigned: true}
"""
KINDS = ("identity", "federated_credential", "attachment", "system_assigned", "grant")


class Estate:
    def __init__(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.state = tmp_path / "state"
        self.spec = tmp_path / "app.yaml"
        self.capsys = capsys
        with running(state_dir=self.state, world=ci_world()):
            pass

    def give(self, scope: str, role: str, condition: str | None = None) -> None:
        """An assignment for the CI principal, written by the operator between runs."""
        with running(state_dir=self.state) as emu:
            grant(emu, scope, role, CI_OBJECT_ID, condition=condition)

    def apply(self, role: str = "Key Vault Secrets User") -> tuple[int, dict[str, Any], str]:
        self.spec.write_text(SPEC % role)
        self.capsys.readouterr()
        rc = main(
            [
                "apply",
                str(self.spec),
                "--cloud",
                "local",
                "--state-dir",
                str(self.state),
                "--auto-approve",
                "--format",
                "json",
                "--principal-wait",
                "0",
                "-q",
            ]
        )
        out, err = self.capsys.readouterr()
        assert "Traceback" not in out + err
        summary = json.loads(out) if out.strip().startswith("{") else {}
        return rc, summary, err


def _outcome(summary: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {
        a["kind"]: (
            a["status"],
            (a.get("error") or {}).get("code", "")
            + " "
            + (a.get("error") or {}).get("message", ""),
        )
        for a in summary["actions"]
    }


def test_each_documented_role_is_needed_and_together_they_suffice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(LOCAL_CLIENT_ID_ENV, CI_APP_ID)
    estate = Estate(tmp_path, capsys)

    rc, _, err = estate.apply()  # no role at all: not even the live state can be read
    assert rc == 1
    assert "403 AuthorizationFailed" in err
    assert f"'{MI_TYPE}/read' over scope '{SUB_ID}'" in err

    estate.give(SUB_ID, READER)
    rc, summary, _ = estate.apply()
    assert rc == 1
    assert {k: s for k, (s, _) in _outcome(summary).items()} == {
        "identity": "failed",
        "system_assigned": "failed",
        "federated_credential": "skipped",
        "attachment": "skipped",
        "grant": "skipped",
    }
    assert f"'{MI_TYPE}/write' over scope" in _outcome(summary)["identity"][1]

    estate.give(RG_ID, MI_CONTRIBUTOR)
    rc, summary, _ = estate.apply()
    got = _outcome(summary)
    assert got["identity"][0] == got["federated_credential"][0] == "done"
    assert "'Microsoft.Web/sites/write'" in got["system_assigned"][1]
    assert "'Microsoft.Web/sites/write'" in got["attachment"][1]
    assert "'Microsoft.Authorization/roleAssignments/write'" in got["grant"][1]

    estate.give(RG_ID, WEBSITE_CONTRIBUTOR)
    rc, summary, _ = estate.apply()
    got = _outcome(summary)
    assert got["system_assigned"][0] == "done"
    assert got["attachment"][1].startswith("LinkedAuthorizationFailed")
    assert f"'{MI_TYPE}/assign/action'" in got["attachment"][1]

    estate.give(RG_ID, MI_OPERATOR)
    rc, summary, _ = estate.apply()
    assert _outcome(summary)["attachment"][0] == "done"
    assert _outcome(summary)["grant"][0] == "failed"

    estate.give(RG_ID, RBAC_ADMIN, condition=documented_condition())
    rc, summary, _ = estate.apply()
    assert rc == 0, summary
    assert _outcome(summary) == {"grant": ("done", " ")}
    rc, summary, err = estate.apply()
    assert rc == 0
    assert summary.get("actions", []) == []  # converged: nothing left to do

    # The condition holds the line: the same principal cannot grant Owner, even in its own group.
    rc, summary, _ = estate.apply(role="Owner")
    assert rc == 1
    owner = _outcome(summary)["grant"]
    assert owner[0] == "failed"
    assert owner[1].startswith("AuthorizationFailed")
    assert "'Microsoft.Authorization/roleAssignments/write' over scope " in owner[1]
    assert "kv-myapp-prod-uks-01" in owner[1]
    assert CI_APP_ID in owner[1]


def test_an_unknown_local_client_id_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(LOCAL_CLIENT_ID_ENV, "99999999-9999-4999-8999-999999999999")
    spec = tmp_path / "app.yaml"
    spec.write_text(SPEC % "Key Vault Secrets User")
    rc = main(["plan", str(spec), "--cloud", "local", "--state-dir", str(tmp_path / "s"), "-q"])
    err = capsys.readouterr().err
    assert rc == 1
    assert "99999999-9999-4999-8999-999999999999" in err
    assert "Traceback" not in err
