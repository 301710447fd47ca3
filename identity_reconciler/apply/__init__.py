"""Plan -> dependency graph -> bounded-concurrency executor with retries and stale checks.

The public surface, for `reconcile/` (which `apply` and `drift --fix` run through):

- `apply_plan(session, plan, *, options=ApplyOptions(...), events=..., waiting=..., cancel=...)
  -> ApplyResult` — raises `StalePlan` (nothing written) when an object changed since the plan;
  the caller refuses plans with errors or unforced safety violations first.
- `check_plan(session, plan) -> list[Stale]` — the up-front stale check on its own.
- `ApplyResult` (`done`, `failed`, `skipped`, `ok`, `to_dict()`), `render_summary_text`,
  `render_summary_json`; `Progress(stream, total).events()` / `.waiting` for stderr progress.
- T-SQL changes (`sql_user`, `sql_role_member`) run through `ApplyOptions.sql`, a callable
  that executes one change's TSQL operations; without one they fail as SqlConnectionUnavailable.
- `build_graph(changes)`, `execute(graph, action, ...)`, `Retrier`/`RetryPolicy` — the pieces.
"""

from identity_reconciler.apply.engine import (
    ApplyOptions,
    Done,
    SqlRunner,
    SqlUnavailable,
    StalePlan,
    apply_plan,
)
from identity_reconciler.apply.executor import (
    DEFAULT_PARALLELISM,
    Events,
    Interrupted,
    Outcome,
    Status,
    execute,
)
from identity_reconciler.apply.graph import Graph, GraphError, Node, build_graph
from identity_reconciler.apply.progress import Progress
from identity_reconciler.apply.report import (
    ActionReport,
    ApplyResult,
    Failure,
    render_summary_json,
    render_summary_text,
)
from identity_reconciler.apply.retry import Retrier, RetryPolicy
from identity_reconciler.apply.stale import Stale, StaleChange, check_plan

__all__ = [
    "DEFAULT_PARALLELISM",
    "ActionReport",
    "ApplyOptions",
    "ApplyResult",
    "Done",
    "Events",
    "Failure",
    "Graph",
    "GraphError",
    "Interrupted",
    "Node",
    "Outcome",
    "Progress",
    "Retrier",
    "RetryPolicy",
    "SqlRunner",
    "SqlUnavailable",
    "Stale",
    "StaleChange",
    "StalePlan",
    "Status",
    "apply_plan",
    "build_graph",
    "check_plan",
    "execute",
    "render_summary_json",
    "render_summary_text",
]
