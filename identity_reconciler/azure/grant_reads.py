"""The role assignments a plan needs, listed in parallel and sifted page by page.

A subscription's list holds every assignment in it, ours or not: on a realistic estate half or
more are someone else's. Building a `LiveGrant` (canonical scope, role id) for each and then
asking whether it is ours cost more CPU than the rest of the read. So each raw item is sifted
as its page arrives, in the worker that fetched it, and only what the plan can use is built:

- its principal is one we know (an identity in or owned by the specs, a system-assigned
  identity the specs name): kept;
- its description carries our marker: built, kept if in scope;
- its name is a version-5 UUID: built and checked against the name we would have given it
  (an owned grant whose description someone edited); any other name cannot be ours, and the
  uuid5 hash is never computed for it;
- anything else is dropped as it comes: each item is sifted while its page is decoded
  (json's `object_hook`), so a page's raw items never pile up in memory.

Principals are known once the identity lists are in; a worker whose first page comes earlier
waits for them (`Sieve.open`). The reader submits the identity lists first, so the workers
that wait never hold back the lists they wait for.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import Any

from identity_reconciler.azure import convert
from identity_reconciler.core import armid, ownership
from identity_reconciler.core.live import LiveGrant


class ReadAborted(Exception):
    """Another part of the read failed; the sifting workers stop without their result."""


class Sieve:
    """Which raw role assignments a plan keeps: see the module docstring."""

    def __init__(self, subscriptions: Iterable[str], management_groups: Iterable[str]) -> None:
        self._subs = tuple(f"/subscriptions/{s}".lower() for s in subscriptions)
        self._mgs = frozenset(armid.key(m) for m in management_groups)
        self._principals: frozenset[str] = frozenset()
        self._ready = threading.Event()
        self._aborted = False
        # Every assignment listed at or below each subscription, ours or not: ARM's limit of
        # 4,000 per subscription counts them all (one per id: the lists do not overlap there).
        self._counts = dict.fromkeys(self._subs, 0)
        self._count_lock = threading.Lock()

    def counts(self) -> dict[str, int]:
        """Assignments listed at or below each subscription (key: the subscription id)."""
        with self._count_lock:
            return {s.rsplit("/", 1)[-1]: n for s, n in self._counts.items()}

    def _count(self, assignment_id: str) -> None:
        key = assignment_id.lower()
        for sub in self._subs:
            if key.startswith(sub + "/"):
                with self._count_lock:
                    self._counts[sub] += 1
                return

    def open(self, principals: Iterable[str]) -> None:
        """The principals are known: waiting workers go on."""
        self._principals = frozenset(p.lower() for p in principals if p)
        self._ready.set()

    def abort(self) -> None:
        """The read failed elsewhere: waiting workers stop (ReadAborted). No-op once open."""
        if not self._ready.is_set():
            self._aborted = True
            self._ready.set()

    def _wait(self) -> None:
        self._ready.wait()
        if self._aborted:
            raise ReadAborted("the read failed elsewhere")

    def in_scope(self, grant: LiveGrant) -> bool:
        key = armid.key(grant.scope)
        if key in self._mgs:
            return True
        return any(key == s or key.startswith(s + "/") for s in self._subs)

    def keep(self, body: dict[str, Any]) -> LiveGrant | None:
        self._count(str(body.get("id") or ""))
        props = body.get("properties") or {}
        principal = str(props.get("principalId") or "").lower()
        if principal in self._principals or ownership.DESCRIPTION_MARKER in str(
            props.get("description") or ""
        ):
            grant = convert.grant(body)
        elif ownership.may_be_owned_name(str(body.get("name") or "")):
            grant = convert.grant(body)
            if not ownership.is_owned_assignment(
                grant.name, grant.scope, grant.role_definition_guid, grant.principal_id
            ):
                return None
        else:
            return None
        return grant if self.in_scope(grant) else None

    def hook(self, obj: dict[str, Any]) -> Any:
        """json's `object_hook` for a page of role assignments: each assignment is sifted as
        soon as it is decoded, so a page's raw items are never all held at once (15
        subscriptions' pages in flight were the largest part of the read's peak memory)."""
        if "properties" not in obj or "id" not in obj:
            return obj  # a page, or an assignment's properties
        if not self._ready.is_set():
            self._wait()
        return self.keep(obj)

    def sift(self, items: Iterator[dict[str, Any]]) -> list[LiveGrant]:
        """The grants kept from a stream of raw items (a paged list, as its pages come)."""
        out: list[LiveGrant] = []
        for body in items:
            if not self._ready.is_set():
                self._wait()
            grant = self.keep(body)
            if grant is not None:
                out.append(grant)
        return out


def merge(lists: Iterable[list[LiveGrant]]) -> dict[str, LiveGrant]:
    """One entry per assignment id (lists that overlap name an assignment more than once)."""
    return {armid.key(g.id): g for grants in lists for g in grants}
