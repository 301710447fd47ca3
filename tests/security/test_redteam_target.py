"""`--target` narrows a plan; it must not narrow the safety checks.

Attacks: a targeted plan of a privileged grant at the subscription (does narrowing skip the
privileged gate?), and target addresses that try to pull in something else (a look-alike of
the grant's address, another case, a trailing space).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from security_support import watch_local

from identity_reconciler.cli import main

SUB_ID = "/subscriptions/11111111-1111-1111-1111-111111111111"
SPEC = f"""subscription: 11111111-1111-1111-1111-111111111111
defaults: {{location: uksouth, resource_group: rg-myapp-prod-uks-01}}
identities:
  - name: id-deploy-prod-uks-01
    roles:
      - {{role: Owner, scope: "{SUB_ID}"}}
      - {{role: Reader, scope: {{resource_group: rg-myapp-prod-uks-01}}}}
policy:
  allow_privileged:
    - role: Owner
      scope: "{SUB_ID}"
      justification: the deployment pipeline creates resource groups
"""


def _plan(tmp_path: Path, capsys: pytest.CaptureFixture[str], *targets: str) -> tuple[int, Path]:
    specs = tmp_path / "specs"
    specs.mkdir(exist_ok=True)
    (specs / "deploy.yaml").write_text(SPEC)
    plan_file = tmp_path / "plan.json"
    args = ["plan", str(specs), "--cloud", "local", "--state-dir", str(tmp_path / "state")]
    for target in targets:
        args += ["--target", target]
    rc = main([*args, "--out", str(plan_file), "--format", "json"])
    capsys.readouterr()
    return rc, plan_file


def _owner_address(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    rc, plan_file = _plan(tmp_path, capsys)
    assert rc == 0
    data = json.loads(plan_file.read_text())
    (owner,) = [
        c["address"] for c in data["changes"]
        if c["kind"] == "grant" and (c["after"] or {}).get("role") == "Owner"
    ]
    return str(owner)


def test_a_targeted_privileged_grant_still_needs_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    address = _owner_address(tmp_path, capsys)
    rc, plan_file = _plan(tmp_path, capsys, address)
    assert rc == 0
    data = json.loads(plan_file.read_text())
    assert address in [c["address"] for c in data["changes"]]
    assert not data["safety"]["safe"]
    watch = watch_local(monkeypatch)
    assert main(["apply", str(plan_file), "--state-dir", str(tmp_path / "state")]) == 1
    out, err = capsys.readouterr()
    assert "--allow-privileged" in out + err
    assert all(watch.writes(i) == 0 for i in range(len(watch.stats)))


@pytest.mark.parametrize("spelling", ["upper", "space", "lookalike"])
def test_a_target_spelled_otherwise_does_not_select_the_grant_silently(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], spelling: str
) -> None:
    """A target that is not an address of the plan is an error or selects nothing privileged."""
    address = _owner_address(tmp_path, capsys)
    target = {
        "upper": address.upper(),
        "space": address + " ",
        "lookalike": address.replace("o", "\u043e", 1),
    }[spelling]
    rc, plan_file = _plan(tmp_path, capsys, target)
    if rc == 0:
        data = json.loads(plan_file.read_text())
        selected = [c["address"] for c in data["changes"]]
        if address in selected:  # selected after all: then it is gated as itself
            assert not data["safety"]["safe"]
