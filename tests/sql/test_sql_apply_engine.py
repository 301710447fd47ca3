"""SQL changes through the apply engine: SqlChangeRunner as `ApplyOptions.sql`.

ARM is the emulator; each database is a FakeCatalog behind a RecordingConnection whose Entra
directory is the emulator's own identities, so a user can be created only once the apply has
created its identity — the ordering the plan promises. No SQL Server is involved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from azure.core.exceptions import ResourceNotFoundError
from sql_fakes import FakeCatalog, RecordingConnection

from identity_reconciler.apply import ApplyOptions, Status, apply_plan
from identity_reconciler.apply.sql_apply import SqlChangeRunner, SqlFailed, SqlStale
from identity_reconciler.azure.clients import Session, connect_emulator
from identity_reconciler.azure.reader import read_live
from identity_reconciler.core.state import DesiredState
from identity_reconciler.plan import Plan, compute_plan
from identity_reconciler.plan.sql_changes import sql_changes
from identity_reconciler.reconcile.sql_plan import plan_with_sql
from identity_reconciler.spec import validate
from local_azure.api import RunningEmulator

REPO = Path(__file__).resolve().parents[2]
SUB = "11111111-1111-1111-1111-111111111111"
RG = "rg-myapp-prod-uks-01"
NAME = "id-myapp-prod-uks-01"


@pytest.fixture
def session(fresh_emulator: Callable[..., RunningEmulator]) -> Iterator[Session]:
    with connect_emulator(fresh_emulator().info) as s:
        yield s


def seed() -> DesiredState:
    desired = validate([REPO / "specs" / "myapp-prod.yaml"]).desired
    assert desired is not None
    return desired


def directory(session: Session) -> Callable[[str], str | None]:
    def lookup(name: str) -> str | None:
        try:
            return str(session.msi(SUB).user_assigned_identities.get(RG, name).client_id)
        except ResourceNotFoundError:
            return None

    return lookup


def connector(catalog: FakeCatalog, opened: list[RecordingConnection] | None = None
              ) -> Callable[[str, str], RecordingConnection]:
    def connect(endpoint: str, database: str) -> RecordingConnection:
        conn = RecordingConnection(catalog)
        if opened is not None:
            opened.append(conn)
        return conn

    return connect


def make_plan(session: Session, desired: DesiredState, catalog: FakeCatalog) -> Plan:
    live = read_live(session, desired)
    return plan_with_sql(session, desired, live, compute_plan(desired, live),
                         connect=connector(catalog))


def test_whole_seed_plan_applies_through_the_engine_and_converges(session: Session) -> None:
    catalog = FakeCatalog(entra=directory(session))
    desired = seed()
    plan = make_plan(session, desired, catalog)
    assert len(sql_changes(plan)) == 3
    opened: list[RecordingConnection] = []
    runner = SqlChangeRunner(connect=connector(catalog, opened), sleep=lambda s: None)
    try:
        result = apply_plan(session, plan, options=ApplyOptions(sql=runner))
    finally:
        runner.close()
    assert result.ok, [a.failure for a in result.failed]
    assert len(opened) == 1  # one connection for the database, reused
    assert opened[0].closed
    assert opened[0].commits == 3  # one transaction per change

    client_id = directory(session)(NAME)
    user = catalog.principal(NAME)
    assert user is not None
    assert user.sid is not None
    assert catalog.roles_of(NAME) == {"db_datareader", "db_datawriter"}
    again = make_plan(session, desired, catalog)
    assert again.changes == ()  # ARM and SQL both converged
    assert again.errors == ()
    assert client_id is not None


def test_runner_checks_each_user_once_before_its_first_write(session: Session) -> None:
    catalog = FakeCatalog(entra=directory(session))
    session.msi(SUB).user_assigned_identities.create_or_update(
        RG, NAME, {"location": "uksouth", "tags": {"managed-by": "identity-reconciler"}}
    )
    user, reader, writer = sql_changes(make_plan(session, seed(), catalog))
    opened: list[RecordingConnection] = []
    runner = SqlChangeRunner(connect=connector(catalog, opened))
    assert runner(user) == 1
    assert runner(reader) == 1  # the user now exists: our own write, not staleness
    catalog.members.clear()  # someone removes every membership meanwhile
    assert runner(writer) == 1  # checked once per user: the guarded T-SQL copes
    reads = [s for s in opened[0].executed if s.startswith("SELECT")]
    assert len(reads) == 2  # the two catalog queries, once
    runner.close()


def test_runner_refuses_a_user_changed_since_the_plan(session: Session) -> None:
    catalog = FakeCatalog(entra=directory(session))
    user, _, _ = sql_changes(make_plan(session, seed(), catalog))
    catalog.add(NAME, app_id="0f0e0d0c-0b0a-4909-8807-060504030201")
    runner = SqlChangeRunner(connect=connector(catalog))
    with pytest.raises(SqlStale, match=f"stale plan: user '{NAME}' now exists"):
        runner(user)
    assert SqlStale.code == "SqlStalePlan"


def test_runner_waits_for_replication_then_fails_clearly(session: Session) -> None:
    catalog = FakeCatalog(directory={NAME: "6a3e1f0c-9b2d-4e8f-a1c3-5d7b9e0f2a46"},
                          lagging={NAME: 1})
    user, _, _ = sql_changes(make_plan(session, seed(), catalog))
    slept: list[float] = []
    assert SqlChangeRunner(connect=connector(catalog), sleep=slept.append)(user) == 1
    assert slept == [5.0]

    other = FakeCatalog()  # Entra never learns the name
    user, _, _ = sql_changes(make_plan(session, seed(), other))
    slept.clear()
    runner = SqlChangeRunner(connect=connector(other), wait_seconds=12, sleep=slept.append)
    with pytest.raises(SqlFailed, match="33130"):
        runner(user)
    assert slept == [5.0, 10.0]


def test_without_a_database_connection_sql_changes_fail_and_arm_goes_on(session: Session) -> None:
    plan = make_plan(session, seed(), FakeCatalog())
    result = apply_plan(session, plan, options=ApplyOptions(sql=SqlChangeRunner(None)))
    by_status = {a.address: a.status for a in result.actions}
    assert by_status[f"identity.{RG}/{NAME}"] is Status.DONE
    user, reader, _ = sql_changes(plan)
    assert by_status[user.address] is Status.FAILED
    assert by_status[reader.address] is Status.SKIPPED
    (failure,) = [a.failure for a in result.failed]
    assert failure is not None
    assert "no SQL endpoint on the local emulator" in failure.message


def test_a_stale_user_stays_refused_for_the_rest_of_the_apply(session: Session) -> None:
    catalog = FakeCatalog()
    catalog.add(NAME, app_id="6a3e1f0c-9b2d-4e8f-a1c3-5d7b9e0f2a46", owned=True)
    session.msi(SUB).user_assigned_identities.create_or_update(
        RG, NAME, {"location": "uksouth", "tags": {"managed-by": "identity-reconciler"}}
    )
    catalog.directory[NAME] = directory(session)(NAME) or ""
    principal = catalog.principal(NAME)
    assert principal is not None
    principal.sid = None  # keep the SID check quiet: only membership changes are planned
    reader, writer = sql_changes(make_plan(session, seed(), catalog))
    catalog.add("db_extra", "R")
    catalog.members.add((catalog.principal("db_extra").id, principal.id))  # type: ignore[union-attr]
    runner = SqlChangeRunner(connect=connector(catalog))
    with pytest.raises(SqlStale):
        runner(reader)
    with pytest.raises(SqlStale):
        runner(writer)  # not checked again, and not run either
    assert catalog.roles_of(NAME) == {"db_extra"}
