"""The github-script steps of the action (action.yml), run in node against a fake REST API: one
plan comment per pull request (found again by its marker), and one drift issue."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from workflow_files import DRIFT_MARKER, PLAN_MARKER, action_step

HARNESS = Path(__file__).with_name("github_script.js")
pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")

BOT = {"type": "Bot", "login": "github-actions[bot]"}
HUMAN = {"type": "User", "login": "alice"}


def run_script(
    step_name: str, cwd: Path, state: dict[str, Any], env: dict[str, str]
) -> list[tuple[str, dict[str, Any]]]:
    script = action_step(step_name)["with"]["script"]
    (cwd / "script.js").write_text(script)
    (cwd / "state.json").write_text(json.dumps(state))
    result = subprocess.run(
        ["node", str(HARNESS), "script.js", "state.json"],
        cwd=cwd, env={**os.environ, **env}, capture_output=True, text=True, timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return [(name, args) for name, args in json.loads(result.stdout) if name != "paginate"]


def plan_comment(tmp_path: Path, comments: list[dict[str, Any]], outcome: str = "success") -> Any:
    return run_script(
        "Post or update the plan comment", tmp_path,
        {"comments": comments}, {"PLAN_OUTCOME": outcome},
    )


def test_first_plan_creates_the_comment(tmp_path: Path) -> None:
    (tmp_path / "plan.md").write_text("### identity-reconciler plan\n\nPlan: 1 to add\n")
    calls = plan_comment(tmp_path, [{"id": 1, "user": HUMAN, "body": "LGTM"}])
    assert [name for name, _ in calls] == ["createComment"]
    args = calls[0][1]
    assert args["issue_number"] == 7
    assert args["body"].startswith(PLAN_MARKER + "\n### identity-reconciler plan")


def test_later_plans_update_that_comment_only(tmp_path: Path) -> None:
    (tmp_path / "plan.md").write_text("### identity-reconciler plan\n\nPlan: 2 to add\n")
    comments = [
        {"id": 1, "user": HUMAN, "body": f"quoting {PLAN_MARKER} by hand"},
        {"id": 2, "user": BOT, "body": f"{PLAN_MARKER}\nold plan"},
        {"id": 3, "user": BOT, "body": "another bot's comment"},
    ]
    calls = plan_comment(tmp_path, comments)
    assert [(name, args.get("comment_id")) for name, args in calls] == [("updateComment", 2)]
    assert "Plan: 2 to add" in calls[0][1]["body"]


def test_a_failed_plan_replaces_the_stale_plan_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "plan.md").write_text("half a plan")
    calls = plan_comment(tmp_path, [{"id": 2, "user": BOT, "body": PLAN_MARKER}], "failure")
    assert calls[0][0] == "updateComment"
    assert "No plan: the specs did not validate" in calls[0][1]["body"]
    assert "half a plan" not in calls[0][1]["body"]


def drift_issue(tmp_path: Path, issues: list[dict[str, Any]], drift: str) -> Any:
    (tmp_path / "drift.md").write_text("Drift: 1 missing live\n")
    return run_script(
        "Open, update or close the drift issue", tmp_path,
        {"issues": issues}, {"DRIFT": drift},
    )


def test_drift_opens_one_issue_then_updates_it(tmp_path: Path) -> None:
    calls = drift_issue(tmp_path, [], "true")
    assert [name for name, _ in calls] == ["create"]
    assert calls[0][1]["body"].startswith(DRIFT_MARKER)
    assert "Drift: 1 missing live" in calls[0][1]["body"]
    open_issue = {"number": 12, "body": f"{DRIFT_MARKER}\nold"}
    pull = {"number": 13, "body": DRIFT_MARKER, "pull_request": {}}
    calls = drift_issue(tmp_path, [pull, open_issue], "true")
    assert [(name, args["issue_number"]) for name, args in calls] == [("update", 12)]


def test_no_drift_closes_the_open_issue_and_otherwise_does_nothing(tmp_path: Path) -> None:
    open_issue = {"number": 12, "body": f"{DRIFT_MARKER}\nold"}
    calls = drift_issue(tmp_path, [open_issue], "false")
    assert [name for name, _ in calls] == ["createComment", "update"]
    assert calls[1][1]["state"] == "closed"
    assert drift_issue(tmp_path, [], "false") == []
