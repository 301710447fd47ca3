"""The reconcile sequence, owned once: between the commands (`cmds/`) and the layers below.

`cmds/` parse arguments and render results; the layers (`spec/`, `azure/`, `plan/`, `sql/`,
`apply/`) each do one thing. What runs in which order lives here:

- `live.open_live(cloud, world=..., state_dir=..., desired=...)`: the session for `--cloud
  NAME` (`check_world` alone, for commands that check their options before anything else).
- `live.plan_live(session, desired, adopt=...)`: read live → `compute_plan` → Azure SQL users.
- `live.drift_live(session, desired, adopt=...)`: the same, told as drift.
- `live.apply_live(session, plan, options=...)`: apply a plan, with the SQL runner it needs.
- `saved.read_plan_file`, `check_applicable`, `check_tenant`, `check_spec_digest`: what a
  saved plan must pass before any write (`show` uses the first without loading the SDK).
- `sql_plan.plan_with_sql`: the Azure SQL users of a plan.

Import the submodules: this package imports nothing itself, so reading a plan file does not
load the Azure SDK. Everything a person can fix leaves as a `UserError`.
"""
