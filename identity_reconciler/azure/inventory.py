"""Read a whole estate, not just what specs name: for `export` and `audit`.

`reader.read_live` starts from specs and reads only what they are about. Export and audit start
from a subscription and must find every user-assigned identity, every resource that holds an
identity, and every role assignment, still in bulk:

- identities: one paged list per subscription (filtered to resource groups here, not by ARM);
- resources with an identity block: one paged generic-resources list per subscription.
  ARM's list answers carry each resource's `identity` block (GenericResourceExpanded has it),
  so no resource is read singly unless its block says SystemAssigned without a principalId;
- role assignments: one paged list per subscription, which shows what applies at, above
  (management groups) and below it; then the management groups the caller sees (one list) and
  the assignments at each, since a management group that holds none of the subscriptions
  read still holds grants of their identities (the broadest grants of an estate);
- federated credentials (optional, export only): one list per identity, as ARM has no bulk list.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from identity_reconciler.azure import convert
from identity_reconciler.azure.clients import Session
from identity_reconciler.azure.errors import ArmRequestError, arm_errors
from identity_reconciler.azure.reader import (
    list_credentials,
    list_identities,
    list_management_groups,
    list_scope_grants,
    list_subscription_grants,
    read_resource,
)
from identity_reconciler.azure.resource_types import canonical_type
from identity_reconciler.core import armid
from identity_reconciler.core.live import LiveGrant, LiveIdentity, LiveResourceIdentity, LiveState

_T = TypeVar("_T")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EstateScope:
    """Which part of Azure to read: subscriptions, optionally narrowed to resource groups.

    `resource_groups` narrows identities and system-assigned resources; attachments and grants
    of the identities kept are read wherever they are in the subscriptions.
    """

    subscriptions: tuple[str, ...]
    resource_groups: frozenset[str] = frozenset()  # lower-case names; empty: all

    def holds(self, resource_group: str | None) -> bool:
        return not self.resource_groups or (resource_group or "").lower() in self.resource_groups


def list_subscriptions(session: Session) -> list[str]:
    """Every subscription the caller can see (lower-case ids), sorted."""
    with arm_errors():
        items = list(session.subscriptions().subscriptions.list())
    return sorted({str(s.subscription_id).lower() for s in items if s.subscription_id})


def _has_identity(body: dict[str, Any]) -> bool:
    block = body.get("identity") or {}
    return bool(armid.normalise_identity_type(block.get("type")))


def list_resource_identities(session: Session, subscription_id: str) -> list[LiveResourceIdentity]:
    """The identity blocks of every resource in a subscription that has one.

    User-assigned identities are resources too, but never hold identities: left out.
    """
    with arm_errors():
        items = [dict(r.as_dict()) for r in session.resources(subscription_id).resources.list()]
    out: list[LiveResourceIdentity] = []
    for body in items:
        rtype = canonical_type(str(body.get("type", "")))
        if rtype.lower() == armid.USER_ASSIGNED_TYPE.lower() or not _has_identity(body):
            continue
        live = convert.resource_identity(str(body["id"]), rtype, body)
        system = bool(live.identity_type and "SystemAssigned" in live.identity_type)
        if system and not live.system_principal_id:  # a provider whose list omits it
            live = read_resource(session, live.resource_id, rtype)
        out.append(live)
    return out


def read_estate(
    session: Session,
    scope: EstateScope,
    *,
    credentials: bool = False,
    management_groups: bool = True,
    parallelism: int = 8,
) -> LiveState:
    """Everything identity-related in `scope`, as one LiveState.

    Kept: user-assigned identities in scope; resources with an identity block that are in
    scope or hold an identity in scope; every role assignment the subscription lists (callers
    decide which principals matter). `principals` holds every identity principal found.
    """
    before = session.requests
    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:

        def submit(fn: Callable[..., _T], *args: Any) -> Future[_T]:
            return pool.submit(fn, session, *args)

        ident_futs = [submit(list_identities, s) for s in scope.subscriptions]
        res_futs = [submit(list_resource_identities, s) for s in scope.subscriptions]
        grant_futs = [submit(list_subscription_grants, s) for s in scope.subscriptions]
        identities = {
            armid.key(i.id): i for i in _flatten(ident_futs) if scope.holds(i.resource_group)
        }
        cred_futs = (
            {k: submit(list_credentials, i.id) for k, i in identities.items()}
            if credentials
            else {}
        )
        resources = _keep_resources(_flatten(res_futs), scope, identities)
        grants = {armid.key(g.id): g for g in _flatten(grant_futs)}
        if management_groups and scope.subscriptions:
            for g in _management_group_grants(session, pool, scope.subscriptions[0]):
                grants.setdefault(armid.key(g.id), g)
        for k, fut in cred_futs.items():
            identities[k] = convert.identity_with_credentials(identities[k], fut.result())
    principals = {i.principal_id for i in identities.values() if i.principal_id}
    principals |= {r.system_principal_id for r in resources.values() if r.system_principal_id}
    tenant = next((i.tenant_id for i in identities.values() if i.tenant_id), "")
    if not tenant and scope.subscriptions:
        tenant = session.tenant_id(scope.subscriptions[0])
    return LiveState(
        tenant_id=tenant,
        identities=dict(sorted(identities.items())),
        resources=resources,
        grants=dict(sorted(grants.items())),
        principals=frozenset(principals),
        requests=session.requests - before,
    )


def _management_group_grants(
    session: Session, pool: ThreadPoolExecutor, subscription_id: str
) -> list[LiveGrant]:
    """Assignments at every management group the caller can see; none when it sees none.

    A caller without read access to management groups (403) gets the subscription lists'
    view only, which still holds the groups above the subscriptions read.
    """
    try:
        groups = list_management_groups(session, subscription_id)
    except ArmRequestError as exc:
        if exc.status in (401, 403, 404):
            log.warning("management groups not read (%s): %s", exc.code, exc.message)
            return []
        raise
    futures = [pool.submit(list_scope_grants, session, mg, subscription_id) for mg in groups]
    out: list[LiveGrant] = []
    for mg, fut in zip(groups, futures, strict=True):
        try:
            out += fut.result()
        except ArmRequestError as exc:
            if exc.status not in (401, 403, 404):
                raise
            log.warning("role assignments at %s not read (%s)", mg, exc.code)
    return out


def _keep_resources(
    found: Iterable[LiveResourceIdentity],
    scope: EstateScope,
    identities: dict[str, LiveIdentity],
) -> dict[str, LiveResourceIdentity]:
    out: dict[str, LiveResourceIdentity] = {}
    for res in found:
        parsed = armid.parse_scope(res.resource_id)
        holds_ours = any(k in identities for k in res.user_assigned)
        if scope.holds(parsed.resource_group) or holds_ours:
            out[armid.key(res.resource_id)] = res
    return dict(sorted(out.items()))


def _flatten(futures: list[Future[list[_T]]]) -> list[_T]:
    return [item for fut in futures for item in fut.result()]


def grants_of(live: LiveState, principal_ids: Iterable[str]) -> list[LiveGrant]:
    """The role assignments of some principals, in a stable order (scope, role, name)."""
    wanted = {p.lower() for p in principal_ids if p}
    return sorted(
        (g for g in live.grants.values() if g.principal_id.lower() in wanted),
        key=lambda g: (armid.key(g.scope), g.role_definition_guid, g.name),
    )


def missing_resource_groups(
    session: Session, subscription_id: str, names: Iterable[str]
) -> list[str]:
    """The names among `names` that are not resource groups of the subscription."""
    with arm_errors():
        ops = session.resources(subscription_id).resource_groups
        return [n for n in names if not ops.check_existence(n)]
