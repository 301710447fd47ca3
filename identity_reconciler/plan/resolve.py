"""Filling in what a plan could only know after apply: a new principal's id in a grant.

A grant for an identity the same plan creates cannot be named at plan time, because its
deterministic name hashes the principal id. Apply learns the id when the identity (or the
system switch) is written and calls `resolve_principal`, which gives the grant its final name,
id and body exactly as the diff would have, had the principal existed.
"""

from __future__ import annotations

from typing import Any

from identity_reconciler.core import armid, ownership
from identity_reconciler.plan.model import KNOWN_AFTER_APPLY, Change, ChangeKind, Operation


def needs_principal(change: Change) -> bool:
    return change.principal is not None and change.principal.principal_id == KNOWN_AFTER_APPLY


def resolve_principal(change: Change, principal_id: str) -> Change:
    """`change` with its known-after-apply principal id filled in (unchanged if already known)."""
    if change.kind is not ChangeKind.GRANT or change.principal is None:
        raise ValueError(f"{change.address} is not a grant; it has no principal to resolve")
    if not needs_principal(change):
        return change
    if not armid.GUID_RE.match(principal_id):
        raise ValueError(f"principal id {principal_id!r} for {change.address} is not a GUID")
    pid = principal_id.lower()
    after = dict(change.after or {})
    scope = str(after["scope"])
    guid = armid.role_definition_guid(str(after["role_definition_id"]))
    name = ownership.assignment_name(scope, guid, pid)
    grant_id = f"{scope}{armid.ROLE_ASSIGNMENTS}{name}"
    after.update(principal_id=pid, name=name)
    operations = tuple(_fill(op, grant_id, pid) for op in change.operations)
    principal = change.principal.model_copy(update={"principal_id": pid})
    return change.model_copy(
        update={"after": after, "id": grant_id, "operations": operations, "principal": principal}
    )


def _fill(op: Operation, grant_id: str, principal_id: str) -> Operation:
    if op.id != KNOWN_AFTER_APPLY:
        return op
    body: dict[str, Any] = dict(op.body or {})
    props = dict(body.get("properties") or {})
    props["principalId"] = principal_id
    body["properties"] = props
    return op.model_copy(update={"id": grant_id, "body": body})
