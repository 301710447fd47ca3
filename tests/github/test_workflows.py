"""The example workflows are valid GitHub Actions workflows, least-privileged, and short uses of
this repository's action; actionlint checks them fully when it is installed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from workflow_files import (
    ACTION_REF,
    WORKFLOWS,
    load,
    triggers,
    uses_of_action,
)

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


@pytest.mark.parametrize(
    ("name", "command"),
    [("identity-plan.yml", "plan"), ("identity-apply.yml", "apply"),
     ("identity-drift.yml", "drift")],
)
def test_each_workflow_is_a_short_use_of_the_action(name: str, command: str) -> None:
    path = BY_NAME[name]
    (use,) = uses_of_action(path)
    assert use["with"]["command"] == command
    assert use["with"]["specs"] == "specs/"
    assert use["with"]["client-id"].startswith("${{ vars.IDENTITY_RECONCILER_")
    assert use["with"]["tenant-id"] == "${{ vars.AZURE_TENANT_ID }}"
    assert len(path.read_text().splitlines()) < 60
    assert "run:" not in path.read_text()  # all logic lives in the action


def test_plan_runs_on_pull_requests() -> None:
    assert "pull_request" in triggers(load(BY_NAME["identity-plan.yml"]))


def test_apply_workflow_applies_in_a_guarded_environment() -> None:
    workflow = load(BY_NAME["identity-apply.yml"])
    assert triggers(workflow)["push"]["branches"] == ["main"]
    assert workflow["jobs"]["apply"]["environment"] == "production"
    assert workflow["concurrency"]["cancel-in-progress"] is False
    assert uses_of_action(BY_NAME["identity-apply.yml"])[0]["with"]["plan-workflow"] == (
        "identity-plan.yml"
    )


def test_drift_workflow_is_scheduled() -> None:
    on = triggers(load(BY_NAME["identity-drift.yml"]))
    assert on["schedule"][0]["cron"]
    assert "workflow_dispatch" in on


def test_the_action_reference_is_the_documented_one() -> None:
    assert ACTION_REF.endswith("@v1")


@pytest.mark.skipif(shutil.which("actionlint") is None, reason="actionlint is not installed")
def test_actionlint() -> None:
    result = subprocess.run(
        ["actionlint", "-no-color", *map(str, WORKFLOWS)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
