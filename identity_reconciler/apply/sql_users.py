"""Azure SQL users end to end: the plan and apply steps beyond ARM for the specs' `sql:` entries.

Plan (`plan_with_sql`), per database the specs list: ARM says whether the server exists, has a
Microsoft Entra administrator and holds the database (`azure/sql_admin.py`); a connection made
with the run's own Entra token (`azure/sql_connect.py`) reads the catalog (`sql/catalog.py`);
`sql/planner.py` decides the T-SQL and `plan/sql_changes.py` puts it in the plan. Whatever cannot
be checked is said in the plan — a missing server or admin is an error at the spec line, and on
the local emulator, which has no SQL endpoint, every database is reported "not checked" — so a
plan is never green about databases nobody looked at.

Apply (`apply_sql`), per database: connect, re-read the catalog and refuse if any user the plan
touches changed since (stale plan), then run every statement in one transaction. Creating the
user of an identity made moments ago can fail until Entra has replicated it (error 33130); that
transaction is retried with backoff for a bounded time.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Literal

from identity_reconciler.azure import sql_connect
from identity_reconciler.azure.clients import Session
from identity_reconciler.azure.errors import scrub
from identity_reconciler.azure.sql_admin import SqlServer, read_server
from identity_reconciler.core import armid
from identity_reconciler.core.state import DesiredSqlDatabase, DesiredState, LiveState
from identity_reconciler.plan import Change, Plan
from identity_reconciler.plan.sql_changes import add_sql, principal_expectations
from identity_reconciler.sql import (
    Connection,
    DatabasePlan,
    LiveSqlDatabase,
    SqlExecutionError,
    SqlIssue,
    database_label,
    execute,
    plan_database,
    read_database,
)

# (endpoint host name, database) -> an open connection, autocommit off.
Connector = Callable[[str, str], Connection]

NO_LOCAL_ENDPOINT = "no SQL endpoint on the local emulator"
# "Principal '…' could not be found or this principal type is not supported."
_NOT_REPLICATED = ("33130", "could not be found or this principal type is not supported")


def default_connector(session: Session) -> Connector | None:
    """Connections as the session's credential; None on the local emulator (no SQL there)."""
    if session.cloud == "local":
        return None

    def connect(endpoint: str, database: str) -> Connection:
        conn: Connection = sql_connect.connect(
            endpoint, database, session.credential, cloud=session.cloud
        )
        return conn

    return connect


# --------------------------------------------------------------------------- plan


def _issue(db: DesiredSqlDatabase, code: str, message: str, *, error: bool) -> DatabasePlan:
    issue = SqlIssue(code, message, error, db.source)
    return DatabasePlan(db.server_id, db.database, issues=(issue,))


def _server_problem(db: DesiredSqlDatabase, server: SqlServer) -> DatabasePlan | None:
    label = database_label(db.server_id, db.database)
    scope = armid.parse_scope(db.server_id)
    where = f"resource group {scope.resource_group} of subscription {scope.subscription_id}"
    if not server.exists:
        return _issue(
            db,
            "sql_server_not_found",
            f"SQL server {scope.name!r} does not exist in {where}; create it (with a Microsoft "
            "Entra administrator) before listing its users, or correct the server name",
            error=True,
        )
    if server.admin_login is None:
        return _issue(
            db,
            "sql_admin_missing",
            f"SQL server {scope.name!r} has no Microsoft Entra administrator, so it cannot "
            "create users FROM EXTERNAL PROVIDER; set one (e.g. az sql server ad-admin create "
            f"--server {scope.name} --resource-group {scope.resource_group} ...)",
            error=True,
        )
    if not server.has_database(db.database):
        return _issue(
            db,
            "sql_database_not_found",
            f"database {label} does not exist; create it or correct the database name",
            error=True,
        )
    return None


def _read(connect: Connector, server: SqlServer, db: DesiredSqlDatabase) -> LiveSqlDatabase:
    conn = connect(server.endpoint or "", db.database)
    try:
        return read_database(conn, db.server_id, db.database)
    finally:
        with contextlib.suppress(Exception):
            conn.close()


def plan_with_sql(
    session: Session,
    desired: DesiredState,
    live: LiveState,
    plan: Plan,
    *,
    adopt: bool = False,
    connect: Connector | None = None,
) -> Plan:
    """`plan` with the SQL users of `desired` checked and planned (or reported unchecked).

    `connect` overrides how databases are reached (tests pass an in-memory fake); by default
    the session's credential is used, and on the local emulator nothing is connected to.
    """
    if not desired.sql:
        return plan
    connector = connect or default_connector(session)
    app_ids, recreated = principal_expectations(plan, live)
    servers: dict[str, SqlServer] = {}
    out: list[DatabasePlan] = []
    for db in desired.sql:
        key = armid.key(db.server_id)
        if key not in servers:
            servers[key] = read_server(session, db.server_id)
        server = servers[key]
        label = database_label(db.server_id, db.database)
        problem = _server_problem(db, server)
        if problem is not None:
            out.append(problem)
            continue
        if connector is None:
            out.append(
                _issue(
                    db,
                    "sql_not_checked",
                    f"SQL users of {label} not checked: {NO_LOCAL_ENDPOINT}",
                    error=False,
                )
            )
            continue
        try:
            live_db = _read(connector, server, db)
        except Exception as exc:  # driver missing, login refused, catalog unreadable, ...
            out.append(
                _issue(db, "sql_unreadable", f"cannot read {label}: {scrub(str(exc))}", error=True)
            )
            continue
        db_plan = plan_database(db, live_db, app_ids=app_ids, recreated=recreated, adopt=adopt)
        out.append(dataclasses.replace(db_plan, endpoint=server.endpoint))
    return add_sql(plan, out, policy=desired.safety)


