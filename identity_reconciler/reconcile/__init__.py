"""The reconcile sequence, owned once: between the commands (`cmds/`) and the layers below.

`cmds/` parse arguments and render results; the layers (`spec/`, `azure/`, `plan/`, `sql/`,
`apply/`) each do one thing. What runs in which order lives here:

- `open_live(cloud, world=..., state_dir=..., desired=...)`: the session for `--cloud NAME`
  (`check_world` alone, for commands that check their options before anything else).
- `plan_live(session, desired, adopt=...)`: read live → `compute_plan` → Azure SQL users.
- `apply_live(session, plan, options=...)`: apply a plan, with the SQL runner it needs.
- `read_plan_file`, `check_applicable`, `check_tenant`, `check_spec_digest`: what a saved plan
  must pass before any write.

Everything a person can fix leaves as a `UserError`.
"""

from identity_reconciler.reconcile.live import (
    LivePlan,
    apply_live,
    check_world,
    open_live,
    plan_live,
)
from identity_reconciler.reconcile.saved import (
    Refused,
    check_applicable,
    check_spec_digest,
    check_tenant,
    read_plan_file,
)
from identity_reconciler.reconcile.sql_plan import plan_with_sql

__all__ = [
    "LivePlan",
    "Refused",
    "apply_live",
    "check_applicable",
    "check_spec_digest",
    "check_tenant",
    "check_world",
    "open_live",
    "plan_live",
    "plan_with_sql",
    "read_plan_file",
]
