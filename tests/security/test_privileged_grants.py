"""Privileged roles at broad scopes are never written without two explicit, separate consents.

Owner (or User Access Administrator, Role Based Access Control Administrator, Contributor) on a
subscription or management group needs a justified `policy.allow_privileged` entry in the specs
(reviewed with them) — without it validation fails (IR102), and if a PR switches that rule off,
the plan has an error no flag overrides — and then `--allow-privileged` on apply. Through the
CLI against the emulator: zero writes until both are given; editing the saved plan to drop its
safety verdict does not help either, even when the editor re-computes the checksum.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from security_support import MI_TYPE, RG_ID, SUB, watch_local

from identity_reconciler.cli import main
from identity_reconciler.plan.model import checksum_of

MG = "/providers/Microsoft.Management/managementGroups/mg-platform"
IDENTITY = f"{RG_ID}/providers/{MI_TYPE}/id-deploy-prod-uks-01"
SPEC = """subscription: 11111111-1111-1111-1111-111111111111
defaults: {location: uksouth, resource_group: rg-myapp-prod-uks-01}
identities:
  - name: id-deploy-prod-uks-01
    roles:
      - {role: %(role)s, scope: "%(scope)s"}
%(policy)s"""
ALLOWANCE = """policy:
  allow_privileged:
    - role: %(role)s
      scope: "%(scope)s"
      justification: the deployment pipeline creates resource groups
"""


LINT_OFF = """policy:
  rules: {IR102: "off"}
"""


def _write(tmp_path: Path, role: str, scope: str, policy: str) -> str:
    fields = {"role": role, "scope": scope}
    spec = tmp_path / "specs" / "deploy.yaml"
    spec.parent.mkdir(exist_ok=True)
    spec.write_text(SPEC % {**fields, "policy": policy % fields})
    return str(spec.parent)


def _grants(tmp_path: Path, state: str, specs: str) -> dict[str, str]:
    """Role assignments of the identity, read back through the CLI's own export."""
    out = tmp_path / "export.json"
    assert main(
        [
            "plan",
            specs,
            "--cloud",
            "local",
            "--state-dir",
            state,
            "--format",
            "json",
            "--out",
            str(out),
            "-q",
        ]
    ) in (0, 2)
    plan = json.loads(out.read_text())
    return {c["address"]: c["actions"][0] for c in plan["changes"] if c["kind"] == "grant"}


@pytest.mark.parametrize(
    ("role", "scope"),
    [
        ("Owner", f"/subscriptions/{SUB}"),
        ("User Access Administrator", MG),
        # Judged from permissions: these can write role assignments / federated credentials.
        ("Key Vault Data Access Administrator", f"/subscriptions/{SUB}"),
        ("Managed Identity Contributor", f"/subscriptions/{SUB}"),
    ],
)
def test_privileged_grant_needs_an_allowance_and_the_flag(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    role: str,
    scope: str,
) -> None:
    watch = watch_local(monkeypatch)
    state, plan_file = str(tmp_path / "state"), tmp_path / "plan.json"
    local = ["--cloud", "local", "--state-dir", state]

    specs = _write(tmp_path, role, scope, "")
    assert main(["plan", specs, *local, "--out", str(plan_file)]) == 1
    err = capsys.readouterr().err
    assert "IR102" in err
    assert "policy.allow_privileged" in err
    assert not plan_file.exists()
    assert main(["apply", specs, *local, "--auto-approve", "--allow-privileged"]) == 1
    capsys.readouterr()

    specs = _write(tmp_path, role, scope, LINT_OFF)
    assert main(["plan", specs, *local, "--out", str(plan_file)]) == 1
    out, err = capsys.readouterr()
    assert "privileged grant at a broad scope" in out
    assert "Traceback" not in out + err
    assert main(["apply", str(plan_file), "--allow-privileged", "--state-dir", state]) == 1
    assert "error; fix the specs" in capsys.readouterr().err
    assert watch.writes() == 0

    specs = _write(tmp_path, role, scope, ALLOWANCE)
    assert main(["plan", specs, *local, "--out", str(plan_file), "--detailed-exitcode"]) == 2
    assert "Unsafe plan" in capsys.readouterr().out
    runs = len(watch.stats)
    assert main(["apply", str(plan_file), "--specs", specs, "--state-dir", state]) == 1
    err = capsys.readouterr().err
    assert "--allow-privileged" in err
    assert "Traceback" not in err
    assert len(watch.stats) == runs  # refused before any connection, let alone a write

    # Dropping the verdict from the file, checksum re-computed: the operations still say Owner.
    forged = json.loads(plan_file.read_text())
    forged["safety"] = {"safe": True, "existing": 0, "violations": []}
    forged["checksum"] = checksum_of(forged)
    plan_file.write_text(json.dumps(forged))
    assert main(["apply", str(plan_file), "--specs", specs, "--state-dir", state]) == 1
    assert "--allow-privileged" in capsys.readouterr().err
    assert len(watch.stats) == runs

    assert main(["plan", specs, *local, "--out", str(plan_file)]) == 0
    capsys.readouterr()
    assert (
        main(
            ["apply", str(plan_file), "--specs", specs, "--allow-privileged", "--state-dir", state]
        )
        == 0
    )
    assert watch.writes() >= 2  # the identity, then the grant
    assert _grants(tmp_path, state, specs) == {}  # applied: nothing left to plan
