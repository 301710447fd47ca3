"""One error path: `cli.main` alone prints errors; a bug is a one-line apology, not bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from identity_reconciler import cli
from identity_reconciler.cli import main
from identity_reconciler.cmds import validate as validate_cmd
from identity_reconciler.core.errors import UserError

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "identity_reconciler"
SPECS = str(REPO / "specs")
# A string literal that starts with "error: " (plain or f-string, either quote).
ERROR_LITERAL = re.compile(r"""\b[fFrR]?["']error: """)
# The emulator is a program of its own, with its own output.
EMULATOR = (PACKAGE / "emulator", REPO / "local_azure")


def test_exactly_one_place_prints_an_error() -> None:
    sites = [
        f"{path.relative_to(REPO)}:{number}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if not any(path.is_relative_to(e) for e in EMULATOR)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if ERROR_LITERAL.search(line)
    ]
    assert len(sites) == 1, sites
    assert sites[0].startswith("identity_reconciler/cli.py:")


def _bug(*_args: object, **_kwargs: object) -> None:
    raise ValueError("boom: a bug, not bad input")


def test_a_bug_is_a_one_line_apology(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(validate_cmd, "validate", _bug)
    assert main(["validate", SPECS]) == cli.EXIT_BUG
    out, err = capsys.readouterr()
    assert out == ""
    (line,) = err.splitlines()
    assert line.startswith("bug: identity-reconciler failed unexpectedly (ValueError: boom")
    assert "report it" in line
    assert "-v" in line
    assert "error:" not in err  # not shown as the user's mistake
    assert "Traceback" not in err


def test_a_bug_shows_its_traceback_with_v(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(validate_cmd, "validate", _bug)
    assert main(["validate", SPECS, "-v"]) == cli.EXIT_BUG
    err = capsys.readouterr().err
    assert "Traceback (most recent call last):" in err
    assert "in _bug" in err
    assert "ValueError: boom" in err
    assert err.splitlines()[-1].startswith("bug: identity-reconciler failed unexpectedly")


def test_with_json_logs_the_traceback_is_a_json_field(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(validate_cmd, "validate", _bug)
    assert main(["--log-format", "json", "-v", "validate", SPECS]) == cli.EXIT_BUG
    *logs, apology = capsys.readouterr().err.splitlines()
    (record,) = (json.loads(line) for line in logs if '"unexpected error"' in line)
    assert "ValueError: boom" in record["exc"]
    assert apology.startswith("bug: ")


def test_a_user_error_prints_its_lines_hint_and_exit_code(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise UserError("first", also=["second"], hint="do this instead", exit_code=3)

    monkeypatch.setattr(validate_cmd, "validate", refuse)
    assert main(["validate", SPECS, "-v"]) == 3
    assert capsys.readouterr().err.splitlines() == [
        "error: first",
        "error: second",
        "hint: do this instead",
    ]


def test_bad_input_raised_deep_in_a_layer_is_an_error_not_a_bug(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text('{"format_version": "0"}')
    assert main(["show", str(plan)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: refusing plan file {plan}: plan format_version '0'")
    assert "bug:" not in err
