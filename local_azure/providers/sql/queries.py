"""The catalog queries this endpoint answers, token for token, and their result rows.

It does not plan SELECTs: it recognises exactly these texts (whitespace and keyword case aside)
and refuses any other query, so a change to the reconciler's catalog reads that is not made here
too fails loudly rather than reading nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from local_azure.providers.sql.catalog import ROLE, Catalog
from local_azure.providers.sql.lexer import tokenize

PRINCIPALS = (
    "SELECT p.name, p.type, CONVERT(varchar(172), p.sid, 1) AS sid, "
    "CAST(ep.value AS nvarchar(256)) AS managed_by "
    "FROM sys.database_principals AS p "
    "LEFT JOIN sys.extended_properties AS ep "
    "ON ep.class = 4 AND ep.major_id = p.principal_id AND ep.minor_id = 0 "
    "AND ep.name = N'managed-by' "
    "WHERE p.principal_id > 0;"
)
ROLE_MEMBERS = (
    "SELECT r.name AS role_name, m.name AS member_name "
    "FROM sys.database_role_members AS rm "
    "JOIN sys.database_principals AS r ON r.principal_id = rm.role_principal_id "
    "JOIN sys.database_principals AS m ON m.principal_id = rm.member_principal_id;"
)
SCHEMA_OWNERS = (
    "SELECT s.name AS schema_name, p.name AS owner_name "
    "FROM sys.schemas AS s "
    "JOIN sys.database_principals AS p ON p.principal_id = s.principal_id "
    "WHERE p.type IN ('E', 'X');"
)

Rows = list[tuple[Any, ...]]


def _principals(db: Catalog) -> Rows:
    return [(p.name, p.type, p.sid, p.properties.get("managed-by"))
            for p in db.principals.values() if p.id > 0]


def _members(db: Catalog) -> Rows:
    return [(db.principals[r].name, db.principals[m].name) for r, m in sorted(db.members)]


def _schema_owners(db: Catalog) -> Rows:
    return [
        (schema, db.principals[owner].name)
        for schema, owner in sorted(db.schemas.items())
        if owner in db.principals and db.principals[owner].type in ("E", "X")
        and db.principals[owner].type != ROLE
    ]


def _key(sql: str) -> tuple[str, ...]:
    return tuple(t.text if t.kind in ("nstr", "str") else t.text.upper() for t in tokenize(sql))


KNOWN: dict[tuple[str, ...], Callable[[Catalog], Rows]] = {
    _key(PRINCIPALS): _principals,
    _key(ROLE_MEMBERS): _members,
    _key(SCHEMA_OWNERS): _schema_owners,
}


def answer(sql: str) -> Callable[[Catalog], Rows] | None:
    """The function computing a known query's rows, or None for any other query."""
    return KNOWN.get(_key(sql))
