"""The `policy:` sections of all spec files, merged into one.

Policy is global: it may be written in any file (usually one `policy.yaml`), and lists such as
`allow_privileged` add up across files. A single value set differently in two files is an
error naming both places, because silently picking one would make results depend on file order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from identity_reconciler.core.dbroles import is_privileged_database_role
from identity_reconciler.core.findings import Severity
from identity_reconciler.core.state import PrivilegeAllowance, SafetyPolicy, SourceRef
from identity_reconciler.spec.facts import AllowanceFact
from identity_reconciler.spec.models import (
    DEFAULT_NAMING,
    PolicySpec,
    PrivilegedAllowanceSpec,
    SafetySpec,
)
from identity_reconciler.spec.naming import NamingPatternError, naming_regex
from identity_reconciler.spec.resolve import DocContext
from identity_reconciler.spec.rules import RULES
from identity_reconciler.spec.yamlload import PathT

SQL_DATABASE_TYPE = "Microsoft.Sql/servers/databases"


@dataclass(frozen=True)
class SqlAllowanceFact:
    """A justified allowance of a privileged database role on one database."""

    role: str  # folded
    database_id: str
    source: SourceRef


@dataclass
class PolicyBuilder:
    naming: str = DEFAULT_NAMING
    naming_source: SourceRef | None = None
    settings: dict[str, tuple[str, SourceRef]] = field(default_factory=dict)
    safety_values: dict[str, tuple[float, SourceRef]] = field(default_factory=dict)
    allowances: list[AllowanceFact] = field(default_factory=list)
    sql_allowances: list[SqlAllowanceFact] = field(default_factory=list)

    def add(self, ctx: DocContext, policy: PolicySpec) -> None:
        base: PathT = ("policy",)
        if policy.naming is not None:
            self._naming(ctx, policy.naming, (*base, "naming"))
        for rule_id, setting in policy.rules.items():
            path: PathT = (*base, "rules", rule_id)
            first = self.settings.get(rule_id)
            if first is not None and first[0] != setting:
                ctx.report(
                    path, "IR035", f"rule {rule_id} is set to {first[0]!r} at {first[1]}",
                    "configure each rule in one file only",
                )
            elif first is None:
                self.settings[rule_id] = (setting, ctx.src(path))
        blocks: list[tuple[PathT, SafetySpec]] = [(base, policy)]
        if policy.safety is not None:
            blocks.append(((*base, "safety"), policy.safety))
        for where, block in blocks:
            for name in SafetySpec.model_fields:
                value = getattr(block, name)
                if value is not None:
                    self._safety(ctx, name, value, (*where, name))
        for i, entry in enumerate(policy.allow_privileged):
            path = (*base, "allow_privileged", i)
            if is_privileged_database_role(entry.role):
                self._database_allowance(ctx, entry, path)
                continue
            role = ctx.role(entry.role, (*path, "role"))
            scope = ctx.scope(
                entry.scope, (*path, "scope"),
                subscription=ctx.spec.subscription,
                resource_group=ctx.spec.defaults.resource_group,
            )
            if role is None or scope is None:
                continue
            allowance = PrivilegeAllowance(role.guid, scope.id, entry.justification.strip())
            self.allowances.append(AllowanceFact(allowance, role, scope, ctx.src(path)))

    def _database_allowance(
        self, ctx: DocContext, entry: PrivilegedAllowanceSpec, path: PathT
    ) -> None:
        """A privileged database role, allowed on one database (the entry's scope)."""
        scope = ctx.scope(
            entry.scope, (*path, "scope"),
            subscription=ctx.spec.subscription,
            resource_group=ctx.spec.defaults.resource_group,
        )
        if scope is None:
            return
        if (scope.resource_type or "").lower() != SQL_DATABASE_TYPE.lower():
            ctx.report(
                (*path, "scope"), "IR020",
                f"{entry.role} is a database role; its scope must be a database, not {scope.id}",
                "write scope: {type: Microsoft.Sql/servers/databases, name: SERVER/DATABASE}",
            )
            return
        self.sql_allowances.append(
            SqlAllowanceFact(entry.role.strip().lower(), scope.id, ctx.src(path))
        )

    def _safety(self, ctx: DocContext, name: str, value: float, path: PathT) -> None:
        seen = self.safety_values.get(name)
        if seen is None:
            self.safety_values[name] = (value, ctx.src(path))
        elif seen[0] != value:
            ctx.report(
                path, "IR035", f"{name} is {seen[0]:g} at {seen[1]}",
                "set each safety threshold once",
            )

    def _naming(self, ctx: DocContext, naming: str, path: PathT) -> None:
        try:
            naming_regex(naming)
        except NamingPatternError as exc:
            ctx.report(path, "IR012", str(exc), f"write e.g. {DEFAULT_NAMING}")
            return
        if self.naming_source is not None and naming != self.naming:
            ctx.report(
                path, "IR035", f"naming is {self.naming!r} at {self.naming_source}",
                "set policy.naming in one file only",
            )
            return
        self.naming, self.naming_source = naming, ctx.src(path)

    def severity(self, rule_id: str) -> Severity | None:
        """The configured severity of a policy rule; None when it is switched off."""
        setting = self.settings.get(rule_id)
        if setting is None:
            return RULES[rule_id].severity
        return None if setting[0] == "off" else Severity(setting[0])

    def safety(self) -> SafetyPolicy:
        defaults = SafetyPolicy()
        values = {k: v for k, (v, _) in self.safety_values.items()}
        return SafetyPolicy(
            max_delete_percent=float(values.get("max_delete_percent", defaults.max_delete_percent)),
            max_update_percent=float(values.get("max_update_percent", defaults.max_update_percent)),
            min_existing=int(values.get("min_existing", defaults.min_existing)),
        )
