"""DesiredState x LiveState -> Plan.

The diff runs in dependency order — identities (and their federated credentials), then the
identity blocks of resources, then grants — because each phase needs what the previous one
decided: a grant's principal id is unknown until we know whether its identity is created, and
whether a principal is ours decides whether its grants may be deleted. Everything is indexed
once, so the cost is linear in the size of the two states.
"""

from __future__ import annotations

from datetime import UTC, datetime

from identity_reconciler import __version__
from identity_reconciler.core import armid
from identity_reconciler.core.live import LiveState
from identity_reconciler.core.state import DesiredState
from identity_reconciler.plan import limits, protect, safety
from identity_reconciler.plan.context import DiffContext
from identity_reconciler.plan.diff_grants import plan_grants
from identity_reconciler.plan.diff_identities import plan_identities
from identity_reconciler.plan.diff_resources import plan_resources
from identity_reconciler.plan.model import (
    FORMAT_VERSION,
    Diagnostic,
    Options,
    Plan,
    Summary,
    Target,
)


def compute_plan(
    desired: DesiredState,
    live: LiveState,
    *,
    adopt: bool = False,
    destroy: bool = False,
    cloud: str = "local",
    now: datetime | None = None,
) -> Plan:
    """The changes that make `live` match `desired`, with notices, errors and a safety verdict.

    `adopt` accepts unowned live objects equal to desired ones instead of refusing them.
    `destroy` only records that `desired` came from `plan.destroy.destroy_state`.
    `now` fixes `created_at` (tests, reproducible output).
    """
    ctx = DiffContext(desired, live, adopt=adopt)
    plan_identities(ctx)
    plan_resources(ctx)
    plan_grants(ctx)
    protect.check_identities(ctx)
    changes = ctx.changes()
    near, over = limits.check(changes, live)
    ctx.notices += near
    ctx.errors += over
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return Plan.sealed(
        format_version=FORMAT_VERSION,
        tool_version=__version__,
        created_at=stamp,
        target=Target(
            cloud=cloud,
            tenant_id=live.tenant_id,
            subscriptions=_target_subscriptions(desired, ctx.subscriptions),
        ),
        spec_digest=desired.digest,
        options=Options(adopt=adopt, destroy=destroy),
        live_requests=live.requests,
        changes=changes,
        notices=tuple(sorted(ctx.notices, key=_diagnostic_order)),
        errors=tuple(sorted(ctx.errors, key=_diagnostic_order)),
        summary=Summary.of(changes),
        safety=safety.evaluate(changes, existing=ctx.existing, policy=desired.safety),
    )


def _target_subscriptions(desired: DesiredState, subs: tuple[str, ...]) -> tuple[str, ...]:
    """The specs' subscriptions, plus those their grant scopes lie in: apply keeps every write
    inside these (`plan/binding.py`) and checks each belongs to the plan's tenant."""
    out = set(subs)
    for grant in desired.grants.values():
        scope = armid.try_parse(grant.scope)
        if scope is not None and scope.subscription_id:
            out.add(scope.subscription_id)
    return tuple(sorted(out))


def _diagnostic_order(d: Diagnostic) -> tuple[str, int, int, str, str]:
    """File order (line 3 before line 12), then address: the order people read specs in."""
    file, line, column = d.source or "", 0, 0
    parts = file.rsplit(":", 2)
    if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
        file, line, column = parts[0], int(parts[1]), int(parts[2])
    return (file, line, column, d.address or "", d.message)
