"""A plan's T-SQL is bound to its SQL change, as `plan/binding.py` binds ARM operations.

The database runs whatever text an operation holds, and the checksum can be re-computed by
anyone who can write the plan file; so before anything runs, every statement of a SQL change
must be exactly one that `sql/tsql.py` renders for that change's user and role, for an action
the change says (a DROP only under a change whose actions say delete), sent to the database the
change names. A re-sealed plan with `DROP USER` under a role-member change, another role, a
schema handed over, or a second statement in a block is refused whole, nothing run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from identity_reconciler.core import armid
from identity_reconciler.plan.binding import UnboundOperation
from identity_reconciler.plan.model import Change, ChangeKind, Plan
from identity_reconciler.sql import tsql
from identity_reconciler.sql.quote import UnsafeName

_SQL_KINDS = (ChangeKind.SQL_USER, ChangeKind.SQL_ROLE_MEMBER)
_OBJECT_ID = re.compile(r" WITH OBJECT_ID = '([^']*)';")
_SCHEMA = re.compile(r"^IF EXISTS \(SELECT 1 FROM sys\.schemas WHERE name = N'((?:[^']|'')*)' ")


def check_sql_bound(plan: Plan) -> None:
    """Raise UnboundOperation naming the first problems, when there are any."""
    problems = [
        f"{change.address}: {p}"
        for change in plan.changes
        if change.kind in _SQL_KINDS
        for p in _change(change)
    ]
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise UnboundOperation(
            "the plan's T-SQL does not match its changes, so it was edited after it was made: "
            + "; ".join(problems[:3])
            + more
        )


def _change(change: Change) -> Iterator[str]:
    db = armid.try_parse_id(change.id or "")
    if db is None:
        yield f"its id {change.id!r} is not a database id"
        return
    database = change.id.rsplit("/", 1)[-1].lower() if change.id else ""
    for op in change.operations:
        body = op.body or {}
        target = armid.try_parse_id(op.id)
        if target is None or target.key != db.key:
            yield f"operation id {op.id} is not the database the change shows"
        if str(body.get("database", "")).lower() != database:
            yield f"it runs in database {body.get('database')!r}, not {database!r}"
        statement = str(body.get("tsql", ""))
        try:
            allowed = _allowed(change, statement)
        except (UnsafeName, ValueError):
            allowed = set()
        if statement not in allowed:
            yield f"its T-SQL {statement[:80]!r} is not a statement the change shows"


def _allowed(change: Change, statement: str) -> set[str]:
    """The statements this change may run, rendered for its own user and role."""
    actions = set(change.actions)
    before, after = change.before or {}, change.after or {}
    out: set[str] = set()
    if change.kind is ChangeKind.SQL_ROLE_MEMBER:
        if "create" in actions and after.get("role") and after.get("user"):
            out.add(tsql.add_member(str(after["role"]), str(after["user"])))
        if "delete" in actions and before.get("role") and before.get("user"):
            out.add(tsql.drop_member(str(before["role"]), str(before["user"])))
        return out
    if "create" in actions and after.get("user"):
        user = str(after["user"])
        out.add(tsql.create_user(user))
        found = _OBJECT_ID.search(statement)
        if found:
            out.add(tsql.create_user(user, found.group(1)))
    if "update" in actions and after.get("user"):
        out.add(tsql.mark_owned(str(after["user"])))
    if "delete" in actions and before.get("user"):
        user = str(before["user"])
        out.add(tsql.drop_user(user))
        schema = _SCHEMA.match(statement)
        if schema:
            out.add(tsql.transfer_schema(schema.group(1).replace("''", "'"), user))
    return out
