"""plan -> apply -> plan for the seed scenario's SQL users, ARM side on the emulator.

ARM (server, Entra admin, database, the identity) is the embedded emulator, reached through the
real SDK. The database is a FakeCatalog behind a RecordingConnection — there is no SQL Server
here — so these tests prove the T-SQL's effect as the fake understands it, and that plan and
apply agree with each other; they cannot prove what a real server would answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from azure.mgmt.msi.v2024_11_30.models import Identity
from sql_fakes import FakeCatalog, RecordingConnection

from identity_reconciler.apply.sql_apply import apply_sql
from identity_reconciler.azure.clients import Session, connect_emulator
from identity_reconciler.azure.reader import read_live
from identity_reconciler.core import ownership
from identity_reconciler.core.state import DesiredState
from identity_reconciler.plan import Plan, compute_plan, render_markdown, render_text
from identity_reconciler.plan.sql_changes import sql_changes
from identity_reconciler.reconcile.sql_plan import plan_with_sql
from identity_reconciler.spec import validate
from local_azure.api import RunningEmulator

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "specs" / "myapp-prod.yaml"
SUB = "11111111-1111-1111-1111-111111111111"
RG = "rg-myapp-prod-uks-01"
NAME = "id-myapp-prod-uks-01"
DB_ID = (f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Sql/servers/"
         "sql-myapp-prod-uks-01/databases/appdb")
USER = "sql_user.sql-myapp-prod-uks-01/appdb/id-myapp-prod-uks-01"
READER = "sql_role_member.sql-myapp-prod-uks-01/appdb/id-myapp-prod-uks-01/db_datareader"
WRITER = "sql_role_member.sql-myapp-prod-uks-01/appdb/id-myapp-prod-uks-01/db_datawriter"


@pytest.fixture
def session(fresh_emulator: Callable[..., RunningEmulator]) -> Iterator[Session]:
    emu = fresh_emulator()
    with connect_emulator(emu.info) as s:
        yield s


def seed() -> DesiredState:
    result = validate([SEED])
    assert result.desired is not None
    return result.desired


def make_plan(session: Session, desired: DesiredState, catalog: FakeCatalog,
              connections: list[RecordingConnection] | None = None) -> Plan:
    live = read_live(session, desired)
    arm = compute_plan(desired, live)

    def connect(endpoint: str, database: str) -> RecordingConnection:
        assert (endpoint, database) == ("sql-myapp-prod-uks-01.database.windows.net", "appdb")
        conn = RecordingConnection(catalog)
        if connections is not None:
            connections.append(conn)
        return conn

    return plan_with_sql(session, desired, live, arm, connect=connect)


def fake(catalog: FakeCatalog) -> Callable[[str, str], RecordingConnection]:
    return lambda endpoint, database: RecordingConnection(catalog)


def create_identity(session: Session) -> str:
    """The ARM half of an apply, done directly: the seed identity, owned."""
    identity = session.msi(SUB).user_assigned_identities.create_or_update(
        RG, NAME, Identity(location="uksouth", tags={ownership.OWNER_TAG: "identity-reconciler"})
    )
    return str(identity.client_id)


def test_new_identity_gets_its_user_after_it_exists(session: Session) -> None:
    plan = make_plan(session, seed(), FakeCatalog())
    assert plan.errors == ()
    sql = sql_changes(plan)
    assert [(c.address, c.actions) for c in sql] == [
        (USER, ("create",)), (READER, ("create",)), (WRITER, ("create",)),
    ]
    identity = f"identity.{RG}/{NAME}"
    assert plan.change(identity).actions == ("create",)
    assert sql[0].depends_on == (identity,)  # the user waits for its identity
    assert sql[1].depends_on == (USER,)
    assert sql[2].depends_on == (USER,)
    assert {c.group for c in sql} == {identity}  # shown with the identity in reviews
    assert sql[0].after["app_id"] == "(known after apply)"  # type: ignore[index]
    assert all(c.id == DB_ID for c in sql)
    op = sql[1].operations[0]
    assert (op.method, op.id, op.body["server"], op.body["database"]) == (  # type: ignore[index]
        "TSQL", DB_ID, "sql-myapp-prod-uks-01.database.windows.net", "appdb",
    )
    assert plan.summary.add == 4 + 3  # identity, credential, attachment, grant; user, 2 roles
    assert Plan.from_json(plan.to_json()) == plan


def test_plan_apply_plan_converges(session: Session) -> None:
    client_id = create_identity(session)
    catalog = FakeCatalog(directory={NAME: client_id})
    desired = seed()
    connections: list[RecordingConnection] = []
    first = make_plan(session, desired, catalog, connections)
    assert [c.address for c in sql_changes(first)] == [USER, READER, WRITER]
    assert sql_changes(first)[0].depends_on == ()  # the identity exists already
    assert sql_changes(first)[0].after["app_id"] == client_id  # type: ignore[index]
    assert connections[0].commits == 0  # planning only reads

    saved = Plan.from_json(first.to_json())  # apply works from the reviewed plan file
    outcomes = apply_sql(None, sql_changes(saved), connect=fake(catalog))
    assert [(o.address, o.status) for o in outcomes] == [
        (USER, "done"), (READER, "done"), (WRITER, "done"),
    ]
    user = catalog.principal(NAME)
    assert user is not None
    assert user.properties == {"managed-by": "identity-reconciler"}
    assert catalog.roles_of(NAME) == {"db_datareader", "db_datawriter"}

    again = make_plan(session, desired, catalog)
    assert sql_changes(again) == []
    assert again.errors == ()
    assert [n.code for n in again.notices if n.code.startswith("sql")] == []
    assert again.safety.existing >= 3  # the user and its memberships now count as managed


def test_apply_refuses_a_stale_plan_and_changes_nothing(session: Session) -> None:
    client_id = create_identity(session)
    catalog = FakeCatalog(directory={NAME: client_id})
    plan = make_plan(session, seed(), catalog)
    catalog.add(NAME, app_id=client_id)  # someone else made the user meanwhile
    conn = RecordingConnection(catalog)
    outcomes = apply_sql(None, sql_changes(plan), connect=lambda e, d: conn)
    assert {o.status for o in outcomes} == {"failed"}
    assert "stale plan" in (outcomes[0].message or "")
    assert conn.commits == 0
    assert not any(s.startswith("IF") for s in conn.executed)  # only the catalog was read
    assert catalog.principal(NAME).properties == {}  # type: ignore[union-attr]  # never marked


def test_apply_waits_for_entra_replication_then_succeeds(session: Session) -> None:
    client_id = create_identity(session)
    catalog = FakeCatalog(directory={NAME: client_id}, lagging={NAME: 2})
    plan = make_plan(session, seed(), catalog)
    slept: list[float] = []
    outcomes = apply_sql(None, sql_changes(plan), connect=fake(catalog),
                         sleep=slept.append)
    assert {o.status for o in outcomes} == {"done"}
    assert slept == [5.0, 10.0]
    assert catalog.roles_of(NAME) == {"db_datareader", "db_datawriter"}


def test_failed_statement_rolls_back_the_whole_database(session: Session) -> None:
    catalog = FakeCatalog()  # Entra does not know the name: CREATE USER fails for good
    plan = make_plan(session, seed(), catalog)
    outcomes = apply_sql(None, sql_changes(plan), connect=fake(catalog),
                         wait_seconds=0, sleep=lambda s: None)
    assert [(o.address, o.status) for o in outcomes] == [
        (USER, "failed"), (READER, "skipped"), (WRITER, "skipped"),
    ]
    assert "33130" in (outcomes[0].message or "")
    assert outcomes[1].message == f"rolled back: {USER} failed"
    assert catalog.principal(NAME) is None


def test_sql_changes_behind_a_failed_arm_change_are_skipped(session: Session) -> None:
    plan = make_plan(session, seed(), FakeCatalog())
    calls: list[str] = []

    def connect(endpoint: str, database: str) -> RecordingConnection:
        calls.append(database)
        return RecordingConnection(FakeCatalog())

    outcomes = apply_sql(None, sql_changes(plan), connect=connect,
                         failed=[f"identity.{RG}/{NAME}"])
    assert [(o.address, o.status) for o in outcomes] == [
        (USER, "skipped"), (READER, "skipped"), (WRITER, "skipped"),
    ]
    assert outcomes[1].message == f"{USER} did not apply"
    assert calls == []


def test_views_show_the_exact_t_sql(session: Session) -> None:
    plan = make_plan(session, seed(), FakeCatalog())
    statements = [op.body["tsql"] for c in sql_changes(plan) for op in c.operations]  # type: ignore[index]
    text = render_text(plan)
    markdown = render_markdown(plan)
    for statement in statements:
        assert f"        {statement}\n" in text
        assert f"        {statement}\n" in markdown
    assert f"  + {READER}\n" in text
    assert "| sql_role_member | 2 | 0 | 0 |" in markdown