# --------------------------------------------------------------------------- apply


@dataclass(frozen=True)
class SqlOutcome:
    address: str
    status: Literal["done", "failed", "skipped"]
    message: str | None = None


def _user_of(change: Change) -> str:
    view = change.after or change.before or {}
    return str(view.get("user", ""))


def _target(change: Change) -> tuple[str, str]:
    body = (change.operations[0].body or {}) if change.operations else {}
    return str(body.get("server", "")), str(body.get("database", ""))


def _stale(changes: Sequence[Change], live: LiveSqlDatabase) -> str | None:
    for change in changes:
        user = live.user(_user_of(change))
        now = user.fingerprint if user is not None else None
        if now != change.live_fingerprint:
            state = "now exists" if change.live_fingerprint is None else "changed or is gone"
            return (
                f"stale plan: user {_user_of(change)!r} {state} since the plan was made "
                f"({change.address}); run plan again"
            )
    return None


def _not_replicated(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(marker in text for marker in _NOT_REPLICATED)


@dataclass
class _Database:
    changes: list[Change]
    connect: Connector
    wait_seconds: float
    sleep: Callable[[float], None]

    def run(self) -> list[SqlOutcome]:
        endpoint, database = _target(self.changes[0])
        waited, delay = 0.0, 5.0
        while True:
            try:
                return self._once(endpoint, database)
            except SqlExecutionError as exc:
                if not _not_replicated(exc.cause) or waited >= self.wait_seconds:
                    return self._failed(exc)
            except Exception as exc:  # no connection, unreadable catalog
                return [SqlOutcome(c.address, "failed", scrub(str(exc))) for c in self.changes]
            self.sleep(delay)
            waited += delay
            delay = min(delay * 2, 60.0)

    def _once(self, endpoint: str, database: str) -> list[SqlOutcome]:
        conn = self.connect(endpoint, database)
        try:
            first = self.changes[0]
            server_id = (first.id or "").rsplit("/databases/", 1)[0]
            problem = _stale(self.changes, read_database(conn, server_id, database))
            if problem is not None:
                return [SqlOutcome(c.address, "failed", problem) for c in self.changes]
            execute(
                conn,
                [
                    str((op.body or {}).get("tsql"))
                    for c in self.changes
                    for op in c.operations
                    if op.method == "TSQL"
                ],
            )
        finally:
            with contextlib.suppress(Exception):
                conn.close()
        return [SqlOutcome(c.address, "done") for c in self.changes]

    def _failed(self, exc: SqlExecutionError) -> list[SqlOutcome]:
        culprit, seen = None, 0
        for change in self.changes:
            seen += sum(op.method == "TSQL" for op in change.operations)
            if exc.index < seen:
                culprit = change.address
                break
        message = scrub(str(exc))
        return [
            SqlOutcome(c.address, "failed", message)
            if c.address == culprit or culprit is None
            else SqlOutcome(c.address, "skipped", f"rolled back: {culprit} failed")
            for c in self.changes
        ]


def apply_sql(
    session: Session | None,
    changes: Sequence[Change],
    *,
    connect: Connector | None = None,
    failed: Collection[str] = (),
    wait_seconds: float = 300.0,
    sleep: Callable[[float], None] = time.sleep,
) -> list[SqlOutcome]:
    """Run the plan's SQL changes (in plan order), one transaction per database.

    `failed` holds addresses of changes that failed or were skipped earlier in the apply: SQL
    changes depending on them (directly or through another SQL change) are skipped.
    """
    connector = connect or (default_connector(session) if session is not None else None)
    blocked = {a.lower() for a in failed}
    outcomes: list[SqlOutcome] = []
    by_database: dict[str, list[Change]] = {}
    for change in changes:
        waits = [d for d in change.depends_on if d.lower() in blocked]
        if waits:
            blocked.add(change.address.lower())
            outcomes.append(SqlOutcome(change.address, "skipped", f"{waits[0]} did not apply"))
            continue
        by_database.setdefault((change.id or "").lower(), []).append(change)
    for group in by_database.values():
        if connector is None:
            outcomes += [SqlOutcome(c.address, "failed", NO_LOCAL_ENDPOINT) for c in group]
            continue
        outcomes += _Database(group, connector, wait_seconds, sleep).run()
    return outcomes
