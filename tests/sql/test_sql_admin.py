"""The ARM side of SQL users, against the emulator through the real SDK pipeline.

A server must exist, have a Microsoft Entra administrator and hold the database before any user
can be created there; each missing piece is a plan error at the spec's `sql:` entry. On the
local emulator, which has no SQL endpoint, a ready database is reported "not checked".
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from azure.core.rest import HttpRequest
from sql_fakes import FakeCatalog, RecordingConnection

from identity_reconciler.azure.clients import Session, connect_emulator
from identity_reconciler.azure.reader import read_live
from identity_reconciler.azure.sql_admin import SQL_API, read_server
from identity_reconciler.core.state import DesiredState
from identity_reconciler.plan import Plan, compute_plan, render_text
from identity_reconciler.plan.sql_changes import sql_changes
from identity_reconciler.reconcile.sql_plan import plan_with_sql
from identity_reconciler.spec import validate
from local_azure.api import RunningEmulator

REPO = Path(__file__).resolve().parents[2]
SUB = "11111111-1111-1111-1111-111111111111"
RG = "rg-myapp-prod-uks-01"
SERVER = (f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Sql/servers/"
          "sql-myapp-prod-uks-01")
ADMIN_GROUP = "b7e2d9c4-1a6f-4e38-9b50-2c8d4f1e6a97"  # sqladmins in the default world


@pytest.fixture
def session(fresh_emulator: Callable[..., RunningEmulator]) -> Iterator[Session]:
    with connect_emulator(fresh_emulator().info) as s:
        yield s


def spec(tmp_path: Path, server: str = "sql-myapp-prod-uks-01", database: str = "appdb") -> Path:
    path = tmp_path / "sql.yaml"
    path.write_text(
        (REPO / "specs" / "myapp-prod.yaml").read_text()
        .replace("server: sql-myapp-prod-uks-01", f"server: {server}")
        .replace("database: appdb", f"database: {database}")
    )
    return path


def desired_of(path: Path) -> DesiredState:
    result = validate([path])
    assert result.desired is not None, result.findings
    return result.desired


def plan(session: Session, desired: DesiredState, *, fake: bool = False) -> Plan:
    live = read_live(session, desired)
    catalog = FakeCatalog()
    connect = (lambda e, d: RecordingConnection(catalog)) if fake else None
    return plan_with_sql(session, desired, live, compute_plan(desired, live), connect=connect)


def sql_diagnostics(p: Plan) -> list[tuple[str, str, str | None]]:
    return [
        (kind, d.code, d.source)
        for kind, items in (("error", p.errors), ("notice", p.notices))
        for d in items
        if d.code.startswith("sql")
    ]


def test_read_server_reports_host_admin_and_databases(session: Session) -> None:
    before = session.requests
    server = read_server(session, SERVER)
    assert session.requests - before == 3  # server, administrators, databases
    assert server.exists
    assert server.endpoint == "sql-myapp-prod-uks-01.database.windows.net"
    assert (server.admin_login, server.admin_sid) == ("sqladmins", ADMIN_GROUP)
    assert server.has_database("AppDB")
    assert not server.has_database("other")

    before = session.requests
    missing = read_server(session, SERVER.replace("sql-myapp", "sql-nope"))
    assert session.requests - before == 1
    assert not missing.exists


def test_ready_server_on_the_emulator_is_reported_not_checked(tmp_path: Path,
                                                              session: Session) -> None:
    p = plan(session, desired_of(spec(tmp_path)))
    assert sql_diagnostics(p) == [("notice", "sql_not_checked", f"{tmp_path}/sql.yaml:33:5")]
    (notice,) = (n for n in p.notices if n.code == "sql_not_checked")
    assert notice.message == (
        "SQL users of sql-myapp-prod-uks-01/appdb not checked: no SQL endpoint on the local "
        "emulator"
    )
    assert sql_changes(p) == []
    assert "not checked: no SQL endpoint on the local emulator" in render_text(p)


def test_ready_server_with_a_database_connection_plans_users(tmp_path: Path,
                                                             session: Session) -> None:
    p = plan(session, desired_of(spec(tmp_path)), fake=True)
    assert sql_diagnostics(p) == []
    assert len(sql_changes(p)) == 3


def test_server_without_entra_admin_is_a_plan_error(tmp_path: Path, session: Session) -> None:
    response = session.resources(SUB).send_request(
        HttpRequest("DELETE", f"{SERVER}/administrators/ActiveDirectory",
                    params={"api-version": SQL_API})
    )
    assert response.status_code in (200, 202, 204)
    p = plan(session, desired_of(spec(tmp_path)), fake=True)
    assert sql_diagnostics(p) == [("error", "sql_admin_missing", f"{tmp_path}/sql.yaml:33:5")]
    assert "has no Microsoft Entra administrator" in p.errors[0].message
    assert sql_changes(p) == []
    assert p.has_errors


def test_unknown_server_is_a_plan_error(tmp_path: Path, session: Session) -> None:
    p = plan(session, desired_of(spec(tmp_path, server="sql-nope-prod-uks-01")), fake=True)
    assert sql_diagnostics(p) == [("error", "sql_server_not_found", f"{tmp_path}/sql.yaml:33:5")]
    assert f"'sql-nope-prod-uks-01' does not exist in resource group {RG}" in p.errors[0].message


def test_unknown_database_is_a_plan_error(tmp_path: Path, session: Session) -> None:
    p = plan(session, desired_of(spec(tmp_path, database="otherdb")), fake=True)
    assert sql_diagnostics(p) == [("error", "sql_database_not_found", f"{tmp_path}/sql.yaml:33:5")]


def test_unreachable_database_is_a_plan_error_naming_the_cause(tmp_path: Path,
                                                               session: Session) -> None:
    desired = desired_of(spec(tmp_path))
    live = read_live(session, desired)

    def refuse(endpoint: str, database: str) -> RecordingConnection:
        raise RuntimeError("install mssql-python to manage SQL users (pip install mssql-python)")

    p = plan_with_sql(session, desired, live, compute_plan(desired, live), connect=refuse)
    assert sql_diagnostics(p) == [("error", "sql_unreadable", f"{tmp_path}/sql.yaml:33:5")]
    assert "cannot read sql-myapp-prod-uks-01/appdb: install mssql-python" in p.errors[0].message


def test_plan_command_says_sql_was_not_checked_on_local(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from identity_reconciler.cli import main

    seed = str(REPO / "specs" / "myapp-prod.yaml")
    rc = main(["plan", seed, "--cloud", "local", "--state-dir", str(tmp_path / "state"),
               "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert rc == 0  # a notice, not an error: nothing about the database is claimed
    (notice,) = [n for n in data["notices"] if n["code"] == "sql_not_checked"]
    assert notice["source"].endswith("specs/myapp-prod.yaml:33:5")
    assert not [c for c in data["changes"] if c["kind"].startswith("sql")]
