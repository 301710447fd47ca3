"""Spec paths the operating system refuses are findings, not exceptions.

`validate` promises to raise nothing; a name longer than the system allows made `Path.is_dir()`
raise out of it, and a symlink loop `Path.resolve()` (out of plan and drift too, as an
unexpected error).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from identity_reconciler.cli import main
from identity_reconciler.spec import validate


def test_a_name_too_long_is_a_located_finding() -> None:
    result = validate(["x" * 5000])
    assert not result.ok
    (finding,) = result.findings
    assert finding.rule_id == "IR004"
    assert "too long" in finding.message.lower()


def test_a_symlink_loop_is_a_located_finding(tmp_path: Path) -> None:
    loop = tmp_path / "loop.yaml"
    loop.symlink_to(loop)
    result = validate([loop])
    assert [f.rule_id for f in result.findings] == ["IR004"]


def test_missing_paths_still_read_as_missing(tmp_path: Path) -> None:
    messages = [f.message for f in validate([tmp_path / "nope.yaml", "a\x00b"]).findings]
    assert sorted(messages) == sorted(
        [
            "a\x00b: no such file or folder",
            f"{(tmp_path / 'nope.yaml').as_posix()}: no such file or folder",
        ]
    )


@pytest.mark.parametrize("command", ["validate", "plan", "drift", "apply"])
def test_the_cli_reports_it_without_an_unexpected_error(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, "x" * 5000, "--auto-approve"][: 3 if command == "apply" else 2]) == 1
    out, err = capsys.readouterr()
    assert "too long" in (out + err).lower()
    assert "OSError:" not in out + err  # the CLI's last-resort line names the exception type
    assert "Traceback" not in out + err
