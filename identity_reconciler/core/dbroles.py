"""Fixed database roles whose members control who else gets into the database.

Like Owner or User Access Administrator in ARM, a member of one of these can grant itself or
anyone else any access in the database, so giving one to an identity is gated the same way: a
justified `policy.allow_privileged` entry for that role on that database, and
`--allow-privileged` at apply. The fixed roles' permissions are fixed by SQL Server, so they are
judged here by what they can do, written next to each:

- db_owner: every permission in the database (CONTROL DATABASE);
- db_securityadmin: manages role membership and permissions, so it can make itself db_owner;
- db_accessadmin: adds and removes database users (ALTER ANY USER), i.e. who gets in at all.

Custom roles are not judged: their permissions are not read (docs/sql.md says so).
"""

from __future__ import annotations

PRIVILEGED_DATABASE_ROLES: dict[str, str] = {
    "db_owner": "every permission in the database",
    "db_securityadmin": "manages role membership and permissions (can make itself db_owner)",
    "db_accessadmin": "adds and removes database users",
}


def is_privileged_database_role(role: str) -> bool:
    return role.strip().lower() in PRIVILEGED_DATABASE_ROLES
