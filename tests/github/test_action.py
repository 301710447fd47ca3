"""The composite action (action.yml): its metadata, the steps around the command, and its
command script run for real (bash, the installed CLI, the embedded local Azure) through
plan -> apply -> drift, as a workflow would run it."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from workflow_files import (
    ACTION,
    ACTION_SCRIPT,
    DRIFT_MARKER,
    PLAN_MARKER,
    REPO,
    action_step,
    load,
)

from identity_reconciler.cli import build_parser

STEPS: list[dict[str, Any]] = load(ACTION)["runs"]["steps"]


def test_metadata() -> None:
    action = load(ACTION)
    assert action["name"] == "identity-reconciler"
    assert action["description"]
    assert action["runs"]["using"] == "composite"
    inputs = action["inputs"]
    assert {"command", "specs", "cloud", "plan-file", "comment"} <= set(inputs)
    assert inputs["command"]["required"] is True
    for name, spec in inputs.items():
        assert spec.get("description"), name
    for name, spec in action["outputs"].items():
        assert spec["value"].startswith("${{ steps."), name


def test_steps_are_shell_or_pinned_actions() -> None:
    for s in STEPS:
        assert ("uses" in s) != ("run" in s), s.get("name")
        if "run" in s:
            assert s["shell"] == "bash", s.get("name")
        else:
            assert re.search(r"@v\d+$", s["uses"]), s["uses"]


def test_installs_the_locked_tool_with_hashes() -> None:
    script = action_step("Install identity-reconciler (locked)")["run"]
    assert '--require-hashes -r "$GITHUB_ACTION_PATH/requirements-dev.lock"' in script
    assert '--no-deps --no-build-isolation "$GITHUB_ACTION_PATH"' in script
    assert (REPO / "requirements-dev.lock").is_file()


def test_plan_comments_once_and_keeps_the_plan() -> None:
    comment = action_step("Post or update the plan comment")
    assert "inputs.command == 'plan'" in comment["if"]
    assert "inputs.comment == 'true'" in comment["if"]
    assert comment["if"].startswith("always()")  # a failed plan replaces a stale comment
    assert PLAN_MARKER in comment["with"]["script"]
    upload = action_step("Keep the reviewed plan")
    assert upload["uses"].startswith("actions/upload-artifact@")
    assert "steps.run.outputs.plan-json" in upload["with"]["path"]
    assert upload["with"]["if-no-files-found"] == "error"


def test_apply_downloads_the_reviewed_artifact() -> None:
    download = action_step("Download the reviewed plan")
    assert download["uses"].startswith("actions/download-artifact@")
    assert download["with"]["run-id"] == "${{ steps.reviewed.outputs.run_id }}"
    assert download["with"]["name"] == "${{ inputs.artifact-name }}"
    find = action_step("Find the reviewed plan")["run"]
    assert "select(.merged_at != null)" in find
    assert "allow-delete-identity|allow-privileged|allow-mass-change" in find


def test_drift_tracks_one_issue() -> None:
    assert DRIFT_MARKER in action_step("Open, update or close the drift issue")["with"]["script"]


def test_no_sign_in_for_local_or_validate() -> None:
    sign_in = action_step("Azure sign-in (workload identity federation)")
    assert sign_in["if"] == "inputs.cloud != 'local' && inputs.command != 'validate'"


SAMPLE = {"${specs[@]}": "specs/", "$CLOUD": "local", "$PLAN_FILE": "plan.json",
          "$plan": "plan.json", "${flags[@]}": ""}


def test_every_cli_call_in_the_script_parses() -> None:
    text = ACTION_SCRIPT.read_text().replace("\\\n", " ")
    calls = [line[line.index("identity-reconciler "):] for line in text.splitlines()
             if "identity-reconciler " in line and not line.lstrip().startswith("#")]
    assert len(calls) == 4
    parser = build_parser()
    for call in calls:
        words = []
        for raw in shlex.split(call.split("||")[0]):
            word = SAMPLE.get(raw, raw)
            if word:
                words.append(word)
        args = parser.parse_args(words[1:])
        assert args.command in ("validate", "plan", "apply", "drift")


def _run(command: str, cwd: Path, **env: str) -> tuple[int, dict[str, str], str, str]:
    outputs = cwd / f"github_output_{command}"
    summary = cwd / "summary.md"
    outputs.write_text("")
    result = subprocess.run(
        ["bash", str(ACTION_SCRIPT)], cwd=cwd, capture_output=True, text=True, timeout=300,
        check=False,
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
             "COMMAND": command, "SPECS": "specs/", "CLOUD": "local", "PLAN_FILE": "plan.json",
             "GITHUB_OUTPUT": str(outputs), "GITHUB_STEP_SUMMARY": str(summary),
             "NO_COLOR": "1", **env},
    )
    pairs = dict(line.split("=", 1) for line in outputs.read_text().splitlines())
    return result.returncode, pairs, result.stdout, summary.read_text() if summary.exists() else ""


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_the_command_script_plans_applies_and_checks_drift(tmp_path: Path) -> None:
    shutil.copytree(REPO / "specs", tmp_path / "specs")

    rc, out, stdout, summary = _run("validate", tmp_path)
    assert (rc, out["exit-code"]) == (0, "0")
    assert "::warning file=specs/myapp-func-prod.yaml" in stdout  # annotations on the line

    rc, out, stdout, summary = _run("plan", tmp_path)
    assert rc == 0  # changes are not a failure
    assert out == {"plan-json": "plan.json", "markdown": "plan.md", "changes": "true",
                   "exit-code": "2"}
    markdown = (tmp_path / "plan.md").read_text()
    assert markdown.startswith("### identity-reconciler plan")
    assert "```mermaid" in markdown
    assert summary == markdown
    assert (tmp_path / "plan.json").is_file()

    reviewed = tmp_path / "reviewed"
    reviewed.mkdir()
    shutil.move(tmp_path / "plan.json", reviewed / "plan.json")
    shutil.move(tmp_path / "plan.md", reviewed / "plan.md")
    rc, out, stdout, summary = _run("apply", tmp_path, REVIEWED=str(reviewed))
    assert (rc, out["exit-code"]) == (0, "0"), stdout
    assert "Apply complete: 9 done" in stdout

    rc, out, _, _ = _run("drift", tmp_path)
    assert (rc, out["drift"], out["exit-code"]) == (0, "false", "0")
    rc, out, _, _ = _run("plan", tmp_path)
    assert (rc, out["changes"]) == (0, "false")


def test_the_command_script_fails_on_errors(tmp_path: Path) -> None:
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "bad.yaml").write_text("identities:\n  - name: 7\n")
    rc, out, stdout, _ = _run("plan", tmp_path)
    assert (rc, out["exit-code"]) == (1, "1")
    assert "changes" not in out
    assert "::error file=specs/bad.yaml,line=2" in stdout
    rc, out, _, _ = _run("deploy", tmp_path)
    assert rc == 1
