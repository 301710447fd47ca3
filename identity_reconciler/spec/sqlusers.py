"""`sql:` entries -> DesiredSqlDatabase, with users resolved against every spec's identities.

A SQL user names an identity by name (or ARM id); the identity may be declared in any file,
so users are collected per document and resolved once all documents are in. A name that also
matches a resource with a system-assigned identity resolves to that identity when no
user-assigned identity has the name (Azure SQL knows both by their display name).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from identity_reconciler.core import armid
from identity_reconciler.core.findings import Finding, Severity
from identity_reconciler.core.state import (
    DesiredSqlDatabase,
    DesiredSqlUser,
    PrincipalKind,
    PrincipalRef,
    SourceRef,
)
from identity_reconciler.spec.facts import IdentityFact, SystemFact
from identity_reconciler.spec.models import SqlDatabaseSpec
from identity_reconciler.spec.policy import SqlAllowanceFact
from identity_reconciler.spec.resolve import DocContext
from identity_reconciler.spec.yamlload import PathT

SQL_SERVER_TYPE = "Microsoft.Sql/servers"


@dataclass(frozen=True)
class _User:
    identity: str
    roles: tuple[str, ...]
    source: SourceRef  # of the `identity:` value
    by_object_id: bool = True


@dataclass
class _Database:
    server_id: str
    database: str
    prune: bool
    source: SourceRef
    users: list[_User] = field(default_factory=list)
    transfer_schemas: bool = False


def _error(src: SourceRef, rule: str, message: str, fix: str) -> Finding:
    return Finding(src.file, src.line, src.column, Severity.ERROR, rule, message, fix)


class SqlBuilder:
    def __init__(self) -> None:
        self.databases: dict[tuple[str, str], _Database] = {}

    def add(
        self, ctx: DocContext, db: SqlDatabaseSpec, path: PathT, subscriptions: set[str]
    ) -> None:
        what = f"SQL database {db.server}/{db.database}"
        sub = ctx.subscription(db.subscription, (*path, "server"), what)
        rg = ctx.resource_group(db.resource_group, (*path, "server"), what)
        if sub is None or rg is None:
            return
        subscriptions.add(sub)
        server_id = armid.resource_id(sub, rg, SQL_SERVER_TYPE, db.server)
        key = (armid.key(server_id), db.database.lower())
        first = self.databases.get(key)
        if first is not None:
            ctx.report(
                (*path, "database"), "IR033", f"{what} is already declared at {first.source}",
                "declare each database once and list all its users there",
            )
            return
        entry = _Database(server_id, db.database, db.prune, ctx.src(path),
                          transfer_schemas=db.transfer_schemas_to_dbo)
        for j, user in enumerate(db.users):
            # Repeated roles mean nothing more; SQL Server compares role names case-insensitively.
            spelled: dict[str, str] = {}
            for role in user.roles:
                spelled.setdefault(role.lower(), role)
            roles = tuple(spelled.values())
            src = ctx.src((*path, "users", j, "identity"))
            by_object_id = user.resolve_by == "object_id"
            entry.users.append(_User(user.identity.strip(), roles, src, by_object_id))
        self.databases[key] = entry

    def finish(
        self,
        identities: Mapping[str, IdentityFact],
        by_name: Mapping[str, list[IdentityFact]],
        systems: Mapping[str, SystemFact],
        *,
        complete: bool,
        findings: list[Finding],
        allowances: Sequence[SqlAllowanceFact] = (),
    ) -> tuple[DesiredSqlDatabase, ...]:
        names = sorted({f.identity.name for f in identities.values()})
        out: list[DesiredSqlDatabase] = []
        for db in self.databases.values():
            users: list[DesiredSqlUser] = []
            seen: dict[str, SourceRef] = {}
            named: dict[str, SourceRef] = {}  # user names, case-folded as SQL Server does
            for user in db.users:
                resolved = self._resolve(user, identities, by_name, systems, names=names,
                                         complete=complete)
                if isinstance(resolved, Finding):
                    findings.append(resolved)
                    continue
                if resolved is None:
                    continue
                principal, user_name = resolved
                if principal.key in seen:
                    findings.append(
                        _error(
                            user.source, "IR033",
                            f"SQL user {user_name!r} is already listed at {seen[principal.key]}",
                            "list each user once per database",
                        )
                    )
                    continue
                other = named.get(user_name.lower())
                if other is not None:
                    findings.append(
                        _error(
                            user.source, "IR033",
                            f"SQL user name {user_name!r} is already taken at {other} by another "
                            "identity; a database knows its users by display name",
                            "give the identities distinct names",
                        )
                    )
                    continue
                seen[principal.key] = named[user_name.lower()] = user.source
                users.append(
                    DesiredSqlUser(principal, user_name, user.roles, user.source, user.by_object_id)
                )
            db_key = armid.key(f"{db.server_id}/databases/{db.database}")
            allowed = frozenset(a.role for a in allowances if armid.key(a.database_id) == db_key)
            out.append(
                DesiredSqlDatabase(
                    db.server_id, db.database, tuple(users), db.prune, db.source,
                    privileged_allowed=allowed, transfer_schemas_to_dbo=db.transfer_schemas,
                )
            )
        return tuple(out)

    @staticmethod
    def _resolve(
        user: _User,
        identities: Mapping[str, IdentityFact],
        by_name: Mapping[str, list[IdentityFact]],
        systems: Mapping[str, SystemFact],
        *,
        names: list[str],
        complete: bool,
    ) -> tuple[PrincipalRef, str] | Finding | None:
        text = user.identity
        if text.startswith("/"):
            fact = identities.get(armid.key(text))
            candidates = [fact] if fact is not None else []
        else:
            candidates = by_name.get(text.lower(), [])
        if len(candidates) == 1:
            ident = candidates[0].identity
            return PrincipalRef(PrincipalKind.USER_ASSIGNED, ident.id), ident.name
        if len(candidates) > 1:
            where = " and ".join(str(c.name_source) for c in candidates)
            return _error(
                user.source, "IR032", f"identity {text!r} is ambiguous: declared at {where}",
                "write the identity's ARM id instead of its name",
            )
        system = systems.get(text.lower())
        if system is not None:
            return PrincipalRef(PrincipalKind.SYSTEM_ASSIGNED, system.resource_id), system.name
        if not complete:
            return None
        import difflib  # only for a name no spec declares

        close = difflib.get_close_matches(text, names, n=1)
        fix = f"did you mean {close[0]!r}?" if close else "declare the identity under identities:"
        return _error(
            user.source, "IR032", f"SQL user names identity {text!r}, which no spec declares", fix
        )
