"""What a delete takes with it: an identity's federated credentials go when the identity goes.

ARM deletes a user-assigned identity's federated credentials with it, so a plan that deletes
(or re-creates) an identity removes them too, whether or not the specs manage them. The review
must show them: `before` lists each one (name, and subject or expression), so "2 to destroy" on
a rename says which trust relationships end with it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from identity_reconciler.core import armid
from identity_reconciler.core.live import LiveFederatedCredential
from identity_reconciler.plan.model import Change, ChangeKind, Plan

CREDENTIALS = "federated_credentials"


def deleted_identities(plan: Plan) -> list[str]:
    """The ids of the identities `plan` deletes or re-creates."""
    return [
        c.id
        for c in plan.changes
        if c.kind is ChangeKind.IDENTITY and "delete" in c.actions and c.id
    ]


def with_removed_credentials(
    plan: Plan,
    credentials: Mapping[str, Sequence[LiveFederatedCredential]],
    *,
    requests: int = 0,
) -> Plan:
    """`plan` with each identity delete listing the credentials it removes, sealed again.

    `credentials` maps an identity key (`armid.key`) to its live credentials; an identity
    without an entry, or without credentials, is left as it is. `requests` are the reads it
    took, added to the plan's count.
    """
    changed = False
    out: list[Change] = []
    for change in plan.changes:
        creds = credentials.get(armid.key(change.id)) if change.id else None
        if (
            creds
            and change.kind is ChangeKind.IDENTITY
            and "delete" in change.actions
            and change.before is not None
            and CREDENTIALS not in change.before
        ):
            listed = sorted(f"{c.name} ({_matches(c)})" for c in creds)
            out.append(
                change.model_copy(update={"before": {**change.before, CREDENTIALS: listed}})
            )
            changed = True
        else:
            out.append(change)
    if not changed and not requests:
        return plan
    fields = {name: getattr(plan, name) for name in Plan.model_fields if name != "checksum"}
    fields["changes"] = tuple(out)
    fields["live_requests"] = plan.live_requests + requests
    return Plan.sealed(**fields)


def _matches(c: LiveFederatedCredential) -> str:
    expression = c.claims_matching_expression
    return expression.value if expression is not None else c.subject or ""
