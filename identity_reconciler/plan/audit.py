"""Audit: every managed identity of an estate with its grants, and what deserves a second look.

Pure: it judges a LiveState read by `azure.inventory` (and, optionally, the specs' DesiredState),
so every rule is a unit test. Rules and what they can honestly claim:

- AUD001 privileged-broad-scope: a privileged role (Owner, Contributor, User Access
  Administrator, RBAC Administrator) held by a managed identity at subscription or management
  group scope. Error, or warning when the specs' policy allows it with a justification.
- AUD002 orphaned-grant: a role assignment whose principal provably no longer exists: one
  identity-reconciler made (it only ever grants to managed identities) whose principal is no
  managed identity in the audited subscriptions, or one ARM itself reports as `Unknown`.
- AUD003 unknown-principal: a service-principal assignment that is not to any managed
  identity found. Without Microsoft Graph this cannot be told apart from an application's
  service principal or an identity in another subscription, so it is only information.
- AUD004 grant-not-in-specs / AUD005 identity-not-in-specs: with specs, what is live but not
  declared.
- AUD006 identity-without-grants: granted nothing in the audited subscriptions.
- AUD007 naming: a user-assigned identity's name does not follow the naming pattern.
- AUD008 owner-contributor / AUD009 broad-data-plane-scope: validate's least-privilege rules
  IR103 and IR104, on live grants of managed identities whoever made them: Owner or
  Contributor below subscription scope (above it, AUD001 says more), and a data-plane role
  granted above the one resource it acts on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from identity_reconciler.core import armid, ownership, privilege, roles
from identity_reconciler.core.findings import Severity
from identity_reconciler.core.live import LiveGrant, LiveState
from identity_reconciler.core.state import DesiredState, PrincipalKind
from identity_reconciler.plan.names import Namer, role_name

SERVICE_PRINCIPAL = "serviceprincipal"
_BROAD = armid.ScopeKind.SUBSCRIPTION.breadth
RULES: dict[str, tuple[str, str]] = {
    "AUD001": ("privileged-broad-scope", "privileged role at subscription or management group"),
    "AUD002": ("orphaned-grant", "role assignment whose principal no longer exists"),
    "AUD003": ("unknown-principal", "service principal that is no managed identity found"),
    "AUD004": ("grant-not-in-specs", "grant of a managed identity that no spec declares"),
    "AUD005": ("identity-not-in-specs", "managed identity that no spec declares"),
    "AUD006": ("identity-without-grants", "managed identity granted nothing"),
    "AUD007": ("naming", "identity name does not follow the naming pattern"),
    "AUD008": ("owner-contributor", "Owner or Contributor at any scope (validate's IR103)"),
    "AUD009": ("broad-data-plane-scope", "data-plane role above one resource (IR104)"),
}


@dataclass(frozen=True)
class Naming:
    """The naming rule to check: the pattern as written, and a matcher built from it."""

    pattern: str
    matches: Callable[[str], bool]


@dataclass(frozen=True)
class AuditFinding:
    id: str
    severity: Severity
    object: str
    message: str

    @property
    def rule(self) -> str:
        return RULES[self.id][0]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "rule": self.rule,
            "severity": self.severity.value,
            "object": self.object,
            "message": self.message,
        }


@dataclass(frozen=True)
class AuditedGrant:
    id: str
    role: str
    scope: str
    owned: bool
    at: str = ""  # the scope as addresses show it (`rg/vaults/kv-1`)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "role": self.role,
            "scope": self.scope,
            "at": self.at or self.scope,
            "owned": self.owned,
        }


@dataclass(frozen=True)
class AuditedIdentity:
    kind: str  # user_assigned | system_assigned
    address: str
    id: str  # identity id, or the resource id for a system-assigned identity
    principal_id: str
    owned: bool
    grants: tuple[AuditedGrant, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "address": self.address,
            "id": self.id,
            "principal_id": self.principal_id,
            "owned": self.owned,
            "grants": [g.to_dict() for g in self.grants],
        }


@dataclass
class AuditReport:
    subscriptions: tuple[str, ...]
    identities: list[AuditedIdentity] = field(default_factory=list)
    findings: list[AuditFinding] = field(default_factory=list)
    naming: str = ""
    with_specs: bool = False
    requests: int = 0

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)

    def reaches(self, level: Severity) -> bool:
        """True when some finding is at `level` or worse (for --fail-on)."""
        return any(f.severity.rank >= level.rank for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "subscriptions": list(self.subscriptions),
            "naming": self.naming,
            "with_specs": self.with_specs,
            "live_requests": self.requests,
            "counts": {s.value: self.count(s) for s in Severity},
            "identities": [i.to_dict() for i in self.identities],
            "findings": [f.to_dict() for f in self.findings],
        }


def is_owned_grant(grant: LiveGrant) -> bool:
    """Made by identity-reconciler: its deterministic name, or the description marker."""
    return ownership.is_owned_assignment(
        grant.name, grant.scope, grant.role_definition_guid, grant.principal_id
    ) or ownership.DESCRIPTION_MARKER in (grant.description or "")


class _Auditor:
    def __init__(self, live: LiveState, names: Namer, naming: Naming) -> None:
        self.live = live
        self.naming = naming
        self.names = names
        self.findings: list[AuditFinding] = []
        self.identity_keys = {armid.key(i.id): i for i in live.identities.values()}
        self.resource_keys = {armid.key(r.resource_id): r for r in live.resources.values()}
        self.by_principal: dict[str, list[LiveGrant]] = {}
        for g in sorted(live.grants.values(), key=_grant_order):
            self.by_principal.setdefault(g.principal_id.lower(), []).append(g)
        # principal id -> (kind, address, id)
        self.managed: dict[str, tuple[str, str, str]] = {}
        for ident in live.identities.values():
            if ident.principal_id:
                address = self.names.identity_address(ident.id)
                self.managed[ident.principal_id.lower()] = ("user_assigned", address, ident.id)
        for res in live.resources.values():
            if res.system_principal_id:
                address = self.names.system_address(res.resource_id)
                self.managed[res.system_principal_id.lower()] = (
                    "system_assigned", address, res.resource_id,
                )

    def add(self, rule: str, severity: Severity, obj: str, message: str) -> None:
        self.findings.append(AuditFinding(rule, severity, obj, message))

    def grant_text(self, g: LiveGrant) -> str:
        return f"{role_name(g.role_definition_guid)} on {self.names.scope(g.scope)}"

    def inventory(self) -> list[AuditedIdentity]:
        out: list[AuditedIdentity] = []
        owned_ids = {
            i.principal_id.lower()
            for i in self.live.identities.values()
            if ownership.is_owned_identity(i.tags)
        }
        for pid, (kind, address, oid) in self.managed.items():
            grants = tuple(
                AuditedGrant(
                    g.id, role_name(g.role_definition_guid), g.scope, is_owned_grant(g),
                    at=self.names.scope(g.scope),
                )
                for g in self.by_principal.get(pid, [])
            )
            out.append(AuditedIdentity(kind, address, oid, pid, pid in owned_ids, grants))
        return sorted(out, key=lambda i: (i.kind != "user_assigned", i.address.lower()))

    def privileged(self, allowed: dict[tuple[str, str], str]) -> None:
        for pid, (_, address, _) in self.managed.items():
            for g in self.by_principal.get(pid, []):
                scope = armid.try_parse(g.scope)
                verdict = privilege.forced_at(
                    g.role_definition_guid, scope.kind if scope is not None else None
                )
                if verdict is None:
                    continue
                why = allowed.get((g.role_definition_guid, armid.key(g.scope)))
                if why:
                    self.add(
                        "AUD001", Severity.WARNING, g.id,
                        f"{address} holds {self.grant_text(g)}; allowed by the specs' "
                        f"policy: {why}",
                    )
                else:
                    self.add(
                        "AUD001", Severity.ERROR, g.id,
                        f"{address} holds {self.grant_text(g)}, which is privileged (it "
                        f"{verdict.why}); grant a narrower role or scope",
                    )

    def least_privilege(self) -> None:
        """validate's IR103 and IR104 on what is live (AUD001 covers the broad scopes)."""
        catalog = roles.catalog()
        for pid, (_, address, _) in self.managed.items():
            for g in self.by_principal.get(pid, []):
                scope = armid.try_parse(g.scope)
                kind = scope.kind if scope is not None else None
                if privilege.forced_at(g.role_definition_guid, kind) is not None:
                    continue  # AUD001 says more
                if g.role_definition_guid in roles.BROAD_WRITE_ROLE_GUIDS:
                    self.add(
                        "AUD008", Severity.WARNING, g.id,
                        f"{address} holds {self.grant_text(g)}, which can change every "
                        "resource there; prefer a narrower built-in role for what it does",
                    )
                    continue
                role = catalog.by_guid(g.role_definition_guid)
                target = role.data_plane_type if role is not None else None
                if target is None or scope is None or scope.kind is armid.ScopeKind.RESOURCE:
                    continue
                self.add(
                    "AUD009", Severity.WARNING, g.id,
                    f"{address} holds {self.grant_text(g)}, which reaches every {target} "
                    "there; scope it to the one resource it needs",
                )

    def orphans(self, *, whole_tenant: bool) -> None:
        elsewhere = "" if whole_tenant else ", or it lives in a subscription not audited"
        for g in sorted(self.live.grants.values(), key=_grant_order):
            pid = g.principal_id.lower()
            if pid in self.managed:
                continue
            ptype = (g.principal_type or "").lower()
            if ptype == "unknown":
                self.add(
                    "AUD002", Severity.WARNING, g.id,
                    f"{self.grant_text(g)} is for principal {pid}, which Azure reports as "
                    "Unknown (deleted): remove the role assignment",
                )
            elif is_owned_grant(g):
                self.add(
                    "AUD002", Severity.WARNING, g.id,
                    f"{self.grant_text(g)} was made by identity-reconciler for managed identity "
                    f"principal {pid}, which no longer exists in the audited subscriptions"
                    f"{elsewhere}: remove the role assignment",
                )
            elif ptype == SERVICE_PRINCIPAL:
                self.add(
                    "AUD003", Severity.INFO, g.id,
                    f"{self.grant_text(g)} is for service principal {pid}, which is no managed "
                    "identity found here: an application, an identity elsewhere, or a deleted "
                    "one (Microsoft Graph can tell; this audit does not use it)",
                )

    def without_grants(self) -> None:
        for pid, (_, address, _) in sorted(self.managed.items(), key=lambda kv: kv[1][1]):
            if not self.by_principal.get(pid):
                self.add(
                    "AUD006", Severity.WARNING, address,
                    f"{address} is granted nothing in the audited subscriptions; remove it if "
                    "it is unused",
                )

    def naming_rule(self) -> None:
        for ident in sorted(self.live.identities.values(), key=lambda i: armid.key(i.id)):
            if not self.naming.matches(ident.name):
                address = self.names.identity_address(ident.id)
                self.add(
                    "AUD007", Severity.WARNING, address,
                    f"identity name {ident.name!r} does not follow the naming pattern "
                    f"{self.naming.pattern!r}",
                )

    def against_specs(self, desired: DesiredState) -> None:
        declared_ids = {armid.key(i) for i in desired.identities} | {
            armid.key(i.id) for i in desired.identities.values()
        }
        declared_systems = {
            armid.key(r.resource_id) for r in desired.resources.values() if r.system_assigned
        }
        wanted: set[tuple[str, str, str]] = set()
        for grant in desired.grants.values():
            pid = self._principal_of(grant.principal.kind, grant.principal.id)
            if pid:
                wanted.add((armid.key(grant.scope), grant.role_definition_guid.lower(), pid))
        for pid, (kind, address, oid) in sorted(self.managed.items(), key=lambda kv: kv[1][1]):
            declared = declared_systems if kind == "system_assigned" else declared_ids
            if armid.key(oid) not in declared:
                self.add(
                    "AUD005", Severity.WARNING, address,
                    f"{address} is live but no spec declares it",
                )
                continue
            for g in self.by_principal.get(pid, []):
                key = (armid.key(g.scope), g.role_definition_guid.lower(), pid)
                if key not in wanted:
                    self.add(
                        "AUD004", Severity.WARNING, g.id,
                        f"{address} holds {self.grant_text(g)}, which no spec declares",
                    )

    def _principal_of(self, kind: PrincipalKind, ref_id: str) -> str | None:
        key = armid.key(ref_id)
        if kind is PrincipalKind.USER_ASSIGNED:
            ident = self.identity_keys.get(key)
            return ident.principal_id.lower() if ident and ident.principal_id else None
        res = self.resource_keys.get(key)
        return res.system_principal_id.lower() if res and res.system_principal_id else None


