"""The repository's managed scope: which subscriptions and resource groups it owns.

Without a `managed:` block the scope is inferred from the specs (the resource groups of the
identities they declare), so deleting the last spec file of an environment silently stops
managing it. A `managed:` block fixes the scope independently of which spec files exist: owned
identities inside it that no spec declares, and owned grants inside it whose principal is gone,
are deletion candidates. It is declared once (a second
block is an error naming the first), and every identity the specs declare must lie inside it,
so a reviewer reads the whole reach of the repository in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from identity_reconciler.core import armid
from identity_reconciler.core.findings import Finding, Severity
from identity_reconciler.core.state import SourceRef
from identity_reconciler.spec.facts import IdentityFact
from identity_reconciler.spec.resolve import DocContext
from identity_reconciler.spec.yamlload import PathT

RULE = "IR037"


def group_key(subscription: str, resource_group: str) -> str:
    return armid.key(f"/subscriptions/{subscription}/resourceGroups/{resource_group}")


@dataclass
class ManagedBuilder:
    declared_at: SourceRef | None = None
    subscriptions: set[str] = field(default_factory=set)
    groups: set[str] = field(default_factory=set)

    @property
    def declared(self) -> bool:
        return self.declared_at is not None

    def add(self, ctx: DocContext) -> None:
        managed = ctx.spec.managed
        if managed is None:
            return
        base: PathT = ("managed",)
        if self.declared_at is not None:
            ctx.report(
                base, RULE, f"the managed scope is already declared at {self.declared_at}",
                "declare managed: once, in one file, listing every subscription and group",
                key=True,
            )
            return
        self.declared_at = ctx.src(base, key=True)
        self.subscriptions |= {s.lower() for s in managed.subscriptions}
        for i, entry in enumerate(managed.resource_groups):
            path: PathT = (*base, "resource_groups", i)
            if isinstance(entry, str):
                sub, name = ctx.subscription(None, path, f"resource group {entry!r}"), entry
            else:
                sub = ctx.subscription(entry.subscription, path, f"resource group {entry.name!r}")
                name = entry.name
            if sub is not None:
                self.groups.add(group_key(sub, name))

    def holds(self, subscription: str, resource_group: str) -> bool:
        return (
            subscription.lower() in self.subscriptions
            or group_key(subscription, resource_group) in self.groups
        )

    def check(self, identities: list[IdentityFact], findings: list[Finding]) -> None:
        """Every declared identity lies inside a declared scope."""
        if self.declared_at is None:
            return
        for fact in identities:
            ident = fact.identity
            if self.holds(ident.subscription_id, ident.resource_group):
                continue
            src = fact.name_source
            findings.append(
                Finding(
                    src.file, src.line, src.column, Severity.ERROR, RULE,
                    f"identity {ident.name!r} is in resource group {ident.resource_group} of "
                    f"subscription {ident.subscription_id}, outside the managed scope declared "
                    f"at {self.declared_at}",
                    "add the resource group (or its subscription) to managed:",
                )
            )
