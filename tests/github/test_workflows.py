"""The example workflows are valid GitHub Actions workflows, least-privileged, and call the CLI
with options it has. actionlint checks them fully when it is installed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from workflow_files import (
    DRIFT_MARKER,
    PLAN_MARKER,
    WORKFLOWS,
    load,
    reconciler_commands,
    step,
    triggers,
)

from identity_reconciler.cli import build_parser

BY_NAME = {p.name: p for p in WORKFLOWS}
IDS = [p.name for p in WORKFLOWS]


def test_the_three_workflows_exist() -> None:
    assert set(BY_NAME) == {"identity-plan.yml", "identity-apply.yml", "identity-drift.yml"}


@pytest.mark.parametrize("path", WORKFLOWS, ids=IDS)
def test_structure(path: Path) -> None:
    workflow = load(path)
    assert workflow.get("name")
    assert triggers(workflow)
    assert workflow["jobs"]
    for job_name, job in workflow["jobs"].items():
        assert job.get("runs-on"), job_name
        assert job.get("steps"), job_name
        for index, s in enumerate(job["steps"]):
            assert ("uses" in s) != ("run" in s), f"{job_name} step {index}: uses or run"
            if "uses" in s:
                assert "@" in s["uses"], f"{s['uses']}: pin a version"


@pytest.mark.parametrize("path", WORKFLOWS, ids=IDS)
def test_least_privilege(path: Path) -> None:
    workflow = load(path)
    assert workflow["permissions"] == {"contents": "read"}  # the default for every job
    for job in workflow["jobs"].values():
        perms = job["permissions"]
        assert perms.get("contents") == "read"
        assert perms.get("id-token") == "write"  # OIDC to Azure, no stored secret
        assert all(v in ("read", "write") for v in perms.values())
        writes = {k for k, v in perms.items() if v == "write"} - {"id-token"}
        expected = {
            "identity-plan.yml": {"pull-requests"},
            "identity-apply.yml": set(),
            "identity-drift.yml": {"issues"},
        }[path.name]
        assert writes == expected


def test_plan_workflow_comments_once_and_keeps_the_plan() -> None:
    path = BY_NAME["identity-plan.yml"]
    assert "pull_request" in triggers(load(path))
    script = step(path, "Post or update the plan comment")["with"]["script"]
    assert PLAN_MARKER in script
    assert "updateComment" in script
    assert "createComment" in script
    upload = step(path, "Keep the reviewed plan")
    assert upload["uses"].startswith("actions/upload-artifact@")
    assert "plan.json" in upload["with"]["path"]


def test_apply_workflow_applies_exactly_the_reviewed_artifact() -> None:
    path = BY_NAME["identity-apply.yml"]
    workflow = load(path)
    assert triggers(workflow)["push"]["branches"] == ["main"]
    assert workflow["jobs"]["apply"]["environment"] == "production"
    assert workflow["concurrency"]["cancel-in-progress"] is False
    download = next(s for s in workflow["jobs"]["apply"]["steps"]
                    if str(s.get("uses", "")).startswith("actions/download-artifact@"))
    assert download["with"]["name"] == "identity-plan"
    assert "run-id" in download["with"]
    assert ["apply", "reviewed/plan.json", "--specs", "specs/"] in reconciler_commands(path)


def test_drift_workflow_is_scheduled_and_tracks_one_issue() -> None:
    path = BY_NAME["identity-drift.yml"]
    on = triggers(load(path))
    assert on["schedule"][0]["cron"]
    assert "workflow_dispatch" in on
    script = step(path, "Open, update or close the drift issue")["with"]["script"]
    assert DRIFT_MARKER in script
    assert "2) echo \"drift=true\"" in step(path, "Drift")["run"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=IDS)
def test_cli_invocations_parse(path: Path) -> None:
    commands = reconciler_commands(path)
    assert commands
    parser = build_parser()
    for argv in commands:
        args = parser.parse_args(argv)  # SystemExit (a failure) on an unknown option
        assert args.command == argv[0]


@pytest.mark.skipif(shutil.which("actionlint") is None, reason="actionlint is not installed")
def test_actionlint() -> None:
    result = subprocess.run(
        ["actionlint", "-no-color", *map(str, WORKFLOWS)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
