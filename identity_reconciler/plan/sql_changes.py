"""Azure SQL changes in the plan: the T-SQL the `sql` package planned, as plan changes.

The SQL planner runs after the ARM diff, because it needs to know which identities this plan
creates (their users must wait for them, and an existing user of a re-created identity is
stale). Its output reaches this module through the structural types below — `plan/` and `sql/`
are siblings and never import each other — and the plan is sealed again with the SQL changes,
diagnostics, summary and safety verdict included.

Each SQL change runs its statements as `TSQL` operations on the database (the operation's `id`
is the database's ARM id). SQL changes rank after every ARM change; a role membership waits for
its user's change, and a new user for the change that creates its identity.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from identity_reconciler.core.live import LiveState
from identity_reconciler.core.state import PrincipalKind, PrincipalRef, SafetyPolicy, SourceRef
from identity_reconciler.plan import safety
from identity_reconciler.plan.diff import _diagnostic_order
from identity_reconciler.plan.model import (
    KNOWN_AFTER_APPLY,
    Change,
    ChangeKind,
    Diagnostic,
    Operation,
    Plan,
    Principal,
    Summary,
)
from identity_reconciler.plan.names import Namer

SQL_KINDS = frozenset({ChangeKind.SQL_USER, ChangeKind.SQL_ROLE_MEMBER})
# How a statement awaiting its principal's object id spells it (sql/tsql.py).
OBJECT_ID_PENDING = "WITH OBJECT_ID = '(known after apply)'"


class SqlChangeLike(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def actions(self) -> tuple[str, ...]: ...
    @property
    def reason(self) -> str: ...
    @property
    def server_id(self) -> str: ...
    @property
    def database(self) -> str: ...
    @property
    def user(self) -> str: ...
    @property
    def role(self) -> str | None: ...
    @property
    def principal(self) -> PrincipalRef | None: ...
    @property
    def statements(self) -> tuple[str, ...]: ...
    @property
    def before(self) -> Mapping[str, Any] | None: ...
    @property
    def after(self) -> Mapping[str, Any] | None: ...
    @property
    def live_fingerprint(self) -> str | None: ...
    @property
    def source(self) -> SourceRef | None: ...


class SqlIssueLike(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def error(self) -> bool: ...
    @property
    def source(self) -> SourceRef | None: ...


class SqlDatabaseLike(Protocol):
    @property
    def server_id(self) -> str: ...
    @property
    def database(self) -> str: ...
    @property
    def changes(self) -> Sequence[SqlChangeLike]: ...
    @property
    def issues(self) -> Sequence[SqlIssueLike]: ...
    @property
    def existing(self) -> int: ...
    @property
    def endpoint(self) -> str | None: ...


def database_id(server_id: str, database: str) -> str:
    return f"{server_id.rstrip('/')}/databases/{database}"


def _server_name(server_id: str) -> str:
    return server_id.rstrip("/").rsplit("/", 1)[-1]


def user_address(server_id: str, database: str, user: str) -> str:
    return f"{ChangeKind.SQL_USER.value}.{_server_name(server_id)}/{database}/{user}"


def member_address(server_id: str, database: str, user: str, role: str) -> str:
    return f"{ChangeKind.SQL_ROLE_MEMBER.value}.{_server_name(server_id)}/{database}/{user}/{role}"


def principal_expectations(plan: Plan, live: LiveState) -> tuple[dict[str, str], frozenset[str]]:
    """What the SQL planner must know about principals: `(app_ids, recreated)`.

    `app_ids`: principal key -> client id of every live user-assigned identity (a contained
    user's SID is its principal's client id). `recreated`: keys of the principals this plan
    creates or re-creates, whose client ids are not known yet.
    """
    app_ids = {
        PrincipalRef(PrincipalKind.USER_ASSIGNED, i.id).key: i.client_id.lower()
        for i in live.identities.values()
        if i.client_id
    }
    recreated: set[str] = set()
    for change in plan.changes:
        if "create" not in change.actions or change.id is None:
            continue
        if change.kind is ChangeKind.IDENTITY:
            recreated.add(PrincipalRef(PrincipalKind.USER_ASSIGNED, change.id).key)
        elif change.kind is ChangeKind.SYSTEM_ASSIGNED:
            recreated.add(PrincipalRef(PrincipalKind.SYSTEM_ASSIGNED, change.id).key)
    return app_ids, frozenset(recreated)


def principal_object_ids(live: LiveState) -> dict[str, str]:
    """Principal key -> Entra object id of each live identity (for `WITH OBJECT_ID`)."""
    out = {
        PrincipalRef(PrincipalKind.USER_ASSIGNED, i.id).key: i.principal_id.lower()
        for i in live.identities.values()
        if i.principal_id
    }
    for r in live.resources.values():
        if r.exists and r.system_principal_id:
            key = PrincipalRef(PrincipalKind.SYSTEM_ASSIGNED, r.resource_id).key
            out[key] = r.system_principal_id.lower()
    return out


class _Links:
    """Where SQL changes hang in the plan: the group they show under, what they wait for."""

    def __init__(self, plan: Plan, names: Namer) -> None:
        self.names = names
        self.creates: dict[str, str] = {}  # principal key -> address of the change creating it
        self._groups: dict[PrincipalRef, str] = {}
        for change in plan.changes:
            if "create" not in change.actions or change.id is None:
                continue
            if change.kind is ChangeKind.IDENTITY:
                ref = PrincipalRef(PrincipalKind.USER_ASSIGNED, change.id)
            elif change.kind is ChangeKind.SYSTEM_ASSIGNED:
                ref = PrincipalRef(PrincipalKind.SYSTEM_ASSIGNED, change.id)
            else:
                continue
            self.creates[ref.key] = change.address

    def group(self, principal: PrincipalRef | None, fallback: str) -> str:
        if principal is None:
            return fallback
        found = self._groups.get(principal)
        if found is None:
            if principal.kind is PrincipalKind.USER_ASSIGNED:
                found = self.names.identity_address(principal.id)
            else:
                found = self.names.system_address(principal.id)
            self._groups[principal] = found
        return found


def _changes(db: SqlDatabaseLike, links: _Links) -> list[Change]:
    db_id = database_id(db.server_id, db.database)
    users: dict[str, str] = {}  # folded user name -> its sql_user change's address
    for c in db.changes:
        if c.kind == ChangeKind.SQL_USER.value:
            users[c.user.lower()] = user_address(db.server_id, db.database, c.user)
    out: list[Change] = []
    for c in db.changes:
        kind = ChangeKind(c.kind)
        user_addr = user_address(db.server_id, db.database, c.user)
        if kind is ChangeKind.SQL_USER:
            address = user_addr
            waits = links.creates.get(c.principal.key) if c.principal is not None else None
        else:
            address = member_address(db.server_id, db.database, c.user, c.role or "")
            waits = users.get(c.user.lower()) if "create" in c.actions else None
        body = {"server": db.endpoint or "", "database": db.database}
        # A user bound by object id to a principal not yet created: apply resolves it, as for
        # a grant (from the change creating it, or from ARM).
        principal = None
        if c.principal is not None and any(OBJECT_ID_PENDING in s for s in c.statements):
            principal = Principal.model_construct(
                kind=c.principal.kind.value, id=c.principal.id,
                principal_id=KNOWN_AFTER_APPLY, address=waits,
            )
        # Built unvalidated, as the ARM diff builds its changes: `Plan.sealed` validates all.
        out.append(
            Change.model_construct(
                address=address,
                kind=kind,
                actions=c.actions,
                reason=c.reason,
                group=links.group(c.principal, user_addr),
                id=db_id,
                before=dict(c.before) if c.before is not None else None,
                after=dict(c.after) if c.after is not None else None,
                live_fingerprint=c.live_fingerprint,
                depends_on=(waits,) if waits and waits != address else (),
                operations=tuple(
                    Operation.model_construct(method="TSQL", id=db_id, body={**body, "tsql": s})
                    for s in c.statements
                ),
                principal=principal,
                source=str(c.source) if c.source is not None else None,
            )
        )
    return out


def add_sql(
    plan: Plan,
    databases: Iterable[SqlDatabaseLike],
    *,
    policy: SafetyPolicy,
    names: Namer,
) -> Plan:
    """`plan` with the SQL changes and diagnostics of `databases`, sealed again.

    `names` must be the plan's own (`Namer.of` the same specs), so a SQL change hangs under
    the address its principal's changes have.
    """
    links = _Links(plan, names)
    added: list[Change] = []
    notices = list(plan.notices)
    errors = list(plan.errors)
    existing = plan.safety.existing
    for db in databases:
        added.extend(_changes(db, links))
        existing += db.existing
        for issue in db.issues:
            target = errors if issue.error else notices
            source = str(issue.source) if issue.source is not None else None
            target.append(Diagnostic(code=issue.code, message=issue.message, source=source))
    added.sort(key=lambda c: (c.kind.rank, c.address))
    changes = (*plan.changes, *added)
    fields = {name: getattr(plan, name) for name in Plan.model_fields if name != "checksum"}
    fields.update(
        changes=changes,
        notices=tuple(sorted(notices, key=_diagnostic_order)),
        errors=tuple(sorted(errors, key=_diagnostic_order)),
        summary=Summary.of(changes),
        safety=safety.evaluate(changes, existing=existing, policy=policy),
    )
    return Plan.sealed(**fields)


def sql_changes(plan: Plan) -> list[Change]:
    """The plan's SQL changes, in the order apply runs them."""
    return [c for c in plan.changes if c.kind in SQL_KINDS]
