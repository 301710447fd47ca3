"""The working state of one diff: indexes over the live estate and the changes drafted so far.

The diff runs in dependency order (identities, then resources, then grants); each phase records
what it decided about the objects later phases depend on (an identity's fate, a resource's
system identity, which principals are ours), so later phases never re-derive it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from identity_reconciler.core import armid, ownership
from identity_reconciler.core.live import LiveIdentity, LiveResourceIdentity, LiveState
from identity_reconciler.core.state import DesiredIdentity, DesiredState, SourceRef
from identity_reconciler.plan.model import (
    KNOWN_AFTER_APPLY,
    Change,
    ChangeKind,
    Diagnostic,
    Operation,
    Principal,
    Reason,
)
from identity_reconciler.plan.names import Namer, estate_subscriptions


class Fate(StrEnum):
    """What the plan does to a user-assigned identity the specs name (or own)."""

    CREATE = "create"
    REPLACE = "replace"
    KEEP = "keep"  # live, and stays (perhaps updated)
    REFUSED = "refused"  # live but not ours: takeover refused, nothing planned for it
    DELETE = "delete"


class SystemFate(StrEnum):
    MISSING = "missing"  # the resource does not exist
    ENABLE = "enable"
    ON = "on"
    DISABLE = "disable"
    OFF = "off"


@dataclass
class ManagedPrincipal:
    """A principal whose owned grants the plan may delete, and how to name them."""

    name: str  # the principal part of a grant address
    group: str
    delete_reason: Reason
    # A change that must wait until the principal's grants are gone (identity delete, system off).
    waits: str | None = None
    # The identity's (or resource's) PrincipalRef key: how prevent_destroy names its grants.
    ref_key: str = ""


@dataclass
class Draft:
    """A change while the diff is still adding dependencies to it."""

    address: str
    kind: ChangeKind
    actions: tuple[str, ...]
    reason: Reason
    group: str
    id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    live_fingerprint: str | None
    operations: tuple[Operation, ...]
    depends_on: set[str] = field(default_factory=set)
    principal: Principal | None = None
    source: str | None = None
    create_before_destroy: tuple[str, ...] = ()

    def freeze(self, present: dict[str, str]) -> Change:
        deps = sorted({present[d.lower()] for d in self.depends_on if d.lower() in present})
        return Change.model_construct(
            address=self.address,
            kind=self.kind,
            actions=self.actions,
            reason=self.reason.value,
            group=self.group,
            id=self.id,
            before=self.before,
            after=self.after,
            live_fingerprint=self.live_fingerprint,
            depends_on=tuple(d for d in deps if d.lower() != self.address.lower()),
            operations=self.operations,
            principal=self.principal,
            source=self.source,
            create_before_destroy=self.create_before_destroy,
        )


def where(source: SourceRef | None) -> str | None:
    return str(source) if source is not None else None


class DiffContext:
    def __init__(self, desired: DesiredState, live: LiveState, *, adopt: bool) -> None:
        self.desired = desired
        self.live = live
        self.adopt = adopt
        self.subscriptions = estate_subscriptions(desired)
        self.names = Namer.of(desired)
        self.desired_identities: dict[str, DesiredIdentity] = {
            armid.key(i.id): i for i in desired.identities.values()
        }
        self.live_identities: dict[str, LiveIdentity] = {
            armid.key(i.id): i for i in live.identities.values()
        }
        self.live_resources: dict[str, LiveResourceIdentity] = {
            armid.key(r.resource_id): r for r in live.resources.values()
        }
        self.identity_fate: dict[str, Fate] = {}
        self.system_fate: dict[str, SystemFate] = {}
        # live principal id (lower case) -> how its owned grants are treated
        self.principals: dict[str, ManagedPrincipal] = {}
        self.live_principals = {p.lower() for p in live.principals}
        self.notices: list[Diagnostic] = []
        self.errors: list[Diagnostic] = []
        self.existing = 0
        self._drafts: dict[str, Draft] = {}
        groups = desired.managed_resource_groups
        self._rg_ids = {armid.key(g) for g in groups if g.startswith("/")}
        self._rg_names = {g.lower() for g in groups if not g.startswith("/")}
        self._subs = {s.lower() for s in desired.managed_subscriptions}

    # ----------------------------------------------------------------- ownership

    def in_managed_group(self, identity: LiveIdentity) -> bool:
        """Owned identities are deletion candidates only inside the managed scope.

        Entries of `managed_resource_groups` are resource group names (any subscription of the
        plan) or resource group ids; `managed_subscriptions` take every group in them. A destroy
        plan names the identities it retires instead.
        """
        if armid.key(identity.id) in self.desired.retiring:
            return True
        if identity.resource_group.lower() in self._rg_names:
            return True
        sub, rg = identity.subscription_id, identity.resource_group
        if sub.lower() in self._subs:
            return True
        return f"/subscriptions/{sub}/resourcegroups/{rg}".lower() in self._rg_ids

    def in_managed_scope(self, scope: str) -> bool:
        """A scope at or below a managed resource group or subscription."""
        parsed = armid.try_parse(scope)
        if parsed is None or not parsed.subscription_id:
            return False
        if parsed.subscription_id.lower() in self._subs:
            return True
        if not parsed.resource_group:
            return False
        if parsed.resource_group.lower() in self._rg_names:
            return True
        group = f"/subscriptions/{parsed.subscription_id}/resourcegroups/{parsed.resource_group}"
        return group.lower() in self._rg_ids

    def is_managed_identity(self, key: str) -> bool:
        """Declared in the specs (and not refused), or owned inside a managed group."""
        fate = self.identity_fate.get(key)
        return fate is not None and fate is not Fate.REFUSED

    # ----------------------------------------------------------------- output

    def notice(self, code: str, message: str, address: str | None, source: str | None) -> None:
        self.notices.append(Diagnostic(code=code, message=message, address=address, source=source))

    def error(self, code: str, message: str, address: str | None, source: str | None) -> None:
        self.errors.append(Diagnostic(code=code, message=message, address=address, source=source))

    def get(self, address: str) -> Draft | None:
        return self._drafts.get(address.lower())

    def add(self, draft: Draft) -> Draft:
        """Record a change. A grant deleted and re-created under one address is a replace."""
        key = draft.address.lower()
        other = self._drafts.get(key)
        if other is None:
            self._drafts[key] = draft
            return draft
        if draft.kind is ChangeKind.GRANT and {other.actions, draft.actions} == {
            ("delete",),
            ("create",),
        }:
            gone, new = (other, draft) if other.actions == ("delete",) else (draft, other)
            merged = Draft(
                address=new.address,
                kind=new.kind,
                actions=("delete", "create"),
                reason=Reason.REPLACE_BECAUSE_PRINCIPAL_REPLACED,
                group=new.group,
                id=new.id,
                before=gone.before,
                after=new.after,
                live_fingerprint=gone.live_fingerprint,
                operations=gone.operations + new.operations,
                depends_on=gone.depends_on | new.depends_on,
                principal=new.principal,
                source=new.source,
            )
            self._drafts[key] = merged
            return merged
        # Two objects that read alike (same names, different types): qualify the newcomer.
        draft.address = f"{draft.address}[{draft.id or KNOWN_AFTER_APPLY}]"
        self._drafts[draft.address.lower()] = draft
        return draft

    def drafts(self) -> list[Draft]:
        return list(self._drafts.values())

    def changes(self) -> tuple[Change, ...]:
        present = {k: d.address for k, d in self._drafts.items()}
        ordered = sorted(self._drafts.values(), key=lambda d: (d.kind.rank, d.address))
        return tuple(d.freeze(present) for d in ordered)


def is_owned_identity(identity: LiveIdentity) -> bool:
    return ownership.is_owned_identity(identity.tags)
