"""The forced case for SQL: making an identity a member of a privileged database role.

Read from the change (its role) for the plan's verdict, and again from the T-SQL apply will run
(`ALTER ROLE [role] ADD MEMBER`), as `safety.py` does for ARM grants: a plan file edited to add
such a statement under another change's name is still caught at apply.
"""

from __future__ import annotations

import re

from identity_reconciler.core.dbroles import PRIVILEGED_DATABASE_ROLES, is_privileged_database_role
from identity_reconciler.plan.model import Change, ChangeKind, Violation

REASON = "privileged_database_role"
_ADD_MEMBER = re.compile(r"\bALTER\s+ROLE\s+\[((?:[^\]]|\]\])*)\]\s+ADD\s+MEMBER\b", re.IGNORECASE)


def _violation(change: Change, role: str, flag: str) -> Violation:
    what = PRIVILEGED_DATABASE_ROLES.get(role.lower(), "a privileged database role")
    view = change.after or {}
    return Violation(
        reason=REASON,
        message=(
            f"{change.address} makes {view.get('user', 'a user')} a member of {role} in "
            f"{view.get('database', change.id)} ({what})"
        ),
        flag=flag,
        address=change.address,
    )


def forced(change: Change, flag: str) -> list[Violation]:
    """The plan's view: a new membership of a privileged role."""
    if change.kind is not ChangeKind.SQL_ROLE_MEMBER or "create" not in change.actions:
        return []
    role = str((change.after or {}).get("role", ""))
    return [_violation(change, role, flag)] if is_privileged_database_role(role) else []


def forced_operations(change: Change, flag: str) -> list[Violation]:
    """The same, read from the T-SQL the change's operations run."""
    out: list[Violation] = []
    for op in change.operations:
        if op.method != "TSQL":
            continue
        for match in _ADD_MEMBER.finditer(str((op.body or {}).get("tsql", ""))):
            role = match.group(1).replace("]]", "]")
            if is_privileged_database_role(role):
                out.append(_violation(change, role, flag))
    return out
