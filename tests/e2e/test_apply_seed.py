"""plan -> apply -> plan on the seed scenario through the CLI, and the plans apply refuses."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
from apply_support import SITE, SPECS, cli, converged, local, plan_to, sdk_session, watch_local

from local_azure.kernel import Settings

SUB = "11111111-1111-1111-1111-111111111111"


def test_seed_scenario_applies_and_then_plans_zero_changes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    state, plan = tmp_path / "state", tmp_path / "plan.json"
    plan_to(capsys, SPECS, state, plan)
    watch = watch_local(monkeypatch)
    rc, out, err = cli(
        capsys, "apply", str(plan), "--specs", SPECS, "--state-dir", str(state), "--format", "json"
    )
    assert rc == 0, err
    summary = json.loads(out)
    assert summary["ok"] is True
    assert summary["counts"] == {"done": 6, "failed": 0, "skipped": 0}
    kinds = {a["kind"] for a in summary["actions"]}
    assert kinds == {"identity", "federated_credential", "attachment", "system_assigned", "grant"}
    assert watch.writes() == 6  # one write per change, nothing retried
    assert "  done     identity.rg-myapp-prod-uks-01/id-myapp-prod-uks-01" in err
    assert converged(capsys, SPECS, state)


def test_apply_of_specs_takes_auto_approve_and_is_idempotent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    rc, out, err = cli(capsys, "apply", SPECS, *local(state), "--auto-approve")
    assert rc == 0, err
    assert "Plan: 6 to add" in out
    assert "Apply complete: 6 done, 0 failed, 0 skipped" in out
    rc, out, err = cli(capsys, "apply", SPECS, *local(state), "--auto-approve")
    assert rc == 0, err
    assert "No changes" in out


def test_apply_of_specs_without_a_terminal_or_approval_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    watch = watch_local(monkeypatch)
    rc, _out, err = cli(capsys, "apply", SPECS, *local(tmp_path / "state"))
    assert rc == 1
    assert "no terminal to ask on" in err
    assert "--auto-approve" in err
    assert watch.runs == []  # refused before anything started


def test_stale_plan_is_refused_and_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    state, plan = tmp_path / "state", tmp_path / "plan.json"
    plan_to(capsys, SPECS, state, plan)
    with sdk_session(state) as session:  # someone switches the app's system identity on
        session.resources(SUB).resources.begin_update_by_id(
            SITE, {"identity": {"type": "SystemAssigned"}}, api_version="2024-11-01"
        ).result()
    watch = watch_local(monkeypatch)
    rc, _out, err = cli(capsys, "apply", str(plan), "--state-dir", str(state))
    assert rc == 1
    assert (
        "error: plan is stale: re-run plan — attachment.rg-myapp-prod-uks-01/sites/"
        "app-myapp-prod-uks-01/rg-myapp-prod-uks-01/id-myapp-prod-uks-01" in err
    )
    assert "changed since the plan was made" in err
    assert "nothing was written" in err
    assert watch.writes() == 0
    assert watch.last["by_method"].get("GET", 0) > 0  # it did look


def test_tampered_plan_is_refused_before_anything_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    state, plan = tmp_path / "state", tmp_path / "plan.json"
    data = plan_to(capsys, SPECS, state, plan)
    data["changes"][0]["operations"][0]["body"]["location"] = "westus"
    plan.write_text(json.dumps(data))
    watch = watch_local(monkeypatch)
    rc, _, err = cli(capsys, "apply", str(plan), "--state-dir", str(state))
    assert rc == 1
    assert "refusing plan file" in err
    assert "checksum mismatch" in err
    assert watch.runs == []
    rc, _, err = cli(capsys, "apply", str(tmp_path / "missing.json"))
    assert rc == 1
    assert "cannot read plan file" in err


def test_plan_is_refused_when_the_specs_changed_since(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    specs = tmp_path / "specs"
    shutil.copytree(SPECS, specs)
    state, plan = tmp_path / "state", tmp_path / "plan.json"
    plan_to(capsys, str(specs), state, plan)
    spec = specs / "myapp-prod.yaml"
    spec.write_text(spec.read_text().replace("owner: platform", "owner: someone-else"))
    watch = watch_local(monkeypatch)
    rc, _, err = cli(capsys, "apply", str(plan), "--specs", str(specs), "--state-dir", str(state))
    assert rc == 1
    assert "the specs changed since the plan was made" in err
    assert watch.runs == []


def test_plan_for_another_cloud_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state, plan = tmp_path / "state", tmp_path / "plan.json"
    plan_to(capsys, SPECS, state, plan)
    rc, _, err = cli(capsys, "apply", str(plan), "--cloud", "azure")
    assert rc == 1
    assert "the plan was made for cloud 'local', not 'azure'" in err


def test_throttling_and_the_replication_window_are_waited_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    state, plan = tmp_path / "state", tmp_path / "plan.json"
    plan_to(capsys, SPECS, state, plan)
    watch = watch_local(
        monkeypatch,
        settings=Settings(throttle=True, replication_window_s=600),
        configure={"throttle_limits": {"writes": {"burst": 1, "per_second": 1}}},
    )
    rc, out, err = cli(capsys, "apply", str(plan), "--state-dir", str(state), "--format", "json")
    assert rc == 0, err
    summary = json.loads(out)
    assert summary["counts"]["done"] == 6
    assert summary["throttled"] >= 1
    statuses = watch.statuses()
    assert statuses.get("429", 0) == summary["throttled"]
    assert statuses.get("400", 0) == 0  # principalType sent: no PrincipalNotFound while young
    assert watch.writes() == 6 + summary["throttled"]  # one layer of retries, not two
    assert converged(capsys, SPECS, state)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("answer", "rc", "said"), [("no\n", 1, "Apply cancelled"), ("yes\n", 0, "")]
)
def test_apply_of_specs_at_a_terminal_asks_for_yes(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
    rc: int,
    said: str,
) -> None:
    monkeypatch.setattr("sys.stdin", _Terminal(answer))
    watch = watch_local(monkeypatch)
    got, out, err = cli(capsys, "apply", SPECS, *local(tmp_path / "state"))
    assert got == rc, err
    assert "Only 'yes' is accepted" in out
    assert said in err
    assert watch.writes() == (0 if rc else 6)
