"""Read one database's principals, ownership marks, role memberships and schema owners.

Three catalog queries. The first lists every database principal with its SID (as `0x…` text, so
no driver's binary type is involved) and our ownership mark; the second lists direct role
memberships by name; the third the schemas Entra users and groups own, because such a user
cannot be dropped (Msg 15138) until its schemas have another owner. Together they are the whole
live state the planner needs, whatever the database's size.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from identity_reconciler.sql.dbapi import Connection
from identity_reconciler.sql.model import ROLE, LiveSqlDatabase, LiveUser, fold
from identity_reconciler.sql.tsql import MARK_VALUE

PRINCIPALS_QUERY = (
    "SELECT p.name, p.type, CONVERT(varchar(172), p.sid, 1) AS sid, "
    "CAST(ep.value AS nvarchar(256)) AS managed_by "
    "FROM sys.database_principals AS p "
    "LEFT JOIN sys.extended_properties AS ep "
    "ON ep.class = 4 AND ep.major_id = p.principal_id AND ep.minor_id = 0 "
    "AND ep.name = N'managed-by' "
    "WHERE p.principal_id > 0;"
)
ROLE_MEMBERS_QUERY = (
    "SELECT r.name AS role_name, m.name AS member_name "
    "FROM sys.database_role_members AS rm "
    "JOIN sys.database_principals AS r ON r.principal_id = rm.role_principal_id "
    "JOIN sys.database_principals AS m ON m.principal_id = rm.member_principal_id;"
)
SCHEMAS_QUERY = (
    "SELECT s.name AS schema_name, p.name AS owner_name "
    "FROM sys.schemas AS s "
    "JOIN sys.database_principals AS p ON p.principal_id = s.principal_id "
    "WHERE p.type IN ('E', 'X');"
)


def _rows(conn: Connection, query: str) -> Sequence[Sequence[Any]]:
    cursor = conn.cursor()
    try:
        cursor.execute(query)
        return cursor.fetchall()
    finally:
        cursor.close()


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.strip() if isinstance(value, str) else str(value).strip()


def read_database(conn: Connection, server_id: str, database: str) -> LiveSqlDatabase:
    """The database's users (with memberships and ownership) and its roles."""
    principals = _rows(conn, PRINCIPALS_QUERY)
    members = _rows(conn, ROLE_MEMBERS_QUERY)
    schemas = _rows(conn, SCHEMAS_QUERY)
    conn.rollback()  # end the read-only transaction autocommit-off drivers opened
    roles: dict[str, str] = {}
    found: dict[str, tuple[str, str, str | None, bool]] = {}
    for row in principals:
        name, type_ = str(row[0]), (_text(row[1]) or "").upper()
        if type_ == ROLE:
            roles[fold(name)] = name
            continue
        marked = (_text(row[3]) or "").lower() == MARK_VALUE
        found[fold(name)] = (name, type_, _text(row[2]), marked)
    membership: dict[str, set[str]] = {}
    for row in members:
        role, member = str(row[0]), str(row[1])
        membership.setdefault(fold(member), set()).add(role)
    owned: dict[str, set[str]] = {}
    for row in schemas:
        owned.setdefault(fold(str(row[1])), set()).add(str(row[0]))
    users = {
        key: LiveUser(name, type_, sid, marked, frozenset(membership.get(key, ())),
                      frozenset(owned.get(key, ())))
        for key, (name, type_, sid, marked) in found.items()
    }
    return LiveSqlDatabase(server_id, database, users, roles)
