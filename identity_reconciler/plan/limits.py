"""ARM's fixed limit of role assignments per subscription, checked before apply meets it.

Azure allows 4,000 role assignments per subscription (at the subscription, its resource groups
and resources; management groups have their own, lower limit) and refuses the next with
RoleAssignmentLimitExceeded. A plan that would cross it fails half-way through apply, so the
plan counts what is live in each subscription (every principal's assignments, not just ours)
plus what it creates minus what it deletes: a notice from 90 % of the limit, an error past it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from identity_reconciler.core import armid
from identity_reconciler.core.live import LiveState
from identity_reconciler.plan.model import Change, ChangeKind, Diagnostic

ROLE_ASSIGNMENT_LIMIT = 4000
WARN_SHARE = 0.9


def _subscription(scope: object) -> str | None:
    if not isinstance(scope, str):
        return None
    try:
        return armid.parse_scope(scope).subscription_id
    except armid.ArmIdError:
        return None


def live_counts(live: LiveState) -> Counter[str]:
    """Assignments per subscription: the reader's full count, else the grants it kept."""
    counts: Counter[str] = Counter(
        {sub.lower(): n for sub, n in live.assignment_counts.items()}
    )
    for grant in live.grants.values():
        sub = _subscription(grant.scope)
        if sub is not None and sub not in live.assignment_counts:
            counts[sub] += 1
    return counts


def check(
    changes: Iterable[Change], live: LiveState, *, limit: int = ROLE_ASSIGNMENT_LIMIT
) -> tuple[list[Diagnostic], list[Diagnostic]]:
    """(notices, errors) for the subscriptions this plan adds role assignments to."""
    counts = live_counts(live)
    before = Counter(counts)
    added: Counter[str] = Counter()
    for change in changes:
        if change.kind is not ChangeKind.GRANT or change.is_replace:
            continue
        if "create" in change.actions:
            sub = _subscription((change.after or {}).get("scope"))
            if sub is not None:
                counts[sub] += 1
                added[sub] += 1
        elif "delete" in change.actions:
            sub = _subscription((change.before or {}).get("scope"))
            if sub is not None:
                counts[sub] -= 1
    notices: list[Diagnostic] = []
    errors: list[Diagnostic] = []
    for sub in sorted(added):
        after, was = counts[sub], before[sub]
        where = f"subscription {sub}"
        if after > limit:
            errors.append(
                Diagnostic(
                    code="role_assignment_limit",
                    message=(
                        f"{where} would hold {after:,} role assignments ({was:,} live, "
                        f"{added[sub]:,} added by this plan); Azure allows {limit:,} per "
                        "subscription and refuses the rest (RoleAssignmentLimitExceeded) — "
                        "grant to groups of resources (a resource group) instead of each one, "
                        "or remove unused assignments first"
                    ),
                )
            )
        elif after >= WARN_SHARE * limit:
            notices.append(
                Diagnostic(
                    code="role_assignment_limit_near",
                    message=(
                        f"{where} would hold {after:,} of the {limit:,} role assignments Azure "
                        f"allows per subscription ({100.0 * after / limit:.0f} %)"
                    ),
                )
            )
    return notices, errors
