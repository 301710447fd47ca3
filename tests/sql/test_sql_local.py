"""The local Azure's SQL endpoint through the reconciler's DB-API connection (`azure/local_sql`).

Real HTTPS, real Entra tokens from the emulator's managed-identity endpoint, the server's admin as
ARM reports it. It is not SQL Server: it runs the forms the reconciler emits and refuses others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from azure.core.credentials import AccessToken

from identity_reconciler.azure import local_sql
from identity_reconciler.azure.clients import Session, connect_emulator
from identity_reconciler.azure.sql_connect import connect_session
from identity_reconciler.sql import (
    PRINCIPALS_QUERY,
    ROLE_MEMBERS_QUERY,
    execute,
    read_database,
    tsql,
)
from local_azure.api import RunningEmulator

SUB = "11111111-1111-1111-1111-111111111111"
RG = "rg-myapp-prod-uks-01"
SERVER_ID = (f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Sql/servers/"
             "sql-myapp-prod-uks-01")
DB_ID = SERVER_ID + "/databases/appdb"
HOST = "sql-myapp-prod-uks-01.database.windows.net"


class Fixed:
    def __init__(self, token: str) -> None:
        self.token = token

    def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        return AccessToken(self.token, 2**31)


@pytest.fixture
def emu(fresh_emulator: Callable[..., RunningEmulator]) -> RunningEmulator:
    return fresh_emulator()


@pytest.fixture
def session(emu: RunningEmulator) -> Iterator[Session]:
    with connect_emulator(emu.info) as s:
        yield s


def identity(session: Session, name: str = "id-sql-01") -> tuple[str, str]:
    made = session.msi(SUB).user_assigned_identities.create_or_update(
        RG, name, {"location": "uksouth"}
    )
    return str(made.principal_id), str(made.client_id)


def test_the_operator_signs_in_as_a_member_of_the_admin_group_and_reads(
    session: Session, emu: RunningEmulator
) -> None:
    emu.reset_stats()
    before = session.requests
    conn = connect_session(session, HOST, "appdb")
    live = read_database(conn, SERVER_ID, "appdb")
    assert live.role("db_owner") == "db_owner"
    assert live.user("dbo") is not None
    assert session.requests - before == 3  # one request per catalog query, counted
    assert emu.stats()["total"] >= 2


def test_a_transaction_reads_its_own_writes_and_commits_all_or_nothing(
    session: Session, emu: RunningEmulator
) -> None:
    object_id, _ = identity(session)
    conn = connect_session(session, HOST, "appdb")
    cursor = conn.cursor()
    cursor.execute(tsql.create_user("id-sql-01", object_id))
    cursor.execute(PRINCIPALS_QUERY)
    assert "id-sql-01" in [row[0] for row in cursor.fetchall()]  # its own write
    conn.rollback()
    with emu.sql_database(DB_ID) as db:
        assert db.principal("id-sql-01") is None  # rolled back: nothing was written

    with pytest.raises(Exception, match="33134"):
        execute(conn, [tsql.create_user("id-sql-01", object_id),
                       tsql.add_member("db_datareader", "id-sql-01"),
                       tsql.create_user("id-other", "0f0e0d0c-0b0a-4909-8807-060504030201")])
    with emu.sql_database(DB_ID) as db:
        assert db.principal("id-sql-01") is None  # the batch failed at its third statement

    execute(conn, [tsql.create_user("id-sql-01", object_id),
                   tsql.add_member("db_datareader", "id-sql-01")])
    cursor.execute(ROLE_MEMBERS_QUERY)
    assert ("db_datareader", "id-sql-01") in [tuple(r) for r in cursor.fetchall()]
    with emu.sql_database(DB_ID) as db:
        user = db.principal("id-sql-01")
        assert user is not None
        assert db.roles_of("id-sql-01") == {"db_datareader"}


def test_duplicate_display_names_fail_by_name_but_not_by_object_id(session: Session) -> None:
    object_id, _ = identity(session)
    session.resources(SUB).resource_groups.create_or_update("rg-other", {"location": "uksouth"})
    session.msi(SUB).user_assigned_identities.create_or_update(
        "rg-other", "id-sql-01", {"location": "uksouth"}
    )
    conn = connect_session(session, HOST, "appdb")
    with pytest.raises(Exception, match=r"duplicate display name.*\(33131\)"):
        execute(conn, [tsql.create_user("id-sql-01")])
    execute(conn, [tsql.create_user("id-sql-01", object_id)])


def test_statements_outside_the_served_forms_are_refused_clearly(session: Session) -> None:
    conn = connect_session(session, HOST, "appdb")
    cursor = conn.cursor()
    for statement in ("DROP TABLE dbo.orders;", "SELECT * FROM sys.objects;",
                      "CREATE LOGIN [x] FROM EXTERNAL PROVIDER;"):
        with pytest.raises(local_sql.LocalSqlError, match="only the statement forms"):
            cursor.execute(statement)


def test_only_the_servers_entra_admin_signs_in(session: Session, emu: RunningEmulator) -> None:
    object_id, _ = identity(session)
    cases = {  # why -> token
        "an identity that is not the admin": emu.issue_token(object_id, "https://database.windows.net/"),
        "an ARM token": emu.issue_token(resource="https://management.azure.com/"),
        "a forged token": "eyJhbGciOiJub25lIn0.e30.",
    }
    for _why, token in cases.items():
        conn = local_sql.connect(emu.info.endpoint, HOST, "appdb", Fixed(token),
                                 ca_bundle=emu.info.ca_bundle)
        with pytest.raises(local_sql.LocalSqlError, match=r"Login failed.*\(18456\)"):
            conn.cursor().execute(PRINCIPALS_QUERY)
    token = emu.issue_token(resource="https://database.windows.net/")
    conn = local_sql.connect(emu.info.endpoint, HOST, "nodb", Fixed(token),
                             ca_bundle=emu.info.ca_bundle)
    with pytest.raises(local_sql.LocalSqlError, match=r"Cannot open database.*\(4060\)"):
        conn.cursor().execute(PRINCIPALS_QUERY)


def test_an_unreachable_endpoint_is_a_login_timeout(emu: RunningEmulator) -> None:
    conn = local_sql.connect("https://127.0.0.1:9", HOST, "appdb", Fixed("t"),
                             ca_bundle=emu.info.ca_bundle, timeout=1)
    with pytest.raises(local_sql.LocalSqlError, match="Login timeout expired"):
        conn.cursor().execute(PRINCIPALS_QUERY)
