"""Policy lint: the IR1xx rules, run over what the builder learned.

Each rule reports through `_Linter.emit`, which applies the severity configured under
`policy.rules` (or drops the finding when the rule is `off`), so rules never look at config.
"""

from __future__ import annotations

from identity_reconciler.core import armid, privilege, roles
from identity_reconciler.core.findings import Finding
from identity_reconciler.core.state import SourceRef
from identity_reconciler.spec.build import Built
from identity_reconciler.spec.naming import NamingPatternError, naming_example, naming_regex

_BROAD = (armid.ScopeKind.SUBSCRIPTION, armid.ScopeKind.MANAGEMENT_GROUP)
_SCOPE_WORDS = {
    armid.ScopeKind.MANAGEMENT_GROUP: "management-group",
    armid.ScopeKind.SUBSCRIPTION: "subscription",
    armid.ScopeKind.RESOURCE_GROUP: "resource-group",
    armid.ScopeKind.RESOURCE: "resource",
}


class _Linter:
    def __init__(self, built: Built) -> None:
        self.built = built
        self.findings: list[Finding] = []

    def emit(self, rule_id: str, src: SourceRef | None, message: str, fix: str) -> None:
        severity = self.built.policy.severity(rule_id)
        if severity is None or src is None:
            return
        self.findings.append(
            Finding(src.file, src.line, src.column, severity, rule_id, message, fix)
        )

    def naming(self) -> None:
        policy = self.built.policy
        try:
            regex = naming_regex(policy.naming)
        except NamingPatternError as exc:
            self.emit("IR101", policy.naming_source, str(exc), "fix policy.naming")
            return
        example = naming_example(policy.naming)
        for fact in self.built.identities:
            name = fact.identity.name
            if not regex.match(name):
                self.emit(
                    "IR101", fact.name_source,
                    f"identity name {name!r} does not follow the naming pattern "
                    f"{policy.naming!r}",
                    f"rename it like {example!r}, or change policy.naming",
                )

    def privileged(self) -> None:
        """IR102/IR108 from the one classification (`core/privilege.py`), IR103 by name."""
        allowed = {
            (a.allowance.role_definition_guid, armid.key(a.allowance.scope))
            for a in self.built.policy.allowances
        }
        for fact in self.built.grants:
            guid, kind = fact.grant.role_definition_guid, fact.scope.kind
            forced = privilege.forced_at(guid, kind)
            if forced is not None and (guid, fact.scope.key) not in allowed:
                self.emit(
                    "IR102", fact.role_source,
                    f"{fact.owner}: {fact.role.name} at {_SCOPE_WORDS[kind]} scope "
                    f"{fact.scope.id} is privileged: it {forced.why}",
                    "grant a narrower role or scope, or add {role, scope, justification} "
                    "to policy.allow_privileged",
                )
                continue
            warned = privilege.warned_at(guid, kind)
            if warned is not None:
                self.emit(
                    "IR108", fact.role_source,
                    f"{fact.owner}: {fact.role.name} at {_SCOPE_WORDS[kind]} scope "
                    f"{fact.scope.id} is privileged there: it {warned.why}",
                    "grant a role that cannot change access, or accept it knowingly",
                )
            if guid in roles.BROAD_WRITE_ROLE_GUIDS:
                self.emit(
                    "IR103", fact.role_source,
                    f"{fact.owner}: {fact.role.name} can change every resource in its scope",
                    "prefer a narrower built-in role for what the workload does",
                )

    def data_plane(self) -> None:
        for fact in self.built.grants:
            role = fact.role.role
            target = role.data_plane_type if role is not None else None
            if target is None or fact.scope.kind is armid.ScopeKind.RESOURCE:
                continue
            self.emit(
                "IR104", fact.role_source,
                f"{fact.owner}: {fact.role.name} at {_SCOPE_WORDS[fact.scope.kind]} scope reaches "
                f"every {target} there",
                f"scope it to one resource: {{resource_group, type: {target}, name}}",
            )

    def system_assigned(self) -> None:
        for system in self.built.systems:
            if system.environment in ("prod", "prd", "production", "live"):
                self.emit(
                    "IR105", system.source,
                    f"system-assigned identity on {system.name!r} in production: it is deleted "
                    "with the resource and cannot be granted before the resource exists",
                    "prefer a user-assigned identity attached with assigned_to",
                )

    def without_grants(self) -> None:
        granted = {g.grant.principal.key for g in self.built.grants}
        used = granted | self.built.sql_principals
        for fact in self.built.identities:
            principal = f"user_assigned:{armid.key(fact.identity.id)}"
            if principal not in used:
                self.emit(
                    "IR106", fact.name_source,
                    f"identity {fact.identity.name!r} has no role grants or SQL users",
                    "add roles: for what it needs, or remove the identity",
                )

    def unused_allowances(self) -> None:
        needed = {
            (g.grant.role_definition_guid, g.scope.key)
            for g in self.built.grants
            if g.scope.kind in _BROAD
        }
        for fact in self.built.policy.allowances:
            key = (fact.allowance.role_definition_guid, fact.scope.key)
            if not privilege.of_guid(fact.allowance.role_definition_guid).privileged:
                self.emit(
                    "IR107", fact.source,
                    f"allow_privileged lists {fact.role.name!r}, which is not a privileged role",
                    "remove the entry; only roles that can change access or managed identities "
                    "need it (docs/permissions.md lists them)",
                )
            elif key not in needed:
                self.emit(
                    "IR107", fact.source,
                    f"allow_privileged for {fact.role.name} at {fact.scope.id} matches no grant",
                    "remove the stale allowance",
                )


    def unused_database_allowances(self) -> None:
        needed = {
            (armid.key(f"{db.server_id}/databases/{db.database}"), role.lower())
            for db in self.built.state.sql
            for user in db.users
            for role in user.roles
        }
        for fact in self.built.policy.sql_allowances:
            if (armid.key(fact.database_id), fact.role) not in needed:
                self.emit(
                    "IR107", fact.source,
                    f"allow_privileged for {fact.role} on {fact.database_id} matches no SQL user",
                    "remove the stale allowance",
                )


def lint(built: Built) -> list[Finding]:
    linter = _Linter(built)
    linter.naming()
    linter.privileged()
    linter.data_plane()
    linter.system_assigned()
    linter.without_grants()
    linter.unused_allowances()
    linter.unused_database_allowances()
    flexible = [
        fic
        for fact in built.identities
        for fic in fact.identity.federated_credentials or ()
        if fic.claims_matching_expression is not None
    ]
    if flexible:  # its issuer tables load only for specs that have such credentials
        from identity_reconciler.spec import flexible_lint

        flexible_lint.check(iter(flexible), linter.emit)
    return linter.findings

