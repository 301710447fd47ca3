"""One database's catalog: principals, role memberships, extended properties, schemas.

This is the state behind `sys.database_principals`, `sys.database_role_members`,
`sys.extended_properties` (class 4, database principals) and `sys.schemas` of one
`Microsoft.Sql/servers/databases`. A new database holds what SQL Server puts in every database:
`dbo`, `guest`, `INFORMATION_SCHEMA` and `sys`, the fixed database roles, and a schema for each
of them. Names compare case-insensitively, as under Azure SQL's default collation.

The catalog persists as one JSON document per database in the store's metadata table, so it
survives restarts with the rest of the emulator's state and never shows up in ARM lists.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

FIXED_ROLES = (
    "db_owner", "db_accessadmin", "db_securityadmin", "db_ddladmin", "db_backupoperator",
    "db_datareader", "db_datawriter", "db_denydatareader", "db_denydatawriter",
)
_BUILT_IN_USERS = ((1, "dbo", "0x01"), (2, "guest", "0x00"), (3, "INFORMATION_SCHEMA", None),
                   (4, "sys", None))
FIRST_ROLE_ID = 16384
FIRST_USER_ID = 5
ROLE = "R"
_META_PREFIX = "sql-catalog:"


def sid_of(guid: str) -> str:
    """A SID as CONVERT(varchar, sid, 1) prints it: the GUID's mixed-endian bytes."""
    return "0x" + uuid.UUID(guid).bytes_le.hex().upper()


@dataclass
class DbPrincipal:
    id: int
    name: str
    type: str  # sys.database_principals.type: E, X, S, R, ...
    sid: str | None = None
    properties: dict[str, str] = field(default_factory=dict)  # extended properties (class 4)


@dataclass
class Catalog:
    principals: dict[int, DbPrincipal] = field(default_factory=dict)
    members: set[tuple[int, int]] = field(default_factory=set)  # (role id, member id)
    schemas: dict[str, int] = field(default_factory=dict)  # schema name -> owner principal id
    next_id: int = FIRST_USER_ID

    def __post_init__(self) -> None:
        if self.principals:
            return
        for pid, name, sid in _BUILT_IN_USERS:
            self.principals[pid] = DbPrincipal(pid, name, "S", sid)
            self.schemas[name] = pid
        for i, role in enumerate(FIXED_ROLES):
            self.principals[FIRST_ROLE_ID + i] = DbPrincipal(FIRST_ROLE_ID + i, role, ROLE)
            self.schemas[role] = FIRST_ROLE_ID + i

    # ------------------------------------------------------------- lookups

    def principal(self, name: str) -> DbPrincipal | None:
        folded = name.lower()
        return next((p for p in self.principals.values() if p.name.lower() == folded), None)

    def schema(self, name: str) -> str | None:
        folded = name.lower()
        return next((s for s in self.schemas if s.lower() == folded), None)

    def roles_of(self, name: str) -> set[str]:
        p = self.principal(name)
        if p is None:
            return set()
        return {self.principals[r].name for r, m in self.members if m == p.id}

    def owned_schemas(self, principal_id: int) -> list[str]:
        return sorted(s for s, owner in self.schemas.items() if owner == principal_id)

    # ------------------------------------------------------------- changes

    def add(self, name: str, type_: str = "E", *, sid: str | None = None,
            app_id: str | None = None, owned: bool = False,
            roles: Sequence[str] = ()) -> DbPrincipal:
        """A principal (a user by default; `app_id` gives it that application's SID)."""
        if self.principal(name) is not None:
            raise ValueError(f"{name!r} already exists")
        if type_ == ROLE:
            pid = max(FIRST_ROLE_ID + len(FIXED_ROLES), max(self.principals) + 1)
        else:
            pid, self.next_id = self.next_id, self.next_id + 1
        p = DbPrincipal(pid, name, type_, sid_of(app_id) if app_id else sid)
        if owned:
            p.properties["managed-by"] = "identity-reconciler"
        self.principals[p.id] = p
        for role in roles:
            target = self.principal(role)
            if target is None or target.type != ROLE:
                raise ValueError(f"{role!r} is not a role of this database")
            self.members.add((target.id, p.id))
        return p

    def add_schema(self, name: str, owner: str) -> None:
        p = self.principal(owner)
        if p is None or self.schema(name) is not None:
            raise ValueError(f"cannot create schema {name!r} owned by {owner!r}")
        self.schemas[name] = p.id

    def drop(self, principal_id: int) -> None:
        del self.principals[principal_id]
        self.members = {(r, m) for r, m in self.members if principal_id not in (r, m)}

    # ------------------------------------------------------------- persistence

    def to_json(self) -> str:
        return json.dumps({
            "principals": [
                [p.id, p.name, p.type, p.sid, p.properties] for p in self.principals.values()
            ],
            "members": sorted(self.members),
            "schemas": self.schemas,
            "next_id": self.next_id,
        })

    @classmethod
    def from_json(cls, text: str) -> Catalog:
        data: dict[str, Any] = json.loads(text)
        principals = {
            int(p[0]): DbPrincipal(int(p[0]), str(p[1]), str(p[2]), p[3], dict(p[4]))
            for p in data["principals"]
        }
        return cls(
            principals=principals,
            members={(int(r), int(m)) for r, m in data["members"]},
            schemas={str(k): int(v) for k, v in data["schemas"].items()},
            next_id=int(data["next_id"]),
        )


def meta_key(database_id: str) -> str:
    return _META_PREFIX + database_id.rstrip("/").lower()
