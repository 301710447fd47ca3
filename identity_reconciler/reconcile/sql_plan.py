"""Azure SQL users in a plan: the steps beyond ARM for the specs' `sql:` entries.

`plan_with_sql`, per database the specs list: ARM says whether the server exists, has a
Microsoft Entra administrator and holds the database (`azure/sql_admin.py`); a connection made
with the run's own Entra token (`azure/sql_connect.py`) reads the catalog (`sql/catalog.py`);
`sql/planner.py` decides the T-SQL and `plan/sql_changes.py` puts it in the plan. Whatever cannot
be checked is said in the plan — a missing server or admin is an error at the spec line, an
unreadable database too, and without any connection a database is reported "not checked" — so
a plan is never green about databases nobody looked at. On `--cloud local` the connection is the
local Azure's SQL endpoint. Applying the result is
`apply/sql_apply.py`; both reach databases through `apply/sql_connector.py`.

It sits in the orchestration layer because it needs both `azure/` (ARM and SQL reads) and
`plan/` (the plan it extends), which the layers below may not import together.
"""

from __future__ import annotations

import contextlib
import dataclasses

from identity_reconciler.apply.sql_connector import NO_LOCAL_ENDPOINT, Connector, default_connector
from identity_reconciler.apply.sql_orphans import orphan_rule
from identity_reconciler.azure.clients import Session
from identity_reconciler.azure.errors import scrub
from identity_reconciler.azure.sql_admin import SqlServer, read_server
from identity_reconciler.core import armid
from identity_reconciler.core.live import LiveState
from identity_reconciler.core.state import DesiredSqlDatabase, DesiredState
from identity_reconciler.plan import Plan
from identity_reconciler.plan.names import Namer
from identity_reconciler.plan.sql_changes import (
    add_sql,
    principal_expectations,
    principal_object_ids,
)
from identity_reconciler.sql import (
    DatabasePlan,
    LiveSqlDatabase,
    SqlIssue,
    database_label,
    plan_database,
    read_database,
    with_explanation,
)


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
    the session's credential is used (on `--cloud local`, against the local SQL endpoint).
    """
    if not desired.sql:
        return plan
    before = session.requests
    connector = connect or default_connector(session)
    app_ids, recreated = principal_expectations(plan, live)
    object_ids = principal_object_ids(live)
    servers: dict[str, SqlServer] = {}
    orphaned = orphan_rule(session, live, plan.target.subscriptions)
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
                _issue(
                    db, "sql_unreadable",
                    f"cannot read {label}: {with_explanation(scrub(str(exc)))}", error=True,
                )
            )
            continue
        db_plan = plan_database(
            db, live_db, app_ids=app_ids, recreated=recreated, adopt=adopt,
            orphaned=orphaned, object_ids=object_ids,
        )
        out.append(dataclasses.replace(db_plan, endpoint=server.endpoint))
    # The server checks are ARM reads too: the plan's request count covers them.
    plan = plan.model_copy(update={"live_requests": plan.live_requests + session.requests - before})
    return add_sql(plan, out, policy=desired.safety, names=Namer.of(desired))
