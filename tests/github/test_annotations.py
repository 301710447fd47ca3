"""`--format github`: findings and plan errors as annotations on their spec lines, unsafe plans
as warnings, and the markdown plan appended to the job summary."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from identity_reconciler.cli import main
from identity_reconciler.cmds import github

REPO = Path(__file__).resolve().parents[2]
SPECS = str(REPO / "specs")
sys.path.insert(0, str(REPO / "tests" / "plan"))
from plan_scenarios import mixed  # noqa: E402

LOCATED = re.compile(r"^::(error|warning|notice) file=([^,]+),line=(\d+),col=(\d+),title=[^:]+::.+")


@pytest.fixture(autouse=True)
def _no_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(github.SUMMARY_ENV, raising=False)


def bad_spec(tmp_path: Path) -> Path:
    spec = tmp_path / "bad.yaml"
    spec.write_text(
        "subscription: 11111111-1111-1111-1111-111111111111\n"
        "identities:\n"
        "  - name: id-app-prod-uks-01\n"
        "    resource_group: rg-app\n"
        "    locaton: uksouth\n"
    )
    return spec


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_findings_are_annotations_on_their_line(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = bad_spec(tmp_path)
    extra = ["--cloud", "local", "--state-dir", str(tmp_path / "s")] if command == "plan" else []
    assert main([command, str(spec), "--format", "github", *extra]) == 1
    lines = [x for x in capsys.readouterr().out.splitlines() if x.startswith("::")]
    m = next(LOCATED.match(x) for x in lines if "IR010" in x)
    assert m is not None
    assert (m.group(1), m.group(2), m.group(3), m.group(4)) == ("error", str(spec), "5", "5")


def test_plan_appends_the_markdown_plan_to_the_job_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("## an earlier step\n")
    monkeypatch.setenv(github.SUMMARY_ENV, str(summary))
    rc = main(["plan", SPECS, "--cloud", "local", "--state-dir", str(tmp_path / "s"),
               "--format", "github", "--out", str(tmp_path / "reviewed.json")])
    assert rc == 0
    out = capsys.readouterr().out
    assert any(LOCATED.match(x) and "IR105" in x for x in out.splitlines())  # the warning
    assert "Plan: 9 to add, 0 to change, 0 to destroy." in out  # the text plan for the log
    text = summary.read_text()
    assert text.startswith("## an earlier step\n### identity-reconciler plan")  # appended
    assert "**Plan: 9 to add, 0 to change, 0 to destroy.**" in text


def test_without_a_job_summary_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = main(["plan", SPECS, "--cloud", "local", "--state-dir", str(tmp_path / "s"),
               "--format", "github"])
    assert rc == 0
    assert not list(tmp_path.glob("*.md"))


def test_plan_errors_safety_and_notices_become_annotations() -> None:
    lines = github.plan_annotations(mixed())
    assert any(line.startswith("::error file=specs/app.yaml,line=40,col=5,") for line in lines)
    assert any(
        line.startswith("::warning title=unsafe plan") and "--allow-delete-identity" in line
        for line in lines
    )
    assert any(line.startswith("::notice file=specs/app.yaml,line=3,col=5,") for line in lines)


def test_annotation_text_is_escaped() -> None:
    line = github.command("error", "50% done\nnext line", title="a:b,c")
    assert line == "::error title=a%3Ab%2Cc::50%25 done%0Anext line"
    assert github.located("C:/specs/a.yaml:3:7") == ("C:/specs/a.yaml", 3, 7)
    assert github.located("identity.rg/id") is None


def test_drift_annotates_each_difference_and_appends_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv(github.SUMMARY_ENV, str(summary))
    rc = main(["drift", SPECS, "--cloud", "local", "--state-dir", str(tmp_path / "s"),
               "--format", "github"])
    assert rc == 2  # nothing applied yet: everything the specs declare is missing live
    out = capsys.readouterr().out
    drift_lines = [x for x in out.splitlines() if "title=drift%3A" in x]
    assert len(drift_lines) == 9  # six ARM objects, the SQL user and its two memberships
    assert all(LOCATED.match(x) for x in drift_lines)
    assert any("myapp-prod.yaml,line=16,col=11" in x for x in drift_lines)
    assert "Drift:" in out  # the text report for the log
    assert summary.read_text().strip()
