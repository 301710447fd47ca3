"""Validated documents -> one DesiredState, with the cross-file checks only the whole can make.

Documents are added one at a time; `finish()` resolves what needs every file (SQL users naming
identities declared elsewhere) and returns the state together with the facts policy lint needs.
A duplicate is reported at its second declaration, naming the first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from identity_reconciler.core import armid, identity_hosts
from identity_reconciler.core.findings import Finding, Severity
from identity_reconciler.core.ownership import OWNER_TAG, OWNER_TAG_VALUE, with_marker
from identity_reconciler.core.state import (
    ClaimsExpression,
    DesiredGrant,
    DesiredIdentity,
    DesiredResourceIdentity,
    DesiredState,
    FederatedCredential,
    PrincipalKind,
    PrincipalRef,
    SourceRef,
)
from identity_reconciler.spec.acknowledged import AcknowledgedBuilder
from identity_reconciler.spec.facts import GrantFact, IdentityFact, SystemFact
from identity_reconciler.spec.managed import ManagedBuilder
from identity_reconciler.spec.models import MAX_DESCRIPTION, MAX_TAGS, IdentitySpec, RoleGrant
from identity_reconciler.spec.policy import PolicyBuilder
from identity_reconciler.spec.resolve import DocContext
from identity_reconciler.spec.sqlusers import SqlBuilder
from identity_reconciler.spec.yamlload import PathT

PROD_WORDS = frozenset({"prod", "prd", "production", "live"})
ENV_TAGS = ("env", "environment")


@dataclass
class Built:
    state: DesiredState
    grants: list[GrantFact] = field(default_factory=list)
    identities: list[IdentityFact] = field(default_factory=list)
    systems: list[SystemFact] = field(default_factory=list)
    policy: PolicyBuilder = field(default_factory=PolicyBuilder)
    sql_principals: frozenset[str] = frozenset()


@dataclass
class _ResourceAcc:
    resource_id: str
    resource_type: str
    source: SourceRef
    system_assigned: bool | None = None
    system_source: SourceRef | None = None
    user_assigned: dict[str, tuple[str, SourceRef]] = field(default_factory=dict)  # key: (id, src)


def _env_of(name: str, tags: dict[str, str]) -> str | None:
    """Environment from an explicit env/environment tag, else from the name's tokens."""
    for key, value in tags.items():
        if key.lower() in ENV_TAGS:
            return value.lower()
    tokens = name.lower().replace("_", "-").split("-")
    return next((t for t in tokens if t in PROD_WORDS), None)


