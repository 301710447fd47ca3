"""`--target ADDRESS`: a plan limited to some objects and what they depend on.

As in Terraform, targeting is for exceptional cases (recovering from a mistake, one urgent
change), not for routine use: the result is a partial plan, and live Azure may still differ
from the specs afterwards. The plan records its targets, every view shows a warning, and the
safety verdict is computed again over the changes that remain (a partial plan is no safer than
the changes in it, and the volume thresholds still count every existing object).

An ADDRESS is as the plan prints it, compared case-insensitively (as ARM names are); an object
in the estate's home subscription may also be given with that subscription
(`identity.<subscription>/rg/name` for `identity.rg/name`, see `names.address_key`). A change
is kept when it is targeted or when a kept change depends on it, transitively, so a grant for a
new identity brings the identity with it.

A target that cannot be an address (no known kind), or that could mean changes in several
subscriptions, is a user error. A well-formed target that no change has is only a notice: the
object may already match the specs, as it does when a saved targeted plan is planned again
after apply.
"""

from __future__ import annotations

from collections.abc import Sequence

from identity_reconciler.core.errors import UserError
from identity_reconciler.core.state import SafetyPolicy
from identity_reconciler.plan import safety
from identity_reconciler.plan.model import Change, ChangeKind, Diagnostic, Plan, Summary
from identity_reconciler.plan.names import address_key, unqualified_key

TARGETED = "targeted"
NO_SUCH_TARGET = "target_not_in_plan"
WARNING = (
    "resource targeting is in effect: this plan is limited to {targets} and what they depend "
    "on, so live Azure may still differ from the specs after apply; use --target only for "
    "exceptional cases, and run a full plan afterwards"
)
_KINDS = tuple(k.value for k in ChangeKind)


def check_targets(targets: Sequence[str]) -> list[str]:
    """The targets given (stripped, blanks dropped); a UserError for one that is no address."""
    wanted = [t.strip() for t in targets if t.strip()]
    for t in wanted:
        kind, dot, rest = t.partition(".")
        if not dot or not rest or kind.lower() not in _KINDS:
            raise UserError(
                f"--target {t}: not an address; an address starts with its kind "
                f"({', '.join(_KINDS)}) and a dot, as plan prints it, e.g. identity.rg/name"
            )
    return wanted


def targeted(
    plan: Plan,
    targets: Sequence[str],
    *,
    home: str | None,
    policy: SafetyPolicy | None = None,
) -> Plan:
    """`plan` limited to `targets` and their dependencies; `plan` itself when none are given.

    `home` is the estate's home subscription (`names.estate_home` of the plan's specs)."""
    wanted = check_targets(targets)
    if not wanted:
        return plan
    by_address = {c.address.lower(): c for c in plan.changes}
    by_key: dict[str, list[Change]] = {}
    for c in plan.changes:
        by_key.setdefault(address_key(c.address, home), []).append(c)
    roots: list[str] = []
    missing: list[Diagnostic] = []
    for t in wanted:
        found = by_key.get(address_key(t, home), [])
        if len(found) > 1:
            raise UserError(
                f"--target {t} is ambiguous: it names {_listed(found)}; give one as plan "
                "prints it"
            )
        if found:
            roots.append(found[0].address.lower())
        else:
            missing.append(_not_found(plan, t, home))
    keep: set[str] = set()
    stack = roots
    while stack:
        address = stack.pop()
        if address in keep:
            continue
        keep.add(address)
        stack.extend(d.lower() for d in by_address[address].depends_on if d.lower() in by_address)
    changes: tuple[Change, ...] = tuple(c for c in plan.changes if c.address.lower() in keep)
    notices = [
        Diagnostic(code=TARGETED, message=WARNING.format(targets=", ".join(wanted))),
        *missing,
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


def _not_found(plan: Plan, target: str, home: str | None) -> Diagnostic:
    """The notice for a target no change has; a UserError when it leaves out the subscription
    that a plan over several subscriptions writes in every address."""
    loose = unqualified_key(target)
    alike = [c for c in plan.changes if unqualified_key(c.address) == loose]
    unqualified = loose == address_key(target, None)
    if alike and unqualified and home is None:
        raise UserError(
            f"--target {target} names no subscription, but this plan covers several, so every "
            f"address names its own: did you mean {_listed(alike)}?"
        )
    hint = f"; did you mean {_listed(alike)}?" if alike else ""
    return Diagnostic(
        code=NO_SUCH_TARGET,
        message=f"--target {target}: no change in this plan has this address (it may already "
        f"match the specs, or be spelt differently from the plan's addresses){hint}",
        address=target,
    )


def _listed(changes: Sequence[Change]) -> str:
    return " or ".join(sorted(c.address for c in changes))
