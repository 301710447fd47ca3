"""`destroy` makes an ordinary plan, so the plan file is the attack surface: a destroy plan of
the same specs swapped in for the reviewed one carries a valid checksum and the same spec
digest, and `apply --specs` re-plans with the options the file names. What must still hold:
deleting an identity needs `--allow-delete-identity`, and a reviewed (non-destroy) plan whose
options were re-sealed as a destroy does not match its changes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from security_support import watch_local

from identity_reconciler.cli import main
from identity_reconciler.plan.model import checksum_of

SPEC = """subscription: 11111111-1111-1111-1111-111111111111
defaults: {location: uksouth, resource_group: rg-myapp-prod-uks-01}
identities:
  - name: id-victim-prod-uks-01
%s    roles:
      - {role: Reader, scope: {resource_group: rg-myapp-prod-uks-01}}
"""


@pytest.fixture
def estate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, str, Path, Path]:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "victim.yaml").write_text(SPEC % "")
    state = str(tmp_path / "state")
    local = ["--cloud", "local", "--state-dir", state]
    assert main(["apply", str(specs), *local, "--auto-approve"]) == 0
    (specs / "victim.yaml").write_text(SPEC % "    tags: {env: prod}\n")
    reviewed = tmp_path / "reviewed.json"
    assert main(["plan", str(specs), *local, "--out", str(reviewed)]) == 0
    destroy = tmp_path / "destroy.json"
    assert main(["destroy", str(specs), *local, "--out", str(destroy)]) == 0
    capsys.readouterr()
    return specs, state, reviewed, destroy


def _identity_left(specs: Path, state: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", str(specs), "--cloud", "local", "--state-dir", state]) == 0
    assert "+ identity." not in capsys.readouterr().out


def test_a_swapped_in_destroy_plan_needs_the_identity_flag(
    estate: tuple[Path, str, Path, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    specs, state, _, destroy = estate
    watch = watch_local(monkeypatch)
    assert main(["apply", str(destroy), "--specs", str(specs), "--state-dir", state]) == 1
    out, err = capsys.readouterr()
    assert "--allow-delete-identity" in out + err
    assert all(watch.writes(i) == 0 for i in range(len(watch.stats)))
    monkeypatch.undo()
    _identity_left(specs, state, capsys)


def test_a_reviewed_plan_resealed_as_a_destroy_is_refused(
    estate: tuple[Path, str, Path, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The options say destroy, the changes are the reviewed tag update: the fresh destroy
    plan differs, so nothing runs even with every flag."""
    specs, state, reviewed, _ = estate
    data = json.loads(reviewed.read_text())
    data["options"]["destroy"] = True
    data["checksum"] = checksum_of(data)
    reviewed.write_text(json.dumps(data))
    watch = watch_local(monkeypatch)
    rc = main(["apply", str(reviewed), "--specs", str(specs), "--state-dir", state,
               "--allow-delete-identity"])
    assert rc == 1
    assert "Traceback" not in "".join(capsys.readouterr())
    assert all(watch.writes(i) == 0 for i in range(len(watch.stats)))
    monkeypatch.undo()
    _identity_left(specs, state, capsys)
