"""SQL Server errors people hit creating Entra users, mapped to their cause and fix.

Each mapping is tested on the texts the drivers produce (pyodbc, mssql-python, `Msg N` style)
and, where the local Azure can produce the error, end to end through its SQL endpoint.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from identity_reconciler.apply.sql_apply import SqlChangeRunner, SqlFailed, apply_sql
from identity_reconciler.azure import local_sql
from identity_reconciler.azure.clients import Session, connect_emulator
from identity_reconciler.azure.reader import read_live
from identity_reconciler.azure.sql_connect import connect_session
from identity_reconciler.core.state import DesiredState
from identity_reconciler.plan import Change, compute_plan
from identity_reconciler.plan.sql_changes import sql_changes
from identity_reconciler.reconcile.sql_plan import plan_with_sql
from identity_reconciler.spec import validate
from identity_reconciler.sql import explain, tsql, with_explanation
from identity_reconciler.sql.executor import execute
from local_azure.api import RunningEmulator

SUB = "11111111-1111-1111-1111-111111111111"
RG = "rg-myapp-prod-uks-01"
NAME = "id-myapp-prod-uks-01"
HOST = "sql-myapp-prod-uks-01.database.windows.net"

PYODBC = ("('42000', \"[42000] [Microsoft][ODBC Driver 18 for SQL Server][SQL Server]{text} "
          "({number}) (SQLExecDirectW)\")")
MSSQL_PYTHON = ("Driver Error: Syntax error or access violation; DDBC Error: [Microsoft][ODBC "
                "Driver 18 for SQL Server][SQL Server]{text} ({number})")
MSG = "Msg {number}, Level 16, State 1, Line 1\n{text}"
TEXTS = {
    "33131": "Principal 'id-app' has a duplicate display name. Make the display name unique in "
             "Azure Active Directory and execute this statement again.",
    "33134": "Principal 'id-app' could not be resolved. Error message: ''",
    "15023": "User, group, or role 'id-app' already exists in the current database.",
}


@pytest.mark.parametrize("style", [PYODBC, MSSQL_PYTHON, MSG])
@pytest.mark.parametrize(("number", "fix"), [
    ("33131", "WITH OBJECT_ID"),
    ("33134", "Directory Readers"),
    ("15023", "--adopt"),
])
def test_server_errors_are_explained_with_their_fix(style: str, number: str, fix: str) -> None:
    message = style.format(text=TEXTS[number], number=number)
    found = explain(message)
    assert found is not None
    assert found.code == number
    assert fix in found.fix
    assert with_explanation(message).startswith(message)
    assert f"Fix: {found.fix}" in with_explanation(message)


@pytest.mark.parametrize("message", [
    "('HYT00', '[HYT00] [Microsoft][ODBC Driver 18 for SQL Server]Login timeout expired (0) "
    "(SQLDriverConnect)')",
    "cannot connect to database 'appdb' on sql-1.database.windows.net with mssql_python: Driver "
    "Error: Login timeout expired",
])
def test_login_timeouts_are_explained_with_the_firewall_fix(message: str) -> None:
    found = explain(message)
    assert found is not None
    assert found.code == "login-timeout"
    assert "firewall" in found.fix


@pytest.mark.parametrize("message", [
    "Failed to load the driver. Please read the documentation (https://github.com/microsoft/"
    "mssql-python#installation) to install the required dependencies.",
    "Failed to load ODBC driver. If you are on Linux, please install libltdl7 package.",
])
def test_a_driver_without_its_system_libraries_names_the_packages(message: str) -> None:
    found = explain(message)
    assert found is not None
    assert "apt-get install -y libltdl7 libkrb5-3 libgssapi-krb5-2" in found.fix


def test_unknown_errors_are_left_as_they_are() -> None:
    message = "[SQL Server]Incorrect syntax near 'x'. (102)"
    assert explain(message) is None
    assert with_explanation(message) == message


# --------------------------------------------------------------------------- end to end


@pytest.fixture
def session(fresh_emulator: Callable[..., RunningEmulator]) -> Iterator[Session]:
    with connect_emulator(fresh_emulator().info) as s:
        yield s


def desired_by(resolve_by: str, tmp_path: Path) -> DesiredState:
    spec = tmp_path / "sql.yaml"
    repo = Path(__file__).resolve().parents[2]
    text = (repo / "specs" / "myapp-prod.yaml").read_text()
    spec.write_text(text.replace(
        "      - identity: id-myapp-prod-uks-01\n",
        f"      - identity: id-myapp-prod-uks-01\n        resolve_by: {resolve_by}\n",
    ))
    desired = validate([spec]).desired
    assert desired is not None
    return desired


def plan_sql(session: Session, desired: DesiredState) -> list[Change]:
    live = read_live(session, desired)
    return sql_changes(plan_with_sql(session, desired, live, compute_plan(desired, live)))


def twin_identities(session: Session) -> None:
    """The spec's identity, and another of the same name in another resource group."""
    msi = session.msi(SUB).user_assigned_identities
    tags = {"managed-by": "identity-reconciler"}
    msi.create_or_update(RG, NAME, {"location": "uksouth", "tags": tags})
    session.resources(SUB).resource_groups.create_or_update("rg-other", {"location": "uksouth"})
    msi.create_or_update("rg-other", NAME, {"location": "uksouth"})


