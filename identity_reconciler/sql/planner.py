"""Desired users of one database × its catalog -> the SQL changes, each with its exact T-SQL.

Ownership decides what may be changed, as for identities:

- a user we created carries our mark; its memberships are ours to manage, and with `prune` the
  memberships (and users) the specs no longer list are dropped;
- a user someone else created is left alone (takeover refused, with a notice) unless the plan
  adopts, which marks it and then manages it like ours;
- a principal of another kind under the wanted name (a SQL login user, a group) is an error.

A contained Entra user is bound to a principal by SID (the application's client id), not by
name. When an identity is deleted and re-created under the same name, the old user stays in the
database but no longer lets anyone in; the planner sees this from the SID (or because the plan
itself re-creates the identity) and replaces the user when it is ours.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Set
from dataclasses import dataclass, field
from typing import Any

from identity_reconciler.core.state import DesiredSqlDatabase, DesiredSqlUser
from identity_reconciler.sql import tsql
from identity_reconciler.sql.model import (
    EXTERNAL_USER,
    SQL_ROLE_MEMBER,
    SQL_USER,
    TYPE_NAMES,
    DatabasePlan,
    LiveSqlDatabase,
    LiveUser,
    SqlChange,
    SqlIssue,
    fold,
)
from identity_reconciler.sql.quote import UnsafeName
from identity_reconciler.sql.tsql import MARK_VALUE

# The plan's spelling for a value that exists only once apply has run.
KNOWN_AFTER_APPLY = "(known after apply)"

CREATE_BECAUSE_NOT_LIVE = "create_because_not_live"
UPDATE_BECAUSE_ADOPTED = "update_because_adopted"
DELETE_BECAUSE_NOT_IN_SPEC = "delete_because_not_in_spec"
DELETE_BECAUSE_PRINCIPAL_DELETED = "delete_because_principal_deleted"
REPLACE_BECAUSE_PRINCIPAL_REPLACED = "replace_because_principal_replaced"


def database_label(server_id: str, database: str) -> str:
    return f"{server_id.rstrip('/').rsplit('/', 1)[-1]}/{database}"


@dataclass
class _Planner:
    desired: DesiredSqlDatabase
    live: LiveSqlDatabase
    app_ids: Mapping[str, str]
    recreated: Set[str]
    adopt: bool
    # Owned users whose principal provably no longer exists: dropped whatever `prune` says.
    orphaned: Callable[[LiveUser], bool] = lambda _user: False
    changes: list[SqlChange] = field(default_factory=list)
    issues: list[SqlIssue] = field(default_factory=list)
    existing: int = 0

    @property
    def label(self) -> str:
        return database_label(self.desired.server_id, self.desired.database)

    def change(self, **fields: Any) -> None:
        self.changes.append(
            SqlChange(server_id=self.desired.server_id, database=self.desired.database, **fields)
        )

    def issue(self, code: str, message: str, *, error: bool, user: DesiredSqlUser | None) -> None:
        source = user.source if user is not None else self.desired.source
        self.issues.append(SqlIssue(code, message, error, source))

    # ----------------------------------------------------------------- views

    def user_view(self, name: str, app_id: str) -> dict[str, Any]:
        return {"database": self.label, "user": name, "type": EXTERNAL_USER,
                "app_id": app_id, "managed_by": MARK_VALUE}

    def live_view(self, user: LiveUser) -> dict[str, Any]:
        return {"database": self.label, "user": user.name, "type": user.type,
                "app_id": user.app_id or user.sid, "managed_by": MARK_VALUE if user.owned else None,
                "roles": sorted(user.roles, key=fold)}

    def member_view(self, user: str, role: str) -> dict[str, Any]:
        return {"database": self.label, "user": user, "role": role}

    # ----------------------------------------------------------------- desired users

    def roles_of(self, user: DesiredSqlUser) -> list[str]:
        """The user's roles as the catalog spells them; unknown roles are located errors."""
        out: list[str] = []
        for role in user.roles:
            spelled = self.live.role(role)
            if spelled is None:
                self.issue(
                    "sql_role_not_found",
                    f"database role {role!r} does not exist in {self.label} (wanted for user "
                    f"{user.user_name!r}); create it there or correct the name",
                    error=True, user=user,
                )
                continue
            out.append(spelled)
        return out

    def plan_user(self, user: DesiredSqlUser) -> None:
        key = user.principal.key
        roles = self.roles_of(user)
        live = self.live.user(user.user_name)
        expected = self.app_ids.get(key)
        app_id = expected.lower() if expected and key not in self.recreated else KNOWN_AFTER_APPLY
        if live is None:
            self.change(
                kind=SQL_USER, actions=("create",), reason=CREATE_BECAUSE_NOT_LIVE,
                user=user.user_name, role=None, principal=user.principal,
                statements=(tsql.create_user(user.user_name),),
                before=None, after=self.user_view(user.user_name, app_id),
                live_fingerprint=None, source=user.source,
            )
            self.add_members(user, user.user_name, roles, None)
            return
        if live.type != EXTERNAL_USER:
            kind = TYPE_NAMES.get(live.type, f"principal of type {live.type}")
            self.issue(
                "sql_user_conflict",
                f"{self.label} already has a {kind} named {live.name!r}, so identity "
                f"{user.user_name!r} cannot become a user there; rename or drop that principal",
                error=True, user=user,
            )
            return
        stale = key in self.recreated or bool(
            expected and live.app_id and live.app_id != expected.lower()
        )
        if stale:
            self.replace_user(user, live, roles, app_id)
            return
        if not live.owned:
            if not self.adopt:
                self.issue(
                    "sql_takeover_refused",
                    f"user {live.name!r} in {self.label} exists but was not created by "
                    "identity-reconciler; its roles are left alone (plan with --adopt to "
                    "manage it)",
                    error=False, user=user,
                )
                return
            view = self.live_view(live)
            self.change(
                kind=SQL_USER, actions=("update",), reason=UPDATE_BECAUSE_ADOPTED,
                user=live.name, role=None, principal=user.principal,
                statements=(tsql.mark_owned(live.name),),
                before=view, after={**view, "managed_by": MARK_VALUE},
                live_fingerprint=live.fingerprint, source=user.source,
            )
        else:
            self.existing += 1 + len(live.roles)
        self.add_members(user, live.name, [r for r in roles if not live.has_role(r)], live)
        self.extra_members(user, live, roles)

    def replace_user(
        self, user: DesiredSqlUser, live: LiveUser, roles: list[str], app_id: str
    ) -> None:
        if not live.owned:
            self.issue(
                "sql_user_other_principal",
                f"user {live.name!r} in {self.label} belongs to another principal (SID "
                f"{live.sid}), not to identity {user.user_name!r}, and was not created by "
                "identity-reconciler; drop it (DROP USER) so that it can be created for the "
                "identity",
                error=True, user=user,
            )
            return
        self.existing += 1 + len(live.roles)
        self.change(
            kind=SQL_USER, actions=("delete", "create"), reason=REPLACE_BECAUSE_PRINCIPAL_REPLACED,
            user=live.name, role=None, principal=user.principal,
            statements=(
                tsql.drop_user(live.name),
                tsql.create_user(user.user_name),
            ),
            before=self.live_view(live), after=self.user_view(user.user_name, app_id),
            live_fingerprint=live.fingerprint, source=user.source,
        )
        self.add_members(user, user.user_name, roles, live)

    def add_members(
        self, user: DesiredSqlUser, name: str, roles: list[str], live: LiveUser | None
    ) -> None:
        for role in roles:
            self.change(
                kind=SQL_ROLE_MEMBER, actions=("create",), reason=CREATE_BECAUSE_NOT_LIVE,
                user=name, role=role, principal=user.principal,
                statements=(tsql.add_member(role, name),),
                before=None, after=self.member_view(name, role),
                live_fingerprint=live.fingerprint if live else None, source=user.source,
            )

    def extra_members(self, user: DesiredSqlUser, live: LiveUser, roles: list[str]) -> None:
        wanted = {fold(r) for r in roles} | {fold(r) for r in user.roles}
        extra = sorted((r for r in live.roles if fold(r) not in wanted), key=fold)
        if not extra:
            return
        if not self.desired.prune:
            self.issue(
                "sql_role_member_not_pruned",
                f"user {live.name!r} in {self.label} is also a member of {', '.join(extra)}, "
                "which the specs do not list; set prune: true on the database to remove them",
                error=False, user=user,
            )
            return
        for role in extra:
            self.change(
                kind=SQL_ROLE_MEMBER, actions=("delete",), reason=DELETE_BECAUSE_NOT_IN_SPEC,
                user=live.name, role=role, principal=user.principal,
                statements=(tsql.drop_member(role, live.name),),
                before=self.member_view(live.name, role), after=None,
                live_fingerprint=live.fingerprint, source=user.source,
            )

    # ----------------------------------------------------------------- users not in the specs

    def guarded(self, what: str, user: DesiredSqlUser | None, plan: Callable[[], None]) -> None:
        """Plan one user; a name that cannot go into T-SQL undoes its changes and is an error."""
        mark = len(self.changes)
        try:
            plan()
        except UnsafeName as exc:
            del self.changes[mark:]
            self.issue(
                "sql_name_unsafe", f"{what} in {self.label} cannot be managed: {exc}",
                error=True, user=user,
            )

    def plan_leftovers(self, named: set[str]) -> None:
        for key in sorted(self.live.users):
            live = self.live.users[key]
            if key in named or not live.owned:
                continue
            self.guarded(f"user {live.name!r}", None, functools.partial(self.plan_leftover, live))

    def plan_leftover(self, live: LiveUser) -> None:
        self.existing += 1 + len(live.roles)
        retired = fold(live.name) in {fold(n) for n in self.desired.retire}
        orphan = self.orphaned(live)
        if not self.desired.prune and not retired and not orphan:
            self.issue(
                "sql_user_not_pruned",
                f"user {live.name!r} in {self.label} was created by identity-reconciler "
                "but no spec lists it any more; set prune: true on the database to drop it",
                error=False, user=None,
            )
            return
        self.change(
            kind=SQL_USER, actions=("delete",),
            reason=DELETE_BECAUSE_PRINCIPAL_DELETED if orphan else DELETE_BECAUSE_NOT_IN_SPEC,
            user=live.name, role=None, principal=None,
            statements=(tsql.drop_user(live.name),),
            before=self.live_view(live), after=None,
            live_fingerprint=live.fingerprint, source=self.desired.source,
        )


def plan_database(
    desired: DesiredSqlDatabase,
    live: LiveSqlDatabase,
    *,
    app_ids: Mapping[str, str] | None = None,
    recreated: Set[str] = frozenset(),
    adopt: bool = False,
    orphaned: Callable[[LiveUser], bool] | None = None,
) -> DatabasePlan:
    """The changes that make `live` hold the users and memberships `desired` lists.

    `app_ids` maps a principal key to the client id its user's SID must carry (when known);
    `recreated` holds the keys of principals this plan creates or re-creates, whose existing
    users, if any, therefore belong to an earlier principal. `orphaned` tells which owned
    users the specs no longer name belong to a principal that no longer exists.
    """
    planner = _Planner(desired, live, app_ids or {}, recreated, adopt)
    if orphaned is not None:
        planner.orphaned = orphaned
    named: set[str] = set()
    for user in desired.users:
        named.add(fold(user.user_name))
        plan_user = functools.partial(planner.plan_user, user)
        planner.guarded(f"user {user.user_name!r}", user, plan_user)
    planner.plan_leftovers(named)
    return DatabasePlan(
        desired.server_id,
        desired.database,
        tuple(planner.changes),
        tuple(planner.issues),
        planner.existing,
    )
