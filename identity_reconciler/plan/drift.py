"""Drift: where live Azure and the specs disagree, told as what is live versus what git says.

Drawn from the same diff as `plan` — every change a plan would make is a difference — plus what
a plan deliberately leaves alone but a person must hear about: role assignments on identities
the specs manage that identity-reconciler did not make (granted by hand; never deleted by us,
so never in a plan), and identities in the specs that are live without the ownership tag.

Each item says which side has what, whether `drift --fix` can correct it (only what the plan
would change), and why not when it cannot.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from identity_reconciler.core import armid, ownership
from identity_reconciler.core.live import LiveGrant, LiveState
from identity_reconciler.core.state import AcknowledgedGrant, DesiredState, PrincipalKind
from identity_reconciler.plan import render_common as rc
from identity_reconciler.plan.diff_grants import is_owned, live_guid
from identity_reconciler.plan.model import KNOWN_AFTER_APPLY, Change, Diagnostic, Plan
from identity_reconciler.plan.names import Namer, role_name


class Drift(StrEnum):
    """One vocabulary for drift, in code, output and docs; signs as in a plan of the fix."""

    MISSING = "missing"  # the specs declare it, live has none: --fix creates it (+)
    EXTRA = "extra"  # ours and live, no spec declares it: --fix deletes it (-)
    CHANGED = "changed"  # both have it, and they differ: --fix updates it (~)
    NOT_OWNED = "not_owned"  # the specs declare it, live has it without our mark (!)
    UNMANAGED = "unmanaged"  # a grant to a managed identity made outside git: never deleted (!)
    ACKNOWLEDGED = "acknowledged"  # an unmanaged grant the specs acknowledge until a date (=)

    @property
    def symbol(self) -> str:
        return _SYMBOLS[self]

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


_SYMBOLS = {
    Drift.MISSING: "+",
    Drift.EXTRA: "-",
    Drift.CHANGED: "~",
    Drift.NOT_OWNED: "!",
    Drift.UNMANAGED: "!",
    Drift.ACKNOWLEDGED: "=",
}

_MISSING_HINT = {
    "identity": "deleted outside git?",
    "federated_credential": "removed outside git?",
    "attachment": "detached outside git?",
    "system_assigned": "switched off outside git?",
    "grant": "removed outside git?",
}
_EXTRA_HINT = {
    "identity": "owned by identity-reconciler, but no spec declares it any more",
    "federated_credential": "added outside git?",
    "attachment": "attached outside git?",
    "system_assigned": "switched on outside git?",
    "grant": "made by identity-reconciler, but no spec declares it any more",
}
HAND_GRANT = "hand_grant"
NOT_OWNED_CODES = frozenset({"takeover_refused", "adoption_blocked"})


@dataclass(frozen=True)
class DriftItem:
    address: str
    kind: str  # a ChangeKind value
    drift: Drift
    summary: str
    details: tuple[str, ...] = ()
    fixable: bool = True
    why_not: str | None = None  # when not fixable
    source: str | None = None
    reason: str | None = None  # the plan's reason, when the item comes from a change

    def to_dict(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "kind": self.kind,
            "drift": self.drift.value,
            "summary": self.summary,
            "details": list(self.details),
            "fixable": self.fixable,
            "why_not": self.why_not,
            "source": self.source,
            "reason": self.reason,
        }


@dataclass
class DriftReport:
    items: list[DriftItem] = field(default_factory=list)
    notices: list[Diagnostic] = field(default_factory=list)
    errors: list[Diagnostic] = field(default_factory=list)
    target: Mapping[str, Any] = field(default_factory=dict)
    created_at: str = ""
    spec_digest: str = ""
    live_requests: int = 0

    @property
    def has_drift(self) -> bool:
        """Acknowledged grants are reported but are not drift (until they expire)."""
        return any(i.drift is not Drift.ACKNOWLEDGED for i in self.items)

    @property
    def fixable(self) -> list[DriftItem]:
        return [i for i in self.items if i.fixable]

    def counts(self) -> dict[str, int]:
        out = {d.value: 0 for d in Drift}
        for item in self.items:
            out[item.drift.value] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "drift": self.has_drift,
            "counts": self.counts(),
            "fixable": len(self.fixable),
            "items": [i.to_dict() for i in self.items],
            "notices": [n.model_dump(mode="json") for n in self.notices],
            "errors": [e.model_dump(mode="json") for e in self.errors],
            "target": dict(self.target),
            "created_at": self.created_at,
            "spec_digest": self.spec_digest,
            "live_requests": self.live_requests,
        }


# --------------------------------------------------------------------------- from changes


def _details(change: Change) -> tuple[str, ...]:
    before: Mapping[str, Any] = change.before or {}
    after: Mapping[str, Any] = change.after or {}
    if change.actions == ("create",):
        return tuple(f"specs: {k} = {rc.value(v)}" for k, v in sorted(after.items()) if v)
    if change.actions == ("delete",):
        return tuple(f"live: {k} = {rc.value(v)}" for k, v in sorted(before.items()) if v)
    out: list[str] = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if new in (old, KNOWN_AFTER_APPLY):
            continue
        if isinstance(old, Mapping) and isinstance(new, Mapping):
            for sub in sorted(set(old) | set(new)):
                was, wants = old.get(sub), new.get(sub)
                if was != wants:
                    out.append(f"{key}.{sub}: live {rc.value(was)}, specs {rc.value(wants)}")
        else:
            out.append(f"{key}: live {rc.value(old)}, specs {rc.value(new)}")
    return tuple(out)


def _reason_text(reason: str) -> str:
    """`update_because_tags_differ` -> `tags differ`."""
    return reason.split("_because_", 1)[-1].replace("_", " ")


def item_of_change(change: Change) -> DriftItem:
    kind = change.kind.value
    if change.actions == ("create",):
        drift = Drift.MISSING
        summary = f"in the specs, missing live ({_MISSING_HINT.get(kind, 'changed outside git?')})"
    elif change.actions == ("delete",):
        drift = Drift.EXTRA
        hint = _EXTRA_HINT.get(kind, "changed outside git?")
        if change.reason == "delete_because_principal_deleted":
            hint = "made by identity-reconciler for a principal that no longer exists"
        summary = f"live, not in the specs ({hint})"
    elif change.reason == "update_because_adopted":
        drift = Drift.NOT_OWNED
        summary = "live without the ownership tag; --fix adopts it (adds the tag)"
    else:
        drift = Drift.CHANGED
        summary = f"live differs from the specs: {_reason_text(change.reason)}"
        if change.is_replace:
            summary += " (fixing it deletes and re-creates it)"
    return DriftItem(
        address=change.address,
        kind=kind,
        drift=drift,
        summary=summary,
        details=_details(change),
        source=change.source,
        reason=change.reason,
    )


# --------------------------------------------------------------------------- beyond the plan


def _managed_principals(
    desired: DesiredState, live: LiveState, names: Namer, *, adopt: bool
) -> dict[str, str]:
    """Live principal id -> the name used in addresses, for the principals the specs manage."""
    out: dict[str, str] = {}
    live_identities = {armid.key(i.id): i for i in live.identities.values()}
    for ident in desired.identities.values():
        found = live_identities.get(armid.key(ident.id))
        if found is None or not found.principal_id:
            continue
        if adopt or ownership.is_owned_identity(found.tags):
            out[found.principal_id.lower()] = names.identity(found.id)
    live_resources = {armid.key(r.resource_id): r for r in live.resources.values()}
    for res in desired.resources.values():
        found_res = live_resources.get(armid.key(res.resource_id))
        if res.system_assigned and found_res is not None and found_res.system_principal_id:
            out[found_res.system_principal_id.lower()] = names.scope(res.resource_id)
    return out


def _desired_keys(desired: DesiredState, live: LiveState) -> set[tuple[str, str, str]]:
    """(scope, role, principal id) of every desired grant whose principal is live."""
    identities = {armid.key(i.id): i.principal_id for i in live.identities.values()}
    systems = {
        armid.key(r.resource_id): r.system_principal_id or "" for r in live.resources.values()
    }
    out: set[tuple[str, str, str]] = set()
    for g in desired.grants.values():
        table = identities if g.principal.kind is PrincipalKind.USER_ASSIGNED else systems
        pid = table.get(armid.key(g.principal.id))
        if pid:
            out.add((armid.key(g.scope), g.role_definition_guid.lower(), pid.lower()))
    return out


def hand_grants(
    desired: DesiredState,
    live: LiveState,
    names: Namer,
    *,
    adopt: bool = False,
    today: date | None = None,
) -> list[DriftItem]:
    """Role assignments on managed identities that identity-reconciler did not make and the
    specs do not declare: a plan never deletes them (not ours), so only drift reports them,
    as unmanaged, or as acknowledged while the specs acknowledge them."""
    principals = _managed_principals(desired, live, names, adopt=adopt)
    wanted = _desired_keys(desired, live)
    acks = acknowledgments(desired, live)
    day = (today or datetime.now(UTC).date()).isoformat()
    items: list[DriftItem] = []
    for grant in sorted(live.grants.values(), key=lambda g: armid.key(g.id)):
        pid = grant.principal_id.lower()
        if pid not in principals or is_owned(grant):
            continue
        guid = live_guid(grant)
        key = (armid.key(grant.scope), guid, pid)
        if key in wanted:
            continue  # equal to a desired grant: the plan's grant_not_owned notice covers it
        item = _hand_grant_item(grant, principals[pid], guid, names)
        ack = acks.get(key)
        if ack is not None:
            item = _acknowledged(item, ack, expired=day > ack.expires)
        items.append(item)
    return items


def acknowledgments(
    desired: DesiredState, live: LiveState
) -> dict[tuple[str, str, str], AcknowledgedGrant]:
    """(scope, role GUID, live principal id) -> the acknowledgment, for principals that are live."""
    identities = {armid.key(i.id): i.principal_id for i in live.identities.values()}
    systems = {
        armid.key(r.resource_id): r.system_principal_id or "" for r in live.resources.values()
    }
    out: dict[tuple[str, str, str], AcknowledgedGrant] = {}
    for ack in desired.acknowledged:
        pid = ack.principal_id
        if ack.principal is not None:
            table = identities if ack.principal.kind is PrincipalKind.USER_ASSIGNED else systems
            pid = table.get(armid.key(ack.principal.id))
        if pid:
            out[(armid.key(ack.scope), ack.role_definition_guid.lower(), pid.lower())] = ack
    return out


def _acknowledged(item: DriftItem, ack: AcknowledgedGrant, *, expired: bool) -> DriftItem:
    where = f" ({ack.source})" if ack.source else ""
    if expired:
        return dataclasses.replace(
            item,
            summary=f"{item.summary}; its acknowledgment expired on {ack.expires}",
            details=(*item.details, f"acknowledged{where}: {ack.reason}"),
            source=str(ack.source) if ack.source else None,
        )
    return dataclasses.replace(
        item,
        drift=Drift.ACKNOWLEDGED,
        summary=f"made outside git, acknowledged until {ack.expires}: {ack.reason}",
        source=str(ack.source) if ack.source else None,
        why_not="acknowledged in the specs; not drift until it expires",
        reason="acknowledged",
    )


def _hand_grant_item(grant: LiveGrant, principal: str, guid: str, names: Namer) -> DriftItem:
    role = role_name(guid)
    details = [f"live: role assignment {grant.id}"]
    if grant.principal_type:
        details.append(f"live: principal_type = {rc.value(grant.principal_type)}")
    if grant.description:
        details.append(f"live: description = {rc.value(grant.description)}")
    if grant.condition:
        details.append(f"live: condition = {rc.value(grant.condition)}")
    return DriftItem(
        address=names.grant_address(principal, role, grant.scope),
        kind="grant",
        drift=Drift.UNMANAGED,
        summary=f"live, not in the specs: {role} granted outside git",
        details=tuple(details),
        fixable=False,
        why_not="identity-reconciler did not make this role assignment, so --fix never "
        "deletes it; remove it by hand, or declare it in the specs",
        reason=HAND_GRANT,
    )


def _not_owned_item(notice: Diagnostic) -> DriftItem:
    blocked = notice.code == "adoption_blocked"
    return DriftItem(
        address=notice.address or "",
        kind="identity",
        drift=Drift.NOT_OWNED,
        summary="in the specs and live, but without the ownership tag (re-tagged or created "
        "outside git?); nothing about it is compared",
        details=(notice.message,),
        fixable=False,
        why_not="its location differs too; fix the location in the specs"
        if blocked
        else "run drift --fix --adopt to take it over (adds the ownership tag)",
        source=notice.source,
        reason=notice.code,
    )


def drift_report(
    plan: Plan,
    desired: DesiredState,
    live: LiveState,
    *,
    adopt: bool = False,
    today: date | None = None,
) -> DriftReport:
    """The drift between `live` and `desired`, from `plan = compute_plan(desired, live)`.

    `today` decides which acknowledgments have expired (default: today in UTC).
    """
    names = Namer.of(desired)
    items = [item_of_change(c) for c in plan.changes]
    notices: list[Diagnostic] = []
    for notice in plan.notices:
        if notice.code in NOT_OWNED_CODES and notice.address:
            items.append(_not_owned_item(notice))
        else:
            notices.append(notice)
    items += hand_grants(desired, live, names, adopt=adopt, today=today)
    # Grouped by what they are about: an identity's credentials and grants follow it.
    items.sort(key=lambda i: (i.address.partition(".")[2], i.kind, i.address))
    return DriftReport(
        items=items,
        notices=notices,
        errors=list(plan.errors),
        target=plan.target.model_dump(mode="json"),
        created_at=plan.created_at,
        spec_digest=plan.spec_digest,
        live_requests=plan.live_requests,
    )
