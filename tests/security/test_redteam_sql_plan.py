"""A re-sealed plan's T-SQL must be the statements its SQL change shows, nothing else.

Attack: apply a real plan whose one reviewed SQL change adds the app's user to db_datawriter,
after editing that change's T-SQL (or its database) and re-computing the checksum. The ARM side
of a plan is bound operation by operation (`plan/binding.py`); before this test the SQL side
was not: any statement the SQL endpoint accepts ran, without `--specs` to compare against.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from security_support import watch_local

from identity_reconciler.cli import main
from identity_reconciler.plan.model import checksum_of

REPO = Path(__file__).resolve().parents[2]
USER = "id-myapp-prod-uks-01"
Forgery = Callable[[dict[str, Any]], None]


def _tsql(text: str) -> Forgery:
    def forge(plan: dict[str, Any]) -> None:
        (change,) = [c for c in plan["changes"] if c["kind"] == "sql_role_member"]
        change["operations"][0]["body"]["tsql"] = text

    return forge


def _database(plan: dict[str, Any]) -> None:
    (change,) = [c for c in plan["changes"] if c["kind"] == "sql_role_member"]
    change["operations"][0]["body"]["database"] = "master"


FORGERIES: dict[str, Forgery] = {
    # An unreviewed delete: the app's user, which no change deletes.
    "DROP USER under a role-member change": _tsql(f"DROP USER [{USER}];"),
    "drop_user form, guarded by our mark": _tsql(
        "IF EXISTS (SELECT 1 FROM sys.extended_properties WHERE class = 4 AND major_id = "
        f"DATABASE_PRINCIPAL_ID(N'{USER}') AND minor_id = 0 AND name = N'managed-by') "
        f"DROP USER [{USER}];"
    ),
    # An unreviewed membership: another role than the change shows.
    "another role than the change shows": _tsql(
        f"ALTER ROLE [db_ddladmin] ADD MEMBER [{USER}];"
    ),
    # A schema takeover: the user becomes owner of dbo's schema.
    "schema handed to the user": _tsql(f"ALTER AUTHORIZATION ON SCHEMA::[dbo] TO [{USER}];"),
    # Two statements in one guarded block, the reviewed one first.
    "reviewed statement plus a drop in one block": _tsql(
        f"BEGIN ALTER ROLE [db_datawriter] ADD MEMBER [{USER}]; DROP USER [{USER}]; END;"
    ),
    "another database in the body": _database,
}


@pytest.fixture
def forged_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Callable[[Forgery], tuple[str, str, str]]:
    specs = tmp_path / "specs"
    specs.mkdir()
    spec = specs / "app.yaml"
    text = (REPO / "specs" / "myapp-prod.yaml").read_text()
    reader_only = text.replace("roles: [db_datareader, db_datawriter]", "roles: [db_datareader]")
    assert reader_only != text
    spec.write_text(reader_only)
    state = str(tmp_path / "state")
    local = ["--cloud", "local", "--state-dir", state]
    assert main(["apply", str(specs), *local, "--auto-approve"]) == 0
    spec.write_text(text)
    plan_file = tmp_path / "plan.json"
    assert main(["plan", str(specs), *local, "--out", str(plan_file)]) == 0
    capsys.readouterr()

    def forge(edit: Forgery) -> tuple[str, str, str]:
        data = json.loads(plan_file.read_text())
        edit(data)
        data["checksum"] = checksum_of(data)
        forged = tmp_path / "forged.json"
        forged.write_text(json.dumps(data))
        return str(forged), str(specs), state

    return forge


def _sql_batches(stats: dict[str, Any]) -> int:
    return int(stats.get("by_route", {}).get("sql.batch", 0))


@pytest.mark.parametrize("name", list(FORGERIES))
def test_forged_tsql_is_refused_and_runs_nothing(
    forged_plan: Callable[[Forgery], tuple[str, str, str]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
) -> None:
    plan, specs, state = forged_plan(FORGERIES[name])
    watch = watch_local(monkeypatch)
    assert main(["apply", plan, "--state-dir", state]) == 1
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert all(watch.writes(i) == 0 for i in range(len(watch.stats)))
    assert all(_sql_batches(s) == 0 for s in watch.stats)
    # The database is as the reader-only specs left it: the user is there, still a reader.
    monkeypatch.undo()
    assert main(["plan", specs, "--cloud", "local", "--state-dir", state]) == 0
    shown = capsys.readouterr().out
    assert "sql_user." not in shown
    assert "db_datawriter" in shown


def test_the_unedited_plan_applies(
    forged_plan: Callable[[Forgery], tuple[str, str, str]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    plan, _, state = forged_plan(lambda plan: None)
    assert main(["apply", plan, "--state-dir", state]) == 0, capsys.readouterr().err
