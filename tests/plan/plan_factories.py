"""Small builders of DesiredState and LiveState for plan tests: one call per object, with the
defaults a typical estate has, so each test states only what it is about."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from identity_reconciler.core import armid, ownership, roles
from identity_reconciler.core.live import (
    AttachedIdentity,
    LiveFederatedCredential,
    LiveGrant,
    LiveIdentity,
    LiveResourceIdentity,
    LiveState,
)
from identity_reconciler.core.state import (
    ClaimsExpression,
    DesiredGrant,
    DesiredIdentity,
    DesiredResourceIdentity,
    DesiredState,
    FederatedCredential,
    PrincipalKind,
    PrincipalRef,
    SafetyPolicy,
    SourceRef,
)
from identity_reconciler.plan.diff import compute_plan
from identity_reconciler.plan.model import Plan

SUB = "11111111-1111-1111-1111-111111111111"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
RG = "rg-myapp-prod-uks-01"
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
OWNED = {ownership.OWNER_TAG: ownership.OWNER_TAG_VALUE}
GITHUB = "https://token.actions.githubusercontent.com"
KV_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
BLOB_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"


def guid(seed: str) -> str:
    """A stable fake GUID per seed, so principal ids are readable in failures."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, seed))


def src(line: int = 1, file: str = "specs/app.yaml") -> SourceRef:
    return SourceRef(file, line, 5)


def identity_id(name: str, rg: str = RG, sub: str = SUB) -> str:
    return armid.identity_id(sub, rg, name)


def rg_scope(rg: str = RG, sub: str = SUB) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}"


def resource_id(name: str, rtype: str = "Microsoft.Web/sites", rg: str = RG) -> str:
    return armid.resource_id(SUB, rg, rtype, name)


def vault(name: str = "kv-myapp-prod-uks-01") -> str:
    return resource_id(name, "Microsoft.KeyVault/vaults")


# --------------------------------------------------------------------------- desired


def fic(
    name: str = "github-main",
    subject: str | None = "repo:contoso/myapp:ref:refs/heads/main",
    issuer: str = GITHUB,
    audiences: tuple[str, ...] = ("api://AzureADTokenExchange",),
    *,
    expression: str | None = None,
) -> FederatedCredential:
    """A credential by subject, or (`expression` given) a flexible one without a subject."""
    claims = None if expression is None else ClaimsExpression(expression)
    return FederatedCredential(
        name, issuer, None if claims else subject, audiences, source=src(7),
        claims_matching_expression=claims,
    )


def d_identity(
    name: str,
    *,
    rg: str = RG,
    location: str = "uksouth",
    tags: Mapping[str, str] | None = None,
    fics: Iterable[FederatedCredential] | None = (),
    isolation_scope: str | None = None,
    line: int = 3,
) -> DesiredIdentity:
    return DesiredIdentity(
        id=identity_id(name, rg),
        subscription_id=SUB,
        resource_group=rg,
        name=name,
        location=location,
        tags={"owner": "platform", **OWNED, **(tags or {})},
        isolation_scope=isolation_scope,
        federated_credentials=None if fics is None else tuple(fics),
        source=src(line),
    )


def d_resource(
    rid: str, *, system: bool | None = None, users: Iterable[str] = (), line: int = 20
) -> DesiredResourceIdentity:
    scope = armid.parse_scope(rid)
    return DesiredResourceIdentity(
        resource_id=rid,
        resource_type=scope.resource_type or "",
        system_assigned=system,
        user_assigned=tuple(users),
        source=src(line),
    )


def user(identity: str | DesiredIdentity) -> PrincipalRef:
    ident = identity.id if isinstance(identity, DesiredIdentity) else identity
    return PrincipalRef(PrincipalKind.USER_ASSIGNED, ident)


def system(resource: str) -> PrincipalRef:
    return PrincipalRef(PrincipalKind.SYSTEM_ASSIGNED, resource)


def d_grant(
    principal: PrincipalRef,
    scope: str,
    role: str = KV_SECRETS_USER,
    *,
    condition: str | None = None,
    condition_version: str | None = None,
    description: str | None = None,
    line: int = 12,
) -> DesiredGrant:
    return DesiredGrant(
        principal=principal,
        scope=scope,
        role_definition_guid=role,
        role_name=roles.catalog().name_of(role),
        condition=condition,
        condition_version=condition_version,
        description=description,
        source=src(line),
    )


