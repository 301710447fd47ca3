"""The README's example on `--cloud local`, SQL included: plan, apply, plan again with no changes.

The database side is the local Azure's SQL endpoint, reached through the same DB-API boundary
as a real driver, signed in with an Entra token for the server's administrator group.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from identity_reconciler.cli import main

REPO = Path(__file__).resolve().parents[2]
SPECS = str(REPO / "specs")


def test_example_specs_plan_apply_and_converge_with_sql(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = str(tmp_path / "state")
    plan_file = tmp_path / "plan.json"
    rc = main(["plan", SPECS, "--cloud", "local", "--state-dir", state, "--out", str(plan_file),
               "--format", "json"])
    assert rc == 0
    data = json.loads(plan_file.read_text())
    capsys.readouterr()
    assert not [n for n in data["notices"] if n["code"] == "sql_not_checked"]
    sql = [c for c in data["changes"] if c["kind"].startswith("sql")]
    assert [(c["kind"], c["actions"]) for c in sql] == [
        ("sql_user", ["create"]), ("sql_role_member", ["create"]), ("sql_role_member", ["create"]),
    ]
    tsql = [op["body"]["tsql"] for c in sql for op in c["operations"]]
    assert "CREATE USER [id-myapp-prod-uks-01] FROM EXTERNAL PROVIDER WITH OBJECT_ID = " in tsql[0]
    assert "ALTER ROLE [db_datareader] ADD MEMBER [id-myapp-prod-uks-01];" in tsql[1]
    assert "ALTER ROLE [db_datawriter] ADD MEMBER [id-myapp-prod-uks-01];" in tsql[2]

    assert main(["apply", str(plan_file), "--cloud", "local", "--state-dir", state]) == 0
    out = capsys.readouterr()
    assert "9 done, 0 failed, 0 skipped" in out.out + out.err

    rc = main(["plan", SPECS, "--cloud", "local", "--state-dir", state, "--detailed-exitcode"])
    out = capsys.readouterr()
    assert rc == 0, out.out + out.err
    assert "No changes." in out.out


def test_a_server_only_the_specs_name_gets_a_working_admin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Servers the default world lacks are derived from the specs, with an admin group the
    operator belongs to, so their users plan and apply too (this failed world validation)."""
    specs = tmp_path / "specs"
    specs.mkdir()
    text = (REPO / "specs" / "myapp-prod.yaml").read_text()
    (specs / "app.yaml").write_text(
        text.replace("server: sql-myapp-prod-uks-01", "server: sql-other-prod-uks-01")
        .replace("database: appdb", "database: otherdb")
    )
    state = str(tmp_path / "state")
    assert main(["apply", str(specs), "--cloud", "local", "--state-dir", state,
                 "--auto-approve"]) == 0
    out = capsys.readouterr()
    assert "sql_user.sql-other-prod-uks-01/otherdb/id-myapp-prod-uks-01" in out.out
    assert "0 failed, 0 skipped" in out.out
    assert main(["plan", str(specs), "--cloud", "local", "--state-dir", state,
                 "--detailed-exitcode"]) == 0
