"""Is a saved plan already applied? Then applying it again is success, not a stale plan.

A plan applied once is stale by construction: every object it created now exists, every one it
deleted is gone, every one it updated has a new fingerprint. Its spec digest ties it to the
specs it was made from, so the honest test is to plan those specs again: when the fresh plan
has neither changes nor errors, nor objects it wants that exist but are not ours, every change
of the saved plan already holds, and apply reports "already applied" and exits 0. Without the
specs the question cannot be answered, and the plan stays refused as stale.
"""

from __future__ import annotations

from identity_reconciler.azure.clients import Session
from identity_reconciler.core.state import DesiredState
from identity_reconciler.plan import Plan
from identity_reconciler.plan.destroy import destroy_state
from identity_reconciler.reconcile.live import plan_live

# Notices that say an object the specs want exists but is not ours: the plan did not make it.
NOT_OURS = frozenset({"takeover_refused", "adoption_blocked", "grant_not_owned"})
ALREADY_APPLIED = "Already applied: live Azure matches the specs this plan was made from."


def already_applied(session: Session, desired: DesiredState, plan: Plan) -> bool:
    """True when the specs (whose digest the plan carries) plan no change and no error now."""
    if desired.digest != plan.spec_digest:
        return False
    adopt = plan.options.adopt
    if plan.options.destroy:  # a destroy plan holds when what its specs own is gone
        desired = destroy_state(desired)
    fresh = plan_live(session, desired, adopt=adopt, destroy=plan.options.destroy).plan
    refused = any(n.code in NOT_OURS for n in fresh.notices)
    return not fresh.has_changes and not fresh.has_errors and not refused
