"""What one database holds (as its catalog says) and what the planner decides to change in it.

Names in SQL Server compare under the database collation; Azure SQL's default is
case-insensitive, so every lookup here goes through `fold()`, while the spelling the catalog
returned is kept for display and for the T-SQL.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from identity_reconciler.core.state import PrincipalRef, SourceRef, fingerprint

# sys.database_principals.type values that are Microsoft Entra principals.
EXTERNAL_USER = "E"  # users, service principals, managed identities
EXTERNAL_GROUP = "X"
ENTRA_TYPES = frozenset({EXTERNAL_USER, EXTERNAL_GROUP})
ROLE = "R"
TYPE_NAMES = {
    "E": "Microsoft Entra user or application",
    "X": "Microsoft Entra group",
    "S": "SQL user",
    "U": "Windows user",
    "G": "Windows group",
    "R": "database role",
    "A": "application role",
    "C": "certificate-mapped user",
    "K": "asymmetric-key-mapped user",
}

SqlKind = Literal["sql_user", "sql_role_member"]
SQL_USER: SqlKind = "sql_user"
SQL_ROLE_MEMBER: SqlKind = "sql_role_member"


def fold(name: str) -> str:
    return name.lower()


def app_id_of(sid: str | None) -> str | None:
    """The Entra application (client) id a 16-byte SID carries, as SQL stores it.

    A service principal's or managed identity's database user has SID =
    CAST(CAST(client_id AS uniqueidentifier) AS varbinary(16)): the GUID's mixed-endian bytes.
    """
    if not sid:
        return None
    text = sid[2:] if sid[:2].lower() == "0x" else sid
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        return None
    return str(uuid.UUID(bytes_le=raw)) if len(raw) == 16 else None


@dataclass(frozen=True)
class LiveUser:
    """A database principal that is not a role, with its direct role memberships."""

    name: str
    type: str
    sid: str | None  # "0x…" as CONVERT(varchar, sid, 1) prints it
    owned: bool  # carries the extended property managed-by = identity-reconciler
    roles: frozenset[str] = frozenset()  # role names as the catalog spells them
    schemas: frozenset[str] = frozenset()  # schemas it owns (it cannot be dropped while it does)

    @property
    def app_id(self) -> str | None:
        return app_id_of(self.sid)

    @property
    def fingerprint(self) -> str:
        return fingerprint(
            {
                "name": fold(self.name),
                "type": self.type,
                "sid": (self.sid or "").lower(),
                "owned": self.owned,
                "roles": sorted(fold(r) for r in self.roles),
                **({"schemas": sorted(fold(s) for s in self.schemas)} if self.schemas else {}),
            }
        )

    def has_role(self, role: str) -> bool:
        return fold(role) in {fold(r) for r in self.roles}


@dataclass(frozen=True)
class LiveSqlDatabase:
    server_id: str
    database: str
    users: Mapping[str, LiveUser] = field(default_factory=dict)  # fold(name) -> user
    roles: Mapping[str, str] = field(default_factory=dict)  # fold(name) -> catalog spelling

    def user(self, name: str) -> LiveUser | None:
        return self.users.get(fold(name))

    def role(self, name: str) -> str | None:
        return self.roles.get(fold(name))


@dataclass(frozen=True)
class SqlChange:
    """One planned change in one database, with the exact T-SQL that makes it.

    `principal` ties the change to the identity it is about, so the plan can order it after that
    identity's own changes; it is None for a user the specs no longer name. `live_fingerprint`
    is the user's as read, for apply's stale check.
    """

    kind: SqlKind
    actions: tuple[str, ...]
    reason: str
    server_id: str
    database: str
    user: str
    role: str | None
    principal: PrincipalRef | None
    statements: tuple[str, ...]
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    live_fingerprint: str | None
    source: SourceRef | None = None


@dataclass(frozen=True)
class SqlIssue:
    """A located message about one database: an error blocks apply, a notice informs."""

    code: str
    message: str
    error: bool
    source: SourceRef | None = None


@dataclass(frozen=True)
class DatabasePlan:
    server_id: str
    database: str
    changes: tuple[SqlChange, ...] = ()
    issues: tuple[SqlIssue, ...] = ()
    existing: int = 0  # owned users and their memberships: the safety thresholds' base
    endpoint: str | None = None  # the server's host name, for apply to connect to
