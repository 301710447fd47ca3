"""`identity-reconciler fmt` from the command line: --check exit codes, rewriting in place,
idempotence, comment preservation, and located errors without a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from identity_reconciler.cli import main
from identity_reconciler.spec.fmt import comments

UNORDERED = """\
# yaml-language-server: $schema=../schemas/spec.schema.json
# The payments team's identities.
identities:
  - roles:
      # read secrets only; writes go through the pipeline
      - scope: {name: kv-pay-prod-uks-01, type: Microsoft.KeyVault/vaults}
        role: Key Vault Secrets User
    name: id-pay-prod-uks-01  # the API's identity
defaults: {tags: {owner: payments, app: pay}, location: uksouth, resource_group: rg-pay}
subscription: 11111111-1111-1111-1111-111111111111
"""


def test_check_then_fix_then_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    spec = specs / "pay.yaml"
    spec.write_text(UNORDERED, encoding="utf-8")

    assert main(["fmt", str(specs), "--check", "--diff"]) == 1
    out, err = capsys.readouterr()
    assert "would reformat" in out
    assert "+subscription:" in out
    assert "1 file, 1 would reformat, 0 errors" in err
    assert spec.read_text(encoding="utf-8") == UNORDERED  # --check writes nothing

    assert main(["fmt", str(specs)]) == 0
    formatted = spec.read_text(encoding="utf-8")
    assert formatted != UNORDERED
    assert formatted.index("subscription:") < formatted.index("defaults:")
    assert formatted.index("defaults:") < formatted.index("identities:")
    assert "defaults: {location: uksouth, resource_group: rg-pay, tags: {app: pay, owner: " \
        "payments}}" in formatted
    assert comments(formatted) == comments(UNORDERED)
    lines = formatted.splitlines()
    role = lines.index("      - role: Key Vault Secrets User")
    assert lines[role - 1].strip() == "# read secrets only; writes go through the pipeline"
    assert "  - name: id-pay-prod-uks-01  # the API's identity" in lines
    assert yaml.safe_load(formatted) == yaml.safe_load(UNORDERED)

    capsys.readouterr()
    assert main(["fmt", str(specs), "--check"]) == 0  # idempotent: nothing left to do
    assert main(["fmt", str(specs)]) == 0
    assert spec.read_text(encoding="utf-8") == formatted
    assert main(["validate", str(specs)]) == 0


def test_bad_yaml_is_a_located_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("identities:\n  - name: [unclosed\n", encoding="utf-8")
    assert main(["fmt", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "bad.yaml:3:1: not valid YAML" in err
    assert "Traceback" not in err
    assert bad.read_text(encoding="utf-8") == "identities:\n  - name: [unclosed\n"


def test_a_missing_path_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fmt", str(tmp_path / "nope")]) == 1
    assert "error:" in capsys.readouterr().err


def test_a_symlinked_spec_keeps_its_link_and_mode(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    (specs / "shared").mkdir(parents=True)
    real = specs / "shared" / "real.yaml"  # inside the folder: a link out of it is refused
    real.write_text("identities: []\nsubscription: s\n", encoding="utf-8")
    real.chmod(0o640)
    (specs / "link.yaml").symlink_to(Path("shared") / "real.yaml")
    assert main(["fmt", str(specs / "link.yaml")]) == 0
    assert (specs / "link.yaml").is_symlink()
    assert real.read_text(encoding="utf-8") == "subscription: s\n\nidentities: []\n"
    assert real.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in specs.iterdir()) == ["link.yaml", "shared"]
    assert sorted(p.name for p in (specs / "shared").iterdir()) == ["real.yaml"]


def test_a_symlink_out_of_the_folder_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text("identities: []\nsubscription: s\n", encoding="utf-8")
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "link.yaml").symlink_to(outside)
    assert main(["fmt", str(specs / "link.yaml")]) == 1
    assert outside.read_text(encoding="utf-8") == "identities: []\nsubscription: s\n"
