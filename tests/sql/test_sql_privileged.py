"""Privileged database roles (db_owner, db_securityadmin, db_accessadmin) are gated like
privileged ARM roles: a justified policy.allow_privileged entry for the role on the database,
and --allow-privileged at apply. Checked from the plan's changes and again from its T-SQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from identity_reconciler.cli import main
from identity_reconciler.core.state import DesiredSqlDatabase
from identity_reconciler.plan import Plan
from identity_reconciler.plan.safety import ALLOW_PRIVILEGED, check_safety
from identity_reconciler.spec import validate

REPO = Path(__file__).resolve().parents[2]
DB = ("/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-myapp-prod-uks-01/"
      "providers/Microsoft.Sql/servers/sql-myapp-prod-uks-01/databases/appdb")
ALLOWANCE = f"""
policy:
  allow_privileged:
    - role: db_owner
      scope: {DB}
      justification: the app runs its own schema migrations
"""


def specs(tmp_path: Path, *, role: str = "db_owner", allowance: str = "") -> Path:
    folder = tmp_path / "specs"
    folder.mkdir(parents=True, exist_ok=True)
    text = (REPO / "specs" / "myapp-prod.yaml").read_text()
    (folder / "app.yaml").write_text(
        text.replace("roles: [db_datareader, db_datawriter]", f"roles: [db_datareader, {role}]")
        + allowance
    )
    return folder


def database(folder: Path) -> DesiredSqlDatabase:
    result = validate([folder])
    assert result.desired is not None, result.findings
    (db,) = result.desired.sql
    return db


def test_an_allowance_names_a_role_on_one_database(tmp_path: Path) -> None:
    assert database(specs(tmp_path, allowance=ALLOWANCE)).privileged_allowed == {"db_owner"}
    assert database(specs(tmp_path / "none")).privileged_allowed == frozenset()


def test_a_database_role_allowance_on_a_non_database_scope_is_a_located_error(
    tmp_path: Path,
) -> None:
    wrong = ALLOWANCE.replace(DB, DB.split("/providers/", maxsplit=1)[0])
    result = validate([specs(tmp_path, allowance=wrong)])
    (finding,) = [f for f in result.findings if f.rule_id == "IR020"]
    assert "its scope must be a database" in finding.message
    assert finding.file.endswith("app.yaml")
    assert finding.line == 1 + (REPO / "specs" / "myapp-prod.yaml").read_text().count("\n") + 4


def plan_json(
    tmp_path: Path, folder: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, object]]:
    out = tmp_path / "plan.json"
    rc = main(["plan", str(folder), "--cloud", "local", "--state-dir", str(tmp_path / "state"),
               "--out", str(out)])
    capsys.readouterr()
    return rc, json.loads(out.read_text()) if out.exists() else {}


@pytest.mark.parametrize("role", ["db_owner", "db_securityadmin", "db_accessadmin"])
def test_without_an_allowance_the_plan_has_a_located_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], role: str
) -> None:
    folder = specs(tmp_path, role=role)
    rc = main(["plan", str(folder), "--cloud", "local", "--state-dir", str(tmp_path / "state")])
    out = capsys.readouterr()
    assert rc == 1
    assert "is a privileged database role" in out.out + out.err
    assert "app.yaml:36:19:" in out.out + out.err  # the user's `identity:` value
    assert "policy.allow_privileged" in out.out + out.err


def test_with_an_allowance_apply_still_needs_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = specs(tmp_path, allowance=ALLOWANCE)
    rc, data = plan_json(tmp_path, folder, capsys)
    assert rc == 0
    plan = Plan.from_json(json.dumps(data))
    (violation,) = [v for v in plan.safety.violations if v.reason == "privileged_database_role"]
    assert violation.flag == ALLOW_PRIVILEGED
    assert "db_owner" in violation.message
    state = str(tmp_path / "state")
    assert main(["apply", str(tmp_path / "plan.json"), "--cloud", "local",
                 "--state-dir", state]) == 1
    assert "--allow-privileged" in capsys.readouterr().err
    assert main(["apply", str(tmp_path / "plan.json"), "--cloud", "local", "--state-dir", state,
                 "--allow-privileged"]) == 0
    capsys.readouterr()
    assert main(["plan", str(folder), "--cloud", "local", "--state-dir", state,
                 "--detailed-exitcode"]) == 0


def test_a_privileged_member_hidden_in_the_t_sql_is_caught_at_apply(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, data = plan_json(tmp_path, specs(tmp_path, role="db_datawriter"), capsys)
    assert rc == 0
    plan = Plan.from_json(json.dumps(data))
    assert check_safety(plan) == []
    writer = next(c for c in plan.changes if c.address.endswith("/db_datawriter"))
    tampered = [
        c.model_copy(update={"operations": tuple(
            op.model_copy(update={"body": {**(op.body or {}), "tsql": str(
                (op.body or {})["tsql"]).replace("[db_datawriter]", "[db_owner]")}})
            for op in c.operations
        )}) if c is writer else c
        for c in plan.changes
    ]
    forged = plan.model_copy(update={"changes": tuple(tampered)})
    (violation,) = check_safety(forged)
    assert (violation.reason, violation.address) == ("privileged_database_role", writer.address)
    assert check_safety(forged, [ALLOW_PRIVILEGED]) == []


def test_an_allowance_no_user_needs_is_flagged(tmp_path: Path) -> None:
    result = validate([specs(tmp_path, role="db_datawriter", allowance=ALLOWANCE)])
    (finding,) = [f for f in result.findings if f.rule_id == "IR107"]
    assert "allow_privileged for db_owner" in finding.message
    assert "matches no SQL user" in finding.message
    assert not [f for f in validate([specs(tmp_path / "used", allowance=ALLOWANCE)]).findings
                if f.rule_id == "IR107"]
