"""DesiredState x LiveState -> Plan (versioned JSON), safety checks, renderers.

The public surface, for `cmds/` and `apply/`:

- `compute_plan(desired, live, *, adopt=False, cloud="local", now=None) -> Plan`
- `Plan.to_json()`, `Plan.from_json(text)` (raises `PlanFileError`), `Plan.to_dict()`
- `check_safety(plan, flags) -> list[Violation]`
- `resolve_principal(change, principal_id) -> Change` for grants whose principal is new
- `render_text(plan, color=...)`, `render_markdown(plan, ...)`, `render_json(plan)`
"""

from identity_reconciler.plan.diff import compute_plan
from identity_reconciler.plan.model import (
    FORMAT_VERSION,
    KNOWN_AFTER_APPLY,
    Change,
    ChangeKind,
    Diagnostic,
    Operation,
    Plan,
    PlanFileError,
    Principal,
    Violation,
)
from identity_reconciler.plan.render_json import render_json
from identity_reconciler.plan.render_markdown import render_markdown
from identity_reconciler.plan.render_text import render_text
from identity_reconciler.plan.resolve import needs_principal, resolve_principal
from identity_reconciler.plan.safety import (
    ALLOW_DELETE_IDENTITY,
    ALLOW_MASS_CHANGE,
    ALLOW_PRIVILEGED,
    check_safety,
)

__all__ = [
    "ALLOW_DELETE_IDENTITY",
    "ALLOW_MASS_CHANGE",
    "ALLOW_PRIVILEGED",
    "FORMAT_VERSION",
    "KNOWN_AFTER_APPLY",
    "Change",
    "ChangeKind",
    "Diagnostic",
    "Operation",
    "Plan",
    "PlanFileError",
    "Principal",
    "Violation",
    "check_safety",
    "compute_plan",
    "needs_principal",
    "render_json",
    "render_markdown",
    "render_text",
    "resolve_principal",
]
