"""The writers (`fmt`, `init`) must not write outside the folder they are given, whatever
symlinks a pull request commits into it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from identity_reconciler.cli import main

UNFORMATTED = """subscription:    11111111-1111-1111-1111-111111111111
identities:
  - name:   id-app-prod-uks-01
    resource_group: rg-myapp-prod-uks-01
    location: uksouth
"""


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    victim = tmp_path / "outside" / "victim.yml"
    victim.parent.mkdir()
    victim.write_text("precious\n")
    os.chmod(victim, 0o600)
    return victim


def test_fmt_does_not_follow_a_planted_temporary_file(
    tmp_path: Path, outside: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A committed `.app.yaml.fmt-tmp` symlink: writing the new text through it would put
    spec text (the attacker's) into any file the runner can write, e.g. a workflow."""
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "app.yaml").write_text(UNFORMATTED)
    (specs / ".app.yaml.fmt-tmp").symlink_to(outside)
    main(["fmt", str(specs)])
    capsys.readouterr()
    assert outside.read_text() == "precious\n"
    assert os.stat(outside).st_mode & 0o777 == 0o600
    assert not (specs / "app.yaml").is_symlink()


def test_fmt_does_not_rewrite_a_symlink_leading_outside(
    tmp_path: Path, outside: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    outside.write_text(UNFORMATTED)
    (specs / "app.yaml").symlink_to(outside)
    main(["fmt", str(specs)])
    capsys.readouterr()
    assert outside.read_text() == UNFORMATTED


def test_init_does_not_write_through_a_symlink(
    tmp_path: Path, outside: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "README.md").symlink_to(outside)
    main(["init", str(repo)])
    capsys.readouterr()
    assert outside.read_text() == "precious\n"


def test_export_to_a_name_too_long_is_a_plain_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by `test_fuzz_cli.py`: `export --out` with a 300-character name printed a bug
    report (OSError from the existence check) instead of a located error."""
    rc = main(["export", "--out", str(tmp_path / ("x" * 300)), "--cloud", "local",
               "--state-dir", str(tmp_path / "state")])
    out, err = capsys.readouterr()
    assert rc == 1
    assert "failed unexpectedly" not in out + err
    assert "File name too long" in err