class StateBuilder:
    def __init__(self, *, complete: bool = True) -> None:
        # complete=False: some documents failed to load, so a reference that resolves nowhere
        # may point into them; such references are not reported.
        self.complete = complete
        self.findings: list[Finding] = []
        self.identities: dict[str, IdentityFact] = {}
        self.resources: dict[str, _ResourceAcc] = {}
        self.grants: dict[tuple[str, str, str], GrantFact] = {}
        self.subscriptions: set[str] = set()
        self.managed_rgs: set[str] = set()
        self.systems: list[SystemFact] = []
        self.policy = PolicyBuilder()
        self.sql = SqlBuilder()
        self.managed = ManagedBuilder()
        self.acknowledged = AcknowledgedBuilder()
        self.protected_identities: dict[str, SourceRef] = {}
        self.protected_grants: dict[tuple[str, str, str], SourceRef] = {}

    # ------------------------------------------------------------------ documents

    def add(self, ctx: DocContext) -> None:
        spec = ctx.spec
        if spec.subscription:
            self.subscriptions.add(spec.subscription)
        for i, ident in enumerate(spec.identities):
            self._identity(ctx, ident, ("identities", i))
        for i, res in enumerate(spec.resources):
            path: PathT = ("resources", i)
            sub = ctx.subscription(res.subscription, path, f"resource {res.name!r}")
            rg = ctx.resource_group(res.resource_group, path, f"resource {res.name!r}")
            if sub is None or rg is None:
                continue
            self.subscriptions.add(sub)
            scope = ctx.host_resource(res, path, subscription=sub, resource_group=rg)
            if scope is None:
                continue
            acc = self._resource(scope, ctx.src(path))
            if acc.system_source is not None:
                ctx.report(
                    path, "IR033",
                    f"resource {res.name!r} is already declared at {acc.system_source}",
                    "declare each resource once",
                )
                continue
            acc.system_assigned = res.system_assigned
            acc.system_source = ctx.src(path)
            if res.system_assigned:
                env = _env_of(res.name, spec.defaults.tags)
                self.systems.append(SystemFact(scope.id, res.name, env, ctx.src((*path, "name"))))
                principal = PrincipalRef(PrincipalKind.SYSTEM_ASSIGNED, scope.id)
                for j, grant in enumerate(res.roles):
                    self._grant(
                        ctx, grant, (*path, "roles", j), principal,
                        owner=f"resource {res.name!r}", subscription=sub, resource_group=rg,
                    )
        for i, db in enumerate(spec.sql):
            self.sql.add(ctx, db, ("sql", i), self.subscriptions)
        if spec.policy is not None:
            self.policy.add(ctx, spec.policy)
        self.managed.add(ctx)
        self.acknowledged.add(ctx)
        self.findings.extend(ctx.findings)
        ctx.findings.clear()

    def _identity(self, ctx: DocContext, ident: IdentitySpec, path: PathT) -> None:
        what = f"identity {ident.name!r}"
        sub = ctx.subscription(ident.subscription, (*path, "name"), what)
        rg = ctx.resource_group(ident.resource_group, (*path, "name"), what)
        location = ctx.location(ident.location, (*path, "name"), what)
        if sub is None or rg is None or location is None:
            return
        self.subscriptions.add(sub)
        identity_id = armid.identity_id(sub, rg, ident.name)
        key = armid.key(identity_id)
        name_src = ctx.src((*path, "name"))
        first = self.identities.get(key)
        if first is not None:
            ctx.report(
                (*path, "name"), "IR030",
                f"{what} in {rg} is already declared at {first.name_source}",
                "declare each identity once; merge the two entries",
            )
            return
        tags = self._tags(ctx, ident, path)
        creds = self._credentials(ctx, ident, path)
        identity = DesiredIdentity(
            id=identity_id, subscription_id=sub, resource_group=rg, name=ident.name,
            location=location, tags=tags, isolation_scope=ident.isolation_scope,
            federated_credentials=creds, source=name_src,
        )
        self.identities[key] = IdentityFact(identity, name_src)
        if ident.prevent_destroy:
            self.protected_identities[key] = ctx.src((*path, "prevent_destroy"))
        self.managed_rgs.add(armid.key(f"/subscriptions/{sub}/resourceGroups/{rg}"))
        for j, ref in enumerate(ident.assigned_to):
            at: PathT = (*path, "assigned_to", j)
            scope = ctx.host_resource(ref, at, subscription=sub, resource_group=rg)
            if scope is None:
                continue
            acc = self._resource(scope, ctx.src(at))
            if key in acc.user_assigned:
                ctx.report(
                    at, "IR033", f"{what} is already attached to {scope.name!r} at "
                    f"{acc.user_assigned[key][1]}", "list each resource once in assigned_to",
                )
                continue
            host = identity_hosts.find(acc.resource_type)
            if host and host.max_user_assigned and len(acc.user_assigned) >= host.max_user_assigned:
                ctx.report(
                    at, "IR036", f"{host.what} take at most {host.max_user_assigned} "
                    f"user-assigned identity; {scope.name!r} already has one at "
                    f"{next(iter(acc.user_assigned.values()))[1]}",
                    "attach one identity and grant it what the others hold",
                )
                continue
            acc.user_assigned[key] = (identity_id, ctx.src(at))
        principal = PrincipalRef(PrincipalKind.USER_ASSIGNED, identity_id)
        for j, grant in enumerate(ident.roles):
            self._grant(
                ctx, grant, (*path, "roles", j), principal,
                owner=what, subscription=sub, resource_group=rg,
            )

    def _tags(self, ctx: DocContext, ident: IdentitySpec, path: PathT) -> dict[str, str]:
        merged = {**ctx.spec.defaults.tags, **ident.tags}
        tags = {k: v for k, v in merged.items() if k.lower() != OWNER_TAG}
        tags[OWNER_TAG] = OWNER_TAG_VALUE
        if len(tags) > MAX_TAGS:
            ctx.report(
                (*path, "tags"), "IR012",
                f"identity {ident.name!r} would carry {len(tags)} tags (defaults, its own and "
                f"{OWNER_TAG}); Azure allows {MAX_TAGS}",
                "drop some tags",
            )
        return tags

    def _credentials(
        self, ctx: DocContext, ident: IdentitySpec, path: PathT
    ) -> tuple[FederatedCredential, ...] | None:
        if ident.federated_credentials is None:
            return None
        out: list[FederatedCredential] = []
        names: dict[str, SourceRef] = {}
        pairs: dict[tuple[str, tuple[str, str]], SourceRef] = {}
        for j, fic in enumerate(ident.federated_credentials):
            at: PathT = (*path, "federated_credentials", j)
            src = ctx.src(at)
            if fic.name.lower() in names:
                ctx.report(
                    (*at, "name"), "IR034",
                    f"federated credential {fic.name!r} is already declared at "
                    f"{names[fic.name.lower()]}", "give each credential its own name",
                )
                continue
            spec_expression = fic.expression
            expression = (
                None
                if spec_expression is None
                else ClaimsExpression(spec_expression.value, spec_expression.language_version)
            )
            credential = FederatedCredential(
                name=fic.name, issuer=fic.issuer, subject=fic.subject,
                audiences=tuple(fic.audiences), source=src,
                claims_matching_expression=expression,
            )
            pair = (fic.issuer.rstrip("/").lower(), credential.match)
            if pair in pairs:
                what = "subject" if expression is None else "claims_matching_expression"
                ctx.report(
                    (*at, what), "IR034",
                    f"issuer and {what} repeat the credential at {pairs[pair]}; "
                    "Azure requires them unique per identity", "remove one of the two",
                )
                continue
            names[fic.name.lower()] = src
            pairs[pair] = src
            out.append(credential)
        return tuple(out)

    def _resource(self, scope: armid.Scope, src: SourceRef) -> _ResourceAcc:
        key = scope.key
        acc = self.resources.get(key)
        if acc is None:
            acc = _ResourceAcc(scope.id, scope.resource_type or "", src)
            self.resources[key] = acc
        return acc

    def _grant(
        self, ctx: DocContext, grant: RoleGrant, path: PathT, principal: PrincipalRef, *,
        owner: str, subscription: str, resource_group: str,
    ) -> None:
        role = ctx.role(grant.role, (*path, "role"))
        scope = ctx.scope(
            grant.scope, (*path, "scope"), subscription=subscription, resource_group=resource_group
        )
        if role is None or scope is None:
            return
        if grant.description is not None and len(with_marker(grant.description)) > MAX_DESCRIPTION:
            room = MAX_DESCRIPTION - len(with_marker(""))
            ctx.report(
                (*path, "description"), "IR012",
                f"description is too long once the ownership marker is added (at most {room - 1} "
                "characters)", "shorten the description",
            )
            return
        desired = DesiredGrant(
            principal=principal, scope=scope.id, role_definition_guid=role.guid,
            role_name=role.name, condition=grant.condition,
            condition_version=(grant.condition_version or "2.0") if grant.condition else None,
            description=grant.description, source=ctx.src(path),
        )
        first = self.grants.get(desired.key)
        if first is not None:
            ctx.report(
                (*path, "role"), "IR031",
                f"{owner} already has {role.name!r} on {scope.id} at {first.grant.source}",
                "remove the repeated grant",
            )
            return
        self.grants[desired.key] = GrantFact(desired, role, scope, owner, ctx.src((*path, "role")))
        if grant.prevent_destroy:
            self.protected_grants[desired.key] = ctx.src((*path, "prevent_destroy"))

    # ------------------------------------------------------------------ the whole

    def _check_hosts(self) -> None:
        """Types that take the system-assigned identity or a user-assigned one, not both."""
        for acc in self.resources.values():
            host = identity_hosts.find(acc.resource_type)
            if host is None or host.allows_both or not acc.system_assigned:
                continue
            for _, src in acc.user_assigned.values():
                self.findings.append(Finding(
                    src.file, src.line, src.column, Severity.ERROR, "IR036",
                    f"{host.what} take the system-assigned identity or a user-assigned one, "
                    f"not both; {acc.resource_id.rsplit('/', 1)[-1]!r} has system_assigned "
                    f"at {acc.system_source}",
                    "drop system_assigned or this attachment",
                ))


    def finish(self, digest: str) -> Built:
        by_name: dict[str, list[IdentityFact]] = {}
        for fact in self.identities.values():
            by_name.setdefault(fact.identity.name.lower(), []).append(fact)
        system_names = {s.name.lower(): s for s in self.systems}
        sql_dbs = self.sql.finish(
            self.identities, by_name, system_names, complete=self.complete, findings=self.findings,
            allowances=self.policy.sql_allowances,
        )
        self._check_hosts()
        resources = {
            key: DesiredResourceIdentity(
                resource_id=acc.resource_id, resource_type=acc.resource_type,
                system_assigned=acc.system_assigned,
                user_assigned=tuple(i for i, _ in acc.user_assigned.values()),
                source=acc.system_source or acc.source,
            )
            for key, acc in self.resources.items()
        }
        self.managed.check(list(self.identities.values()), self.findings)
        acknowledged = self.acknowledged.finish(
            by_name, system_names, self.findings, complete=self.complete
        )
        managed_groups = self.managed_rgs
        if self.managed.declared:
            managed_groups = self.managed.groups
            self.subscriptions |= self.managed.subscriptions
            self.subscriptions |= {g.split("/")[2] for g in managed_groups}
        state = DesiredState(
            subscriptions=tuple(sorted(self.subscriptions)),
            identities={k: f.identity for k, f in self.identities.items()},
            resources=resources,
            grants={k: g.grant for k, g in self.grants.items()},
            sql=sql_dbs,
            safety=self.policy.safety(),
            allow_privileged=tuple(a.allowance for a in self.policy.allowances),
            acknowledged=acknowledged,
            managed_resource_groups=frozenset(managed_groups),
            managed_subscriptions=frozenset(self.managed.subscriptions),
            managed_declared=self.managed.declared,
            protected_identities=dict(self.protected_identities),
            protected_grants=dict(self.protected_grants),
            digest=digest,
        )
        return Built(
            state=state,
            grants=list(self.grants.values()),
            identities=list(self.identities.values()),
            systems=self.systems,
            policy=self.policy,
            sql_principals=frozenset(
                u.principal.key for db in sql_dbs for u in db.users
            ),
        )
