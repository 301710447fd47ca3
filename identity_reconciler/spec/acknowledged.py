"""The specs' `acknowledged:` entries: known grants made outside git, each with a reason and an
expiry date, which drift reports as acknowledged instead of as drift until they expire.

A principal is named like everywhere else in the specs (an identity, or a resource with a
system-assigned identity, declared in any file) or, for a principal the specs do not declare,
by its object id. Names resolve once every file is read, so an entry may sit in its own file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from identity_reconciler.core import armid
from identity_reconciler.core.findings import Finding, Severity
from identity_reconciler.core.state import (
    AcknowledgedGrant,
    PrincipalKind,
    PrincipalRef,
    SourceRef,
)
from identity_reconciler.spec.facts import IdentityFact, SystemFact
from identity_reconciler.spec.resolve import DocContext
from identity_reconciler.spec.yamlload import PathT


@dataclass
class _Pending:
    grant: AcknowledgedGrant
    principal: str
    principal_source: SourceRef


@dataclass
class AcknowledgedBuilder:
    pending: list[_Pending] = field(default_factory=list)

    def add(self, ctx: DocContext) -> None:
        for i, entry in enumerate(ctx.spec.acknowledged):
            path: PathT = ("acknowledged", i)
            role = ctx.role(entry.role, (*path, "role"))
            scope = ctx.scope(
                entry.scope, (*path, "scope"),
                subscription=ctx.spec.subscription,
                resource_group=ctx.spec.defaults.resource_group,
            )
            if role is None or scope is None:
                continue
            grant = AcknowledgedGrant(
                scope=scope.id, role_definition_guid=role.guid, role_name=role.name,
                reason=entry.reason, expires=entry.expires, source=ctx.src(path),
            )
            self.pending.append(_Pending(grant, entry.principal, ctx.src((*path, "principal"))))

    def finish(
        self,
        identities: dict[str, list[IdentityFact]],
        systems: dict[str, SystemFact],
        findings: list[Finding],
        *,
        complete: bool,
    ) -> tuple[AcknowledgedGrant, ...]:
        """Entries with their principal resolved; `identities` and `systems` are by lower name."""
        out: list[AcknowledgedGrant] = []
        for p in self.pending:
            name = p.principal.strip()
            if armid.GUID_RE.match(name):
                out.append(_with(p.grant, principal_id=name.lower()))
                continue
            idents = identities.get(name.lower(), [])
            system = systems.get(name.lower())
            if len(idents) == 1:
                ref = PrincipalRef(PrincipalKind.USER_ASSIGNED, idents[0].identity.id)
                out.append(_with(p.grant, principal=ref))
            elif not idents and system is not None:
                ref = PrincipalRef(PrincipalKind.SYSTEM_ASSIGNED, system.resource_id)
                out.append(_with(p.grant, principal=ref))
            elif complete or idents:
                src = p.principal_source
                what = "names several identities" if idents else "is not declared in the specs"
                findings.append(
                    Finding(
                        src.file, src.line, src.column, Severity.ERROR, "IR032",
                        f"acknowledged principal {name!r} {what}",
                        "name one identity the specs declare, or give the principal's object id",
                    )
                )
        return tuple(out)


def _with(
    grant: AcknowledgedGrant,
    *,
    principal: PrincipalRef | None = None,
    principal_id: str | None = None,
) -> AcknowledgedGrant:
    return AcknowledgedGrant(
        scope=grant.scope, role_definition_guid=grant.role_definition_guid,
        role_name=grant.role_name, reason=grant.reason, expires=grant.expires,
        principal=principal, principal_id=principal_id, source=grant.source,
    )