def desired(
    identities: Iterable[DesiredIdentity] = (),
    resources: Iterable[DesiredResourceIdentity] = (),
    grants: Iterable[DesiredGrant] = (),
    **kwargs: object,
) -> DesiredState:
    state = DesiredState(
        subscriptions=(SUB,),
        identities={armid.key(i.id): i for i in identities},
        resources={armid.key(r.resource_id): r for r in resources},
        grants={g.key: g for g in grants},
        managed_resource_groups=frozenset({RG}),
        digest="sha256:specs",
        safety=SafetyPolicy(),
    )
    for name, value in kwargs.items():
        setattr(state, name, value)
    return state


# --------------------------------------------------------------------------- live


def l_fic(
    name: str = "github-main",
    subject: str | None = "repo:contoso/myapp:ref:refs/heads/main",
    identity: str = "id-myapp",
    *,
    issuer: str = GITHUB,
    audiences: tuple[str, ...] = ("api://AzureADTokenExchange",),
    expression: str | None = None,
    language_version: int = 1,
) -> LiveFederatedCredential:
    fid = f"{identity_id(identity)}/federatedIdentityCredentials/{name}"
    claims = None if expression is None else ClaimsExpression(expression, language_version)
    return LiveFederatedCredential(
        fid, name, issuer, None if claims else subject, audiences, claims
    )


def l_identity(
    name: str,
    *,
    rg: str = RG,
    location: str = "uksouth",
    tags: Mapping[str, str] | None = None,
    owned: bool = True,
    fics: Iterable[LiveFederatedCredential] | None = (),
    isolation_scope: str | None = None,
) -> LiveIdentity:
    all_tags = {"owner": "platform", **(OWNED if owned else {}), **(tags or {})}
    iid = identity_id(name, rg).replace("/resourceGroups/", "/resourcegroups/")
    return LiveIdentity(
        id=iid,
        subscription_id=SUB,
        resource_group=rg,
        name=name,
        location=location,
        tags=all_tags,
        isolation_scope=isolation_scope,
        principal_id=guid(f"principal:{name}"),
        client_id=guid(f"client:{name}"),
        tenant_id=TENANT,
        federated_credentials=None if fics is None else tuple(fics),
    )


def l_resource(
    rid: str,
    *,
    type_: str | None = None,
    users: Iterable[str] = (),
    exists: bool = True,
) -> LiveResourceIdentity:
    attached = {armid.key(u): AttachedIdentity(id=u) for u in users}
    system_pid = guid(f"system:{rid.lower()}") if type_ and "SystemAssigned" in type_ else None
    return LiveResourceIdentity(
        resource_id=rid,
        resource_type=armid.parse_scope(rid).resource_type or "",
        exists=exists,
        identity_type=type_,
        system_principal_id=system_pid,
        user_assigned=attached,
    )


def l_grant(
    principal_id: str,
    scope: str,
    role: str = KV_SECRETS_USER,
    *,
    owned: bool = True,
    name: str | None = None,
    condition: str | None = None,
    condition_version: str | None = None,
    description: str | None = ownership.DESCRIPTION_MARKER,
    principal_type: str | None = "ServicePrincipal",
    subscription_role_id: bool = True,
) -> LiveGrant:
    if name is None:
        name = (
            ownership.assignment_name(scope, role, principal_id)
            if owned
            else guid(f"foreign:{scope}|{role}|{principal_id}")
        )
    role_id = armid.role_definition_id(role, SUB if subscription_role_id else None)
    return LiveGrant(
        id=f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}",
        name=name,
        scope=scope,
        role_definition_id=role_id,
        role_definition_guid=role,
        principal_id=principal_id,
        principal_type=principal_type,
        condition=condition,
        condition_version=condition_version,
        description=description,
    )


def live(
    identities: Iterable[LiveIdentity] = (),
    resources: Iterable[LiveResourceIdentity] = (),
    grants: Iterable[LiveGrant] = (),
) -> LiveState:
    return LiveState(
        tenant_id=TENANT,
        identities={armid.key(i.id): i for i in identities},
        resources={armid.key(r.resource_id): r for r in resources},
        grants={armid.key(g.id): g for g in grants},
        requests=7,
    )


def plan(d: DesiredState, state: LiveState, **kwargs: object) -> Plan:
    return compute_plan(d, state, now=NOW, **kwargs)  # type: ignore[arg-type]


def by_address(p: Plan) -> dict[str, tuple[tuple[str, ...], str]]:
    """address -> (actions, reason): what most assertions are about."""
    return {c.address: (tuple(c.actions), c.reason) for c in p.changes}
