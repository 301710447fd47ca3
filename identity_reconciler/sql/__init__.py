"""Azure SQL contained database users and database roles: T-SQL plan and apply.

Pure: it imports only `core` and the standard library, and reaches a database only through a
DB-API connection someone else opened (`dbapi.Connection`).

- `read_database(conn, server_id, database) -> LiveSqlDatabase` (three catalog queries)
- `plan_database(desired, live, *, app_ids, recreated, adopt) -> DatabasePlan`
- `execute(conn, statements)`: one transaction per database
- `quote_name`, `quote_literal`: how names enter T-SQL
- `explain`, `with_explanation`: SQL Server errors people hit, with their cause and fix
"""

from identity_reconciler.sql.catalog import (
    PRINCIPALS_QUERY,
    ROLE_MEMBERS_QUERY,
    SCHEMAS_QUERY,
    read_database,
)
from identity_reconciler.sql.dbapi import Connection, Cursor
from identity_reconciler.sql.errors import explain, with_explanation
from identity_reconciler.sql.executor import Executed, SqlExecutionError, execute
from identity_reconciler.sql.model import (
    SQL_ROLE_MEMBER,
    SQL_USER,
    DatabasePlan,
    LiveSqlDatabase,
    LiveUser,
    SqlChange,
    SqlIssue,
)
from identity_reconciler.sql.planner import database_label, plan_database
from identity_reconciler.sql.quote import UnsafeName, quote_literal, quote_name
from identity_reconciler.sql.tsql import bind_object_id, needs_object_id

__all__ = [
    "PRINCIPALS_QUERY",
    "ROLE_MEMBERS_QUERY",
    "SCHEMAS_QUERY",
    "SQL_ROLE_MEMBER",
    "SQL_USER",
    "Connection",
    "Cursor",
    "DatabasePlan",
    "Executed",
    "LiveSqlDatabase",
    "LiveUser",
    "SqlChange",
    "SqlExecutionError",
    "SqlIssue",
    "UnsafeName",
    "bind_object_id",
    "database_label",
    "execute",
    "explain",
    "needs_object_id",
    "plan_database",
    "quote_literal",
    "quote_name",
    "read_database",
    "with_explanation",
]
