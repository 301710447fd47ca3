"""`-q` silences per-step chatter (live-read lines, per-change progress), never results."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from identity_reconciler.cli import main

SPECS = Path(__file__).resolve().parents[2] / "specs"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def test_quiet_apply_prints_the_summary_but_no_progress(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    specs = tmp_path / "specs"
    shutil.copytree(SPECS, specs)
    target = ["--cloud", "local", "--state-dir", str(tmp_path / "state")]

    rc, out, err = _run(capsys, "plan", str(specs), *target)
    assert rc == 0
    assert "Read live state (local)" in err  # chatter without -q

    rc, out, err = _run(capsys, "-q", "apply", str(specs), *target, "--auto-approve")
    assert rc == 0, err
    assert "Read live state" not in err
    assert "Applying" not in err
    assert "  done " not in err
    assert "9 done" in out + err  # the summary is a result, not chatter

    rc, out, err = _run(capsys, "-q", "plan", str(specs), *target, "--detailed-exitcode")
    assert rc == 0
    assert "Read live state" not in err
    assert "No changes." in out
