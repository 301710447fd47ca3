"""A saved plan file: what it must pass before apply may write anything.

The plan a pull request reviewed is applied as it is, or not at all: it is refused when the
file is unreadable or edited, when it has errors or unforced safety violations, when the specs
changed since, and when the credentials reach another tenant than it was made for.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from identity_reconciler.core.errors import UserError
from identity_reconciler.core.state import DesiredState
from identity_reconciler.core.words import count
from identity_reconciler.plan import Plan, PlanFileError, check_safety

if TYPE_CHECKING:  # `show` reads plan files without the Azure SDK
    from identity_reconciler.azure.clients import Session


class Refused(UserError):
    """Apply will not start; the message says why and what to do."""


def read_plan_file(path: str | Path) -> Plan:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read plan file {path}: {exc.strerror or exc}") from None
    try:
        return Plan.from_json(data)
    except PlanFileError as exc:
        raise PlanFileError(f"refusing plan file {path}: {exc}") from None


def check_applicable(plan: Plan, flags: list[str]) -> None:
    """Errors and safety: what no write may start without."""
    if plan.has_errors:
        details = "\n".join(
            f"  {e.source + ': ' if e.source else ''}{e.message}" for e in plan.errors
        )
        raise Refused(
            f"the plan has {count(len(plan.errors), 'error')}; fix the specs and plan again:\n"
            f"{details}"
        )
    # Imported here: `show` and the other offline commands load this module, and the apply
    # package loads the Azure SDK.
    from identity_reconciler.apply.sql_binding import check_sql_bound

    check_sql_bound(plan)  # UnboundOperation: T-SQL its SQL change does not show
    violations = check_safety(plan, flags)
    if violations:
        needed = " ".join(sorted({v.flag for v in violations}))
        details = "\n".join(f"  {v.message}" for v in violations)
        raise Refused(f"the plan is unsafe; apply it only with {needed} if you mean it:\n{details}")


def check_spec_digest(plan: Plan, desired: DesiredState) -> None:
    if desired.digest != plan.spec_digest:
        raise Refused(
            "the specs changed since the plan was made (their digest differs); run plan again "
            "and review the new plan"
        )


def check_tenant(session: Session, plan: Plan) -> None:
    """Every subscription of the plan is in its tenant for these credentials (`apply/target`)."""
    from identity_reconciler.apply.target import WrongTarget, check_target  # reaches Azure

    try:
        check_target(session, plan)
    except WrongTarget as exc:
        raise Refused(str(exc)) from None
