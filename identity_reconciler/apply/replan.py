"""`apply PLAN --specs`: plan the same specs again against live Azure and compare exactly.

The checksum only shows that a file was edited by someone who did not re-compute it; a plan
made again from the reviewed specs shows what those specs do now. Apply then runs the saved
plan only when both agree (`plan/compare.py` lists what is compared and what is not).
"""

from __future__ import annotations

from identity_reconciler.apply.sql_users import plan_with_sql
from identity_reconciler.azure.clients import Session
from identity_reconciler.azure.reader import read_live
from identity_reconciler.core.state import DesiredState
from identity_reconciler.plan import Plan, compute_plan
from identity_reconciler.plan.compare import differences


def replan_differences(session: Session, desired: DesiredState, saved: Plan) -> list[str]:
    """How a fresh plan of `desired` differs from `saved` (empty: they agree)."""
    live = read_live(session, desired)
    adopt = saved.options.adopt
    fresh = compute_plan(desired, live, adopt=adopt, cloud=saved.target.cloud)
    fresh = plan_with_sql(session, desired, live, fresh, adopt=adopt)
    return differences(saved, fresh)
