"""`show` renders exactly the saved plan, and refuses an edited one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from identity_reconciler.cli import main

SPECS = Path(__file__).resolve().parents[2] / "specs"


@pytest.fixture
def saved_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    specs = tmp_path / "specs"
    shutil.copytree(SPECS, specs)
    out = tmp_path / "plan.json"
    argv = ["plan", str(specs), "--cloud", "local", "--state-dir", str(tmp_path / "state")]
    assert main([*argv, "--out", str(out)]) == 0
    capsys.readouterr()
    return out


def test_show_renders_the_saved_plan_in_each_format(
    saved_plan: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["show", str(saved_plan), "--no-color"]) == 0
    text = capsys.readouterr().out
    assert "+ identity.rg-myapp-prod-uks-01/id-myapp-prod-uks-01" in text
    assert text.rstrip().endswith("Plan: 9 to add, 0 to change, 0 to destroy.")

    assert main(["show", str(saved_plan), "--format", "markdown"]) == 0
    markdown = capsys.readouterr().out
    assert "id-myapp-prod-uks-01" in markdown
    checksum = json.loads(saved_plan.read_text())["checksum"]
    assert checksum in markdown  # the comment names the very plan file it was drawn from

    assert main(["show", str(saved_plan), "--format", "json", "--detailed-exitcode"]) == 2
    shown = json.loads(capsys.readouterr().out)
    assert shown == json.loads(saved_plan.read_text())


def test_show_refuses_an_edited_plan(
    saved_plan: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads(saved_plan.read_text())
    data["changes"][0]["reason"] = "create_because_i_said_so"
    saved_plan.write_text(json.dumps(data))
    assert main(["show", str(saved_plan)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "refusing plan file" in captured.err
    assert "Traceback" not in captured.err


def test_show_names_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", str(tmp_path / "nope.json")]) == 1
    assert "cannot read plan file" in capsys.readouterr().err
