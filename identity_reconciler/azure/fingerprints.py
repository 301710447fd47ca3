"""Live fingerprints of every object a plan touches, read in bulk before apply writes anything.

Apply refuses a stale plan before its first write, so it must know the current fingerprint of
every object at once. Reading them one by one would cost a request per change; instead this
reads them the way the planner did — one paged list of identities and one of role assignments
per subscription (and per management group), one list of credentials per identity, and one read
per resource whose identity block changes — and converts them as the reader does, so the
fingerprints compare with the plan's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from identity_reconciler.azure import convert
from identity_reconciler.azure.clients import Session
from identity_reconciler.azure.errors import ArmRequestError, NotFound
from identity_reconciler.azure.execute import (
    BLOCK_KINDS,
    FEDERATED_CREDENTIAL,
    GRANT,
    IDENTITY,
    ChangeLike,
    identity_of_credential,
    resource_type_of,
    split_grant_id,
)
from identity_reconciler.azure.live_reads import current_fingerprint
from identity_reconciler.azure.reader import (
    get_resource_body,
    list_credentials,
    list_identities,
    list_scope_grants,
    list_subscription_grants,
)
from identity_reconciler.core import armid


def fingerprint_key(kind: str, object_id: str) -> str:
    """Changes to one resource's identity block share one key (and one fingerprint)."""
    group = "block" if kind in BLOCK_KINDS else kind
    return f"{group}:{armid.key(object_id)}"


class _Wanted:
    """What to read for a set of changes (derived once, before any request)."""

    def __init__(self, changes: Iterable[ChangeLike]) -> None:
        self.keys: set[str] = set()
        self.identity_subs: set[str] = set()
        self.credential_owners: dict[str, str] = {}  # identity key -> identity id
        self.grant_subs: set[str] = set()
        self.grant_groups: set[str] = set()  # management group scopes
        self.single: list[tuple[str, str]] = []  # (kind, id) read one by one
        self.blocks: dict[str, str] = {}  # resource key -> resource id
        for change in changes:
            kind, object_id = str(change.kind), change.id
            if not object_id:
                continue
            self._add(kind, object_id)

    def _add(self, kind: str, object_id: str) -> None:
        if kind == GRANT:
            try:
                scope_text, _ = split_grant_id(object_id)
            except ArmRequestError:
                return  # not yet known (a principal created by this apply): checked later
            self.keys.add(fingerprint_key(kind, object_id))
            scope = armid.try_parse(scope_text)
            if scope is None:
                self.single.append((kind, object_id))
            elif scope.subscription_id:
                self.grant_subs.add(scope.subscription_id)
            else:
                self.grant_groups.add(scope.id)
            return
        self.keys.add(fingerprint_key(kind, object_id))
        if kind == IDENTITY:
            scope = armid.try_parse(object_id)
            if scope is not None and scope.subscription_id:
                self.identity_subs.add(scope.subscription_id)
            else:
                self.single.append((kind, object_id))
        elif kind == FEDERATED_CREDENTIAL:
            owner = identity_of_credential(object_id)
            self.credential_owners[armid.key(owner)] = owner
        elif kind in BLOCK_KINDS:
            self.blocks[armid.key(object_id)] = convert.canonical_id(object_id)
        else:
            self.single.append((kind, object_id))


class _Change:
    def __init__(self, kind: str, object_id: str) -> None:
        self.kind = kind
        self.id: str | None = object_id


def current_fingerprints(
    session: Session, changes: Iterable[ChangeLike], *, parallelism: int = 8
) -> dict[str, str | None]:
    """`fingerprint_key(kind, id)` -> live fingerprint (None: absent) for every change with an
    id; grants whose id is not known yet are left out."""
    wanted = _Wanted(changes)
    found: dict[str, str | None] = {}

    def identities(sub: str) -> dict[str, str | None]:
        return {
            fingerprint_key(IDENTITY, i.id): i.fingerprint for i in list_identities(session, sub)
        }

    def credentials(owner: str) -> dict[str, str | None]:
        try:
            fics = list_credentials(session, owner)
        except NotFound:
            return {}
        return {fingerprint_key(FEDERATED_CREDENTIAL, f.id): f.fingerprint for f in fics}

    def sub_grants(sub: str) -> dict[str, str | None]:
        grants = list_subscription_grants(session, sub)
        return {fingerprint_key(GRANT, g.id): g.fingerprint for g in grants}

    def group_grants(scope: str) -> dict[str, str | None]:
        any_sub = session.subscription_ids[0] if session.subscription_ids else ""
        grants = list_scope_grants(session, scope, any_sub)
        return {fingerprint_key(GRANT, g.id): g.fingerprint for g in grants}

    def block(resource_id: str) -> dict[str, str | None]:
        rtype = resource_type_of(resource_id)
        body = get_resource_body(session, resource_id, rtype)
        live = convert.resource_identity(resource_id, rtype, body)
        return {fingerprint_key("attachment", resource_id): live.fingerprint}

    def single(kind: str, object_id: str) -> dict[str, str | None]:
        return {
            fingerprint_key(kind, object_id): current_fingerprint(session, _Change(kind, object_id))
        }

    jobs: list[tuple[Callable[..., dict[str, str | None]], tuple[Any, ...]]] = []
    jobs += [(identities, (s,)) for s in sorted(wanted.identity_subs)]
    jobs += [(credentials, (o,)) for o in sorted(wanted.credential_owners.values())]
    jobs += [(sub_grants, (s,)) for s in sorted(wanted.grant_subs)]
    jobs += [(group_grants, (g,)) for g in sorted(wanted.grant_groups)]
    jobs += [(block, (r,)) for r in sorted(wanted.blocks.values())]
    jobs += [(single, item) for item in wanted.single]
    if jobs:
        with ThreadPoolExecutor(max_workers=max(1, min(parallelism, len(jobs)))) as pool:
            for part in pool.map(lambda job: job[0](*job[1]), jobs):
                found.update(part)
    return {k: found.get(k) for k in wanted.keys}
