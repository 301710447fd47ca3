"""Read the live state that a DesiredState is about, in bulk, cheaply.

A plan must not cost one request per object: the estate is read with one paged list of
user-assigned identities per subscription and one paged list of role assignments per
subscription (plus one per management group the specs name). Only what cannot be listed is read
singly: the identity block of each resource the specs name, and the federated credentials of
each existing identity whose spec manages them (ARM has no bulk list of credentials; the plan
must see out-of-band credentials to remove them). Calls run concurrently, bounded by
`parallelism`.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, TypeVar

from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest
from azure.mgmt.core.exceptions import ARMErrorFormat

from identity_reconciler.azure import convert, flexible_credentials
from identity_reconciler.azure.clients import Session
from identity_reconciler.azure.errors import NotFound, arm_errors
from identity_reconciler.azure.grant_reads import Sieve, merge
from identity_reconciler.azure.resource_types import canonical_type
from identity_reconciler.core import armid, ownership
from identity_reconciler.core.live import (
    LiveFederatedCredential,
    LiveGrant,
    LiveIdentity,
    LiveResourceIdentity,
    LiveState,
)
from identity_reconciler.core.state import DesiredState, PrincipalKind

_T = TypeVar("_T")


@dataclass(frozen=True)
class ReadScope:
    """What to read for a DesiredState: derived once, so the choice is testable without ARM."""

    subscriptions: tuple[str, ...]
    management_groups: tuple[str, ...]
    resources: dict[str, str] = field(default_factory=dict)  # resource id -> type
    credentials_of: frozenset[str] = frozenset()  # identity keys whose credentials are compared


def read_scope(desired: DesiredState) -> ReadScope:
    subs: dict[str, None] = {s.lower(): None for s in desired.subscriptions}
    mgs: dict[str, None] = {}
    resources: dict[str, str] = {}

    def note(value: str) -> armid.Scope | None:
        scope = armid.try_parse(value)
        if scope is not None and scope.subscription_id:
            subs.setdefault(scope.subscription_id, None)
        return scope

    for ident in desired.identities.values():
        note(ident.id)
    for res in desired.resources.values():
        if note(res.resource_id) is not None:
            resources[convert.canonical_id(res.resource_id)] = canonical_type(res.resource_type)
    for grant in desired.grants.values():
        scope = note(grant.scope)
        if scope is not None and scope.kind is armid.ScopeKind.MANAGEMENT_GROUP:
            mgs.setdefault(scope.id, None)
        if grant.principal.kind is PrincipalKind.SYSTEM_ASSIGNED:
            pscope = note(grant.principal.id)
            if pscope is not None and pscope.resource_type:
                resources.setdefault(convert.canonical_id(pscope.id), pscope.resource_type)
    # There is no bulk list of credentials in ARM: one request per identity. Read them only
    # where the specs manage them (a `federated_credentials` key, even an empty list).
    creds = frozenset(
        armid.key(i.id)
        for i in desired.identities.values()
        if i.federated_credentials is not None
    )
    return ReadScope(tuple(subs), tuple(mgs), resources, creds)


# --------------------------------------------------------------------------- single calls


MSI_API = "2024-11-30"
AUTHORIZATION_API = "2022-04-01"


def _pages(
    session: Session,
    subscription_id: str,
    path: str,
    api_version: str,
    params: dict[str, str] | None = None,
    *,
    hook: Callable[[dict[str, Any]], Any] | None = None,
) -> Iterator[Any]:
    """The items of a paged ARM list as plain JSON, through the session's SDK pipeline.

    Bulk lists skip the SDK's model layer: deserialising ten thousand role assignments into
    msrest models and back costs close to a millisecond each, more than the whole request.
    Authentication, retries and request counting are the client's, as for every other call.
    Like the SDK, a nextLink keeps its own query (skip token, filter) and our api-version.
    Pages come one after another; a page costs its round trip far more than converting its
    items, so fetching ahead while converting gains nothing measurable. A page (its bytes, text
    and JSON, several MB for 1,000 role assignments) is let go before the next is fetched: with
    every subscription listed at once, two pages per worker was the read's peak memory.
    `hook`, when given, is json's `object_hook`: it sees every object as the page is decoded
    and may replace an item by what it makes of it (or None), so the raw items of a page
    never exist all at once.
    """
    client = session.resources(subscription_id)
    url: str | None = path
    query: dict[str, str] | None = {"api-version": api_version, **(params or {})}
    while url:
        with arm_errors():
            response = client.send_request(HttpRequest("GET", url, params=query))
            if response.status_code != 200:
                raise HttpResponseError(response=response, error_format=ARMErrorFormat)
            text = response.text()
        del response
        body = json.loads(text, object_hook=hook)
        del text
        items: list[Any] = body.get("value") or []
        url = body.get("nextLink") or None
        del body
        yield from items
        del items
        if url and "api-version=" not in urllib.parse.urlsplit(url).query.lower():
            query = {"api-version": api_version}
        else:
            query = None


def list_identities(session: Session, subscription_id: str) -> list[LiveIdentity]:
    path = f"/subscriptions/{subscription_id}/providers/{armid.USER_ASSIGNED_TYPE}"
    return [convert.identity(b) for b in _pages(session, subscription_id, path, MSI_API)]


def list_credentials(session: Session, identity_id: str) -> tuple[LiveFederatedCredential, ...]:
    """An identity's credentials, listed typed at MSI_API; listed again at the version that
    shows expressions only when one of them is flexible (`flexible_credentials`)."""
    scope = armid.parse_scope(identity_id)
    with arm_errors():
        items = session.msi(scope.subscription_id or "").federated_identity_credentials.list(
            scope.resource_group, scope.name
        )
        creds = tuple(convert.federated_credential(m.serialize(keep_readonly=True)) for m in items)
        if any(flexible_credentials.hidden(c) for c in creds):
            return flexible_credentials.list_credentials(session, identity_id)
        return creds


_ASSIGNMENTS = armid.ROLE_ASSIGNMENTS.rstrip("/")  # the list endpoint below a scope


def list_subscription_grants(session: Session, subscription_id: str) -> list[LiveGrant]:
    """Every role assignment that applies to the subscription (at, above and below it)."""
    path = f"/subscriptions/{subscription_id}{_ASSIGNMENTS}"
    return [convert.grant(b) for b in _pages(session, subscription_id, path, AUTHORIZATION_API)]


def list_scope_grants(session: Session, scope: str, subscription_id: str = "") -> list[LiveGrant]:
    """Assignments exactly at `scope` (ARM's atScope() also answers those above it)."""
    path = f"{scope.rstrip('/')}{_ASSIGNMENTS}"
    items = _pages(session, subscription_id, path, AUTHORIZATION_API, {"$filter": "atScope()"})
    grants = [convert.grant(b) for b in items]
    return [g for g in grants if armid.key(g.scope) == armid.key(scope)]


MANAGEMENT_GROUP_API = "2023-04-01"


def list_management_groups(session: Session, subscription_id: str) -> list[str]:
    """The ids of the management groups the caller can see (tenant-wide, one paged list)."""
    path = "/providers/Microsoft.Management/managementGroups"
    items = _pages(session, subscription_id, path, MANAGEMENT_GROUP_API)
    return sorted({str(b["id"]) for b in items if b.get("id")}, key=str.lower)


def get_resource_body(
    session: Session, resource_id: str, resource_type: str
) -> dict[str, Any] | None:
    """A resource's JSON through generic resources, or None when it (or its group) is absent."""
    scope = armid.parse_scope(resource_id)
    sub = scope.subscription_id or ""
    rtype = session.resource_type(resource_type, sub)
    try:
        with arm_errors():
            body = session.resources(sub).resources.get_by_id(
                resource_id, api_version=rtype.api_version
            )
            return dict(body.as_dict())
    except NotFound:
        return None


def list_system_identities(session: Session, subscription_id: str) -> list[tuple[str, str]]:
    """(resource name, principal id), lower case, of every system-assigned identity there.

    One paged generic-resources list: ARM's list answers carry each resource's `identity`
    block, so no resource is read singly.
    """
    with arm_errors():
        items = [dict(r.as_dict()) for r in session.resources(subscription_id).resources.list()]
    out: list[tuple[str, str]] = []
    for body in items:
        block = body.get("identity") or {}
        pid = block.get("principal_id") or block.get("principalId")
        if pid and "systemassigned" in str(block.get("type", "")).lower().replace(" ", ""):
            out.append((str(body.get("name", "")).lower(), str(pid).lower()))
    return out


def list_system_principals(session: Session, subscription_id: str) -> set[str]:
    """The principal ids of every system-assigned identity in a subscription (lower case)."""
    return {pid for _, pid in list_system_identities(session, subscription_id)}


def read_resource(session: Session, resource_id: str, resource_type: str) -> LiveResourceIdentity:
    rtype = canonical_type(resource_type)
    body = get_resource_body(session, resource_id, rtype)
    return convert.resource_identity(resource_id, rtype, body)


# --------------------------------------------------------------------------- the bulk read


def read_live(
    session: Session,
    desired: DesiredState,
    *,
    parallelism: int = 16,
) -> LiveState:
    """The LiveState relevant to `desired`.

    Kept: identities in the specs and identities we own; grants at or below the specs'
    subscriptions (or at the management groups they name) whose principal is one we know of,
    or that we own by name or marker (`grant_reads.Sieve`); the identity blocks of the
    resources the specs name. Federated credentials are read for the live identities whose
    spec manages them (`read_scope`); others keep None ("not read").

    Every subscription's lists run side by side; the workers are mostly waiting on ARM, so
    there are more of them than cores.
    """
    before = session.requests
    plan = read_scope(desired)
    wanted_ids = {armid.key(i) for i in desired.identities}
    wanted_ids |= {armid.key(i.id) for i in desired.identities.values()}
    sieve = Sieve(plan.subscriptions, plan.management_groups)

    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:

        def submit(fn: Callable[..., _T], *args: Any) -> Future[_T]:
            return pool.submit(fn, session, *args)

        # First in the queue: what the sieve waits for, so no waiting worker holds it back.
        ident_futs = [submit(list_identities, s) for s in plan.subscriptions]
        res_futs = {rid: submit(read_resource, rid, t) for rid, t in plan.resources.items()}
        grant_futs = [submit(_sift_subscription, sieve, s) for s in plan.subscriptions]
        first_sub = plan.subscriptions[0] if plan.subscriptions else ""
        grant_futs += [submit(_sift_scope, sieve, mg, first_sub) for mg in plan.management_groups]
        try:
            identities: dict[str, LiveIdentity] = {}
            every_principal: set[str] = set()  # of every user-assigned identity listed
            clients: set[str] = set()
            names: set[str] = set()
            for ident in _results(ident_futs, pool):
                for live in ident:
                    every_principal.add(live.principal_id.lower())
                    clients.add(live.client_id.lower())
                    names.add(live.name.lower())
                    k = armid.key(live.id)
                    if k in wanted_ids or ownership.is_owned_identity(live.tags):
                        identities[k] = live
            cred_futs = {
                k: submit(list_credentials, live.id)
                for k, live in identities.items()
                if k in plan.credentials_of
            }
            resources = dict(zip(res_futs, _results(list(res_futs.values()), pool), strict=True))
            principals = {i.principal_id for i in identities.values() if i.principal_id}
            principals |= {
                r.system_principal_id for r in resources.values() if r.system_principal_id
            }
            sieve.open(principals)
        finally:
            sieve.abort()  # a no-op once open; otherwise frees the workers waiting on it
        grants = merge(_results(grant_futs, pool))
        creds = dict(zip(cred_futs, _results(list(cred_futs.values()), pool), strict=True))

    for k, fics in creds.items():
        identities[k] = convert.identity_with_credentials(identities[k], fics)
    live_resources = {armid.key(r.resource_id): r for r in resources.values()}
    known = every_principal | {p.lower() for p in principals}
    if any(_maybe_orphan(g, known) for g in grants.values()):
        known |= _orphan_evidence(session, plan.subscriptions, known, grants, parallelism)
    tenant = next((i.tenant_id for i in identities.values() if i.tenant_id), "")
    if not tenant and plan.subscriptions:
        tenant = session.tenant_id(plan.subscriptions[0])
    return LiveState(
        tenant_id=tenant,
        identities=identities,
        resources=live_resources,
        grants=grants,
        principals=frozenset(known),
        principals_complete=True,
        client_ids=frozenset(clients),
        identity_names=frozenset(names),
        requests=session.requests - before,
        assignment_counts=sieve.counts(),
    )


def _orphan_evidence(
    session: Session,
    read: tuple[str, ...],
    known: set[str],
    grants: dict[str, LiveGrant],
    parallelism: int,
) -> set[str]:
    """More principals that exist, asked for only while an owned grant's principal is unknown.

    First every system-assigned principal of the subscriptions read (one paged list each);
    then, for what is still unknown, the identities of every other subscription these
    credentials can see (one list of subscriptions, then two lists per subscription), since
    a grant here may be for an identity elsewhere: an orphan is proven, never guessed.
    """
    found: set[str] = set()
    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        futs = [pool.submit(list_system_principals, session, s) for s in read]
        for principals in _results(futs, pool):
            found |= principals
        if not any(_maybe_orphan(g, known | found) for g in grants.values()):
            return found
        with arm_errors():
            visible = {
                str(s.subscription_id).lower()
                for s in session.subscriptions().subscriptions.list()
                if s.subscription_id
            }
        others = sorted(visible - {s.lower() for s in read})
        idents = [pool.submit(list_identities, session, s) for s in others]
        systems = [pool.submit(list_system_principals, session, s) for s in others]
        for listed in _results(idents, pool):
            found |= {i.principal_id.lower() for i in listed if i.principal_id}
        for principals in _results(systems, pool):
            found |= principals
    return found


def _maybe_orphan(grant: LiveGrant, known: set[str]) -> bool:
    return (
        grant.principal_id.lower() not in known
        and ownership.DESCRIPTION_MARKER in (grant.description or "")
        and ownership.is_owned_assignment(
            grant.name, grant.scope, grant.role_definition_guid, grant.principal_id
        )
    )


def _sift_subscription(session: Session, sieve: Sieve, subscription_id: str) -> list[LiveGrant]:
    path = f"/subscriptions/{subscription_id}/providers/Microsoft.Authorization/roleAssignments"
    kept = _pages(session, subscription_id, path, AUTHORIZATION_API, hook=sieve.hook)
    return [g for g in kept if isinstance(g, LiveGrant)]  # None: sifted out


def _sift_scope(
    session: Session, sieve: Sieve, scope: str, subscription_id: str
) -> list[LiveGrant]:
    path = f"{scope.rstrip('/')}/providers/Microsoft.Authorization/roleAssignments"
    items = _pages(session, subscription_id, path, AUTHORIZATION_API, {"$filter": "atScope()"})
    return [g for g in sieve.sift(items) if armid.key(g.scope) == armid.key(scope)]


def _results(futures: list[Future[_T]], pool: ThreadPoolExecutor) -> list[_T]:
    """Results in order; on the first failure, cancel what has not started and raise it."""
    done, _ = wait(futures, return_when=FIRST_EXCEPTION)
    for fut in done:
        exc = fut.exception()
        if exc is not None:
            pool.shutdown(wait=False, cancel_futures=True)
            raise exc
    return [f.result() for f in futures]
