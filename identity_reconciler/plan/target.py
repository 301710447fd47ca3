"""`--target ADDRESS`: a plan limited to some objects and what they depend on.

As in Terraform, targeting is for exceptional cases (recovering from a mistake, one urgent
change), not for routine use: the result is a partial plan, and live Azure may still differ
from the specs afterwards. The plan records its targets, every view shows a warning, and the
safety verdict is computed again over the changes that remain (a partial plan is no safer than
the changes in it, and the volume thresholds still count every existing object).

An ADDRESS is exactly as the plan prints it (compared case-insensitively). A change is kept
when it is targeted or when a kept change depends on it, transitively, so a grant for a new
identity brings the identity with it.
"""

from __future__ import annotations

from collections.abc import Sequence

from identity_reconciler.core.state import SafetyPolicy
from identity_reconciler.plan import safety
from identity_reconciler.plan.model import Change, Diagnostic, Plan, Summary

TARGETED = "targeted"
NO_SUCH_TARGET = "target_not_in_plan"
WARNING = (
    "resource targeting is in effect: this plan is limited to {targets} and what they depend "
    "on, so live Azure may still differ from the specs after apply; use --target only for "
    "exceptional cases, and run a full plan afterwards"
)


def targeted(
    plan: Plan, targets: Sequence[str], *, policy: SafetyPolicy | None = None
) -> Plan:
    """`plan` limited to `targets` and their dependencies; `plan` itself when none are given."""
    wanted = [t.strip() for t in targets if t.strip()]
    if not wanted:
        return plan
    by_address = {c.address.lower(): c for c in plan.changes}
    keep: set[str] = set()
    stack = [t.lower() for t in wanted if t.lower() in by_address]
    while stack:
        address = stack.pop()
        if address in keep:
            continue
        keep.add(address)
        stack.extend(d.lower() for d in by_address[address].depends_on if d.lower() in by_address)
    changes: tuple[Change, ...] = tuple(c for c in plan.changes if c.address.lower() in keep)
    notices = [
        Diagnostic(code=TARGETED, message=WARNING.format(targets=", ".join(wanted))),
        *(
            Diagnostic(
                code=NO_SUCH_TARGET,
                message=f"--target {t}: no change in this plan has this address (it may "
                "already match the specs, or be spelt differently from the plan's addresses)",
                address=t,
            )
            for t in wanted
            if t.lower() not in by_address
        ),
        *plan.notices,
    ]
    fields = {name: getattr(plan, name) for name in Plan.model_fields if name != "checksum"}
    fields.update(
        changes=changes,
        notices=tuple(notices),
        summary=Summary.of(changes),
        options=plan.options.model_copy(update={"targets": tuple(wanted)}),
        safety=safety.evaluate(
            changes, existing=plan.safety.existing, policy=policy or SafetyPolicy()
        ),
    )
    return Plan.sealed(**fields)