def test_duplicate_display_name_fails_by_name_with_the_fix_and_works_by_object_id(
    session: Session, tmp_path: Path
) -> None:
    twin_identities(session)
    by_name = plan_sql(session, desired_by("display_name", tmp_path))
    (failed, *skipped) = apply_sql(session, by_name, wait_seconds=0)
    assert failed.status == "failed"
    assert "(33131)" in (failed.message or "")
    assert "Fix: create the user by object id" in (failed.message or "")
    assert {s.status for s in skipped} == {"skipped"}

    by_id = plan_sql(session, desired_by("object_id", tmp_path))
    assert {o.status for o in apply_sql(session, by_id)} == {"done"}


def test_unresolvable_object_id_fails_with_the_fix(session: Session, tmp_path: Path) -> None:
    twin_identities(session)
    changes = plan_sql(session, desired_by("object_id", tmp_path))
    session.msi(SUB).user_assigned_identities.delete(RG, NAME)
    runner = SqlChangeRunner(session, wait_seconds=0)
    with pytest.raises(SqlFailed, match=r"\(33134\).*Fix: give the SQL server's managed identity"):
        runner(changes[0])
    runner.close()


def test_existing_name_is_explained(session: Session) -> None:
    twin_identities(session)
    principal = session.msi(SUB).user_assigned_identities.get(RG, NAME).principal_id
    bare = f"CREATE USER [{NAME}] FROM EXTERNAL PROVIDER WITH OBJECT_ID = '{principal}';"
    conn = connect_session(session, HOST, "appdb")
    execute(conn, [bare])
    with pytest.raises(Exception, match=r"\(15023\)") as info:
        execute(conn, [tsql.add_member("db_datareader", NAME), bare])
    assert "--adopt" in with_explanation(str(info.value))


def test_login_timeout_is_a_located_plan_error_with_the_fix(
    session: Session, tmp_path: Path, fresh_emulator: Callable[..., RunningEmulator]
) -> None:
    emu = fresh_emulator()
    desired = desired_by("object_id", tmp_path)
    live = read_live(session, desired)

    def unreachable(endpoint: str, database: str) -> local_sql.LocalSqlConnection:
        return local_sql.connect("https://127.0.0.1:9", endpoint, database, session.credential,
                                 ca_bundle=emu.info.ca_bundle, timeout=1)

    plan = plan_with_sql(session, desired, live, compute_plan(desired, live), connect=unreachable)
    (error,) = [e for e in plan.errors if e.code == "sql_unreadable"]
    assert "Login timeout expired" in error.message
    assert "Fix: allow this machine's address in the server's firewall" in error.message
    assert error.source is not None
    assert error.source.endswith("sql.yaml:33:5")
