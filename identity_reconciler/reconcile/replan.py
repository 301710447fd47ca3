"""`apply PLAN --specs`: plan the reviewed specs again, once, and let that fresh plan decide.

- Already applied: a plan applied once is stale by construction (every object it created now
  exists, every one it deleted is gone). When the fresh plan of the specs whose digest the saved
  plan carries has neither changes nor errors, nor objects it wants that exist but are not ours,
  every change of the saved plan already holds: apply says so and exits 0.
- Otherwise the two must agree exactly (`plan/compare.py` lists what is compared and what is
  not). The checksum only shows that a file was edited by someone who did not re-compute it; a
  plan made again from the reviewed specs shows what those specs do now, so a re-sealed plan
  that does more than its specs is refused before anything is written.

Without the specs neither question can be answered: a stale plan stays refused as stale.
"""

from __future__ import annotations

from identity_reconciler.azure.clients import Session
from identity_reconciler.core.state import DesiredState
from identity_reconciler.plan import Plan
from identity_reconciler.plan.compare import differences
from identity_reconciler.plan.destroy import destroy_state
from identity_reconciler.reconcile.live import plan_live

# Notices that say an object the specs want exists but is not ours: the plan did not make it.
NOT_OURS = frozenset({"takeover_refused", "adoption_blocked", "grant_not_owned"})
ALREADY_APPLIED = "Already applied: live Azure matches the specs this plan was made from."


def fresh_plan(session: Session, desired: DesiredState, saved: Plan) -> Plan:
    """The plan the saved plan's specs make now, with the options the saved plan was made with."""
    options = saved.options
    if options.destroy:  # a destroy plan aims at nothing its specs own
        desired = destroy_state(desired)
    return plan_live(
        session, desired, adopt=options.adopt, destroy=options.destroy, targets=options.targets
    ).plan


def holds(fresh: Plan) -> bool:
    """True when nothing is left to do: the saved plan was applied already."""
    refused = any(n.code in NOT_OURS for n in fresh.notices)
    return not fresh.has_changes and not fresh.has_errors and not refused


def replan_differences(saved: Plan, fresh: Plan) -> list[str]:
    """How the fresh plan differs from the saved one (empty: they agree)."""
    return differences(saved, fresh)