def _grant_order(g: LiveGrant) -> tuple[str, str, str]:
    return (armid.key(g.scope), g.role_definition_guid, g.name)


def audit(
    live: LiveState,
    *,
    subscriptions: Iterable[str],
    naming: Naming,
    desired: DesiredState | None = None,
    whole_tenant: bool = False,
) -> AuditReport:
    """Judge an estate. `whole_tenant`: every subscription of the tenant was read, so a
    principal that is no identity found is not merely in another subscription."""
    subs = tuple(sorted({s.lower() for s in subscriptions}))
    auditor = _Auditor(live, Namer.of(desired, read=subs), naming)
    allowed = {
        (a.role_definition_guid.lower(), armid.key(a.scope)): a.justification
        for a in (desired.allow_privileged if desired else ())
        if a.justification.strip()
    }
    auditor.privileged(allowed)
    auditor.least_privilege()
    auditor.orphans(whole_tenant=whole_tenant)
    if desired is not None:
        auditor.against_specs(desired)
    auditor.without_grants()
    auditor.naming_rule()
    findings = sorted(
        auditor.findings, key=lambda f: (-f.severity.rank, f.id, f.object.lower(), f.message)
    )
    return AuditReport(
        subscriptions=subs,
        identities=auditor.inventory(),
        findings=findings,
        naming=naming.pattern,
        with_specs=desired is not None,
        requests=live.requests,
    )
