"""`identity-reconciler apply PLAN.json | SPECS...`: make live Azure match a plan.

With a saved plan (the reviewed one), apply refuses — exit 1, nothing written — when the file is
unreadable or was edited, when the specs given with `--specs` are not the ones planned, when the
plan has errors or unforced safety violations, when it was made for another cloud or tenant, or
when any object it touches changed since. With spec paths, it plans first and asks for `yes`
(or takes `--auto-approve`; without a terminal it never guesses). Exit 0 when everything was
applied, 1 when anything failed or was refused, 130 when interrupted; plan and apply again to
converge after either.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from identity_reconciler import terminal
from identity_reconciler.apply import (
    DEFAULT_PARALLELISM,
    ApplyOptions,
    ApplyResult,
    RetryPolicy,
    StalePlan,
    render_summary_json,
    render_summary_text,
)
from identity_reconciler.azure.clients import Session
from identity_reconciler.cmds.common import use_color
from identity_reconciler.cmds.shared import add_target_arguments, add_target_option, load_desired
from identity_reconciler.core.errors import UserError
from identity_reconciler.core.state import DesiredState
from identity_reconciler.core.words import count
from identity_reconciler.plan import (
    ALLOW_DELETE_IDENTITY,
    ALLOW_MASS_CHANGE,
    ALLOW_PRIVILEGED,
    Plan,
    render_text,
)
from identity_reconciler.reconcile.live import apply_live, open_live, plan_live
from identity_reconciler.reconcile.replan import (
    ALREADY_APPLIED,
    fresh_plan,
    holds,
    replan_differences,
)
from identity_reconciler.reconcile.saved import (
    Refused,
    check_applicable,
    check_spec_digest,
    check_tenant,
    read_plan_file,
)

EXAMPLE = "identity-reconciler apply plan.json --specs specs/ --cloud local"

EXIT_OK, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 130
SPEC_SUFFIXES = (".yaml", ".yml")
DEFAULT_PRINCIPAL_WAIT = 300.0


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"'{text}' must be at least 1")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
    if not 0.0 <= value <= 86400.0:
        raise argparse.ArgumentTypeError(f"'{text}' is not between 0 and 86400 seconds")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="+", metavar="PLAN_OR_SPECS", help="a saved plan file, or spec files/folders"
    )
    add_target_arguments(parser)
    parser.set_defaults(cloud=None)  # with a plan file: the plan's own cloud
    parser.add_argument(
        "--specs",
        nargs="+",
        metavar="SPECS",
        help=(
            "with a plan file: the specs it was made from; refuse if they changed since or if "
            "planning them again gives other changes"
        ),
    )
    parser.add_argument(
        "--auto-approve", action="store_true", help="with spec paths: apply without asking"
    )
    parser.add_argument(
        "--adopt", action="store_true", help="with spec paths: plan with --adopt (see plan)"
    )
    for flag, what in (
        (ALLOW_DELETE_IDENTITY, "deleting or re-creating identities"),
        (ALLOW_PRIVILEGED, "privileged roles at subscription or management-group scope"),
        (ALLOW_MASS_CHANGE, "changes above the safety thresholds"),
    ):
        parser.add_argument(flag, action="store_true", help=f"allow {what}")
    parser.add_argument(
        "--parallelism",
        type=_positive,
        default=DEFAULT_PARALLELISM,
        metavar="N",
        help=f"writes in flight at once (default {DEFAULT_PARALLELISM})",
    )
    parser.add_argument(
        "--principal-wait",
        type=_seconds,
        default=DEFAULT_PRINCIPAL_WAIT,
        metavar="SECONDS",
        help="how long a new principal may take to replicate in Entra (default 300)",
    )
    add_target_option(parser)
    parser.add_argument("--format", choices=("text", "json"), default="text", help="summary format")
    parser.add_argument("--no-color", action="store_true", help="never colour the plan text")


def is_plan_file(paths: list[str]) -> bool:
    """One path that is not a spec file or folder: a saved plan."""
    if len(paths) != 1:
        return False
    path = Path(paths[0])
    try:
        if path.is_dir():
            return False
        if not path.exists():  # say "cannot read plan file" only for what looks like one
            return path.suffix.lower() == ".json"
    except OSError as exc:  # a name the system refuses (too long, ...)
        raise UserError(str(exc)) from None
    return path.suffix.lower() not in SPEC_SUFFIXES


def _flags(args: argparse.Namespace) -> list[str]:
    return [
        flag
        for flag in (ALLOW_DELETE_IDENTITY, ALLOW_PRIVILEGED, ALLOW_MASS_CHANGE)
        if getattr(args, flag.lstrip("-").replace("-", "_"))
    ]


def check_specs(plan: Plan, args: argparse.Namespace) -> DesiredState | None:
    if not args.specs:
        print(
            "note: the specs were not re-checked against the plan; pass --specs SPECS... to "
            "refuse a plan whose specs changed since",
            file=sys.stderr,
        )
        return None
    desired = load_desired(args.specs)
    if desired is None:
        raise Refused("the specs given with --specs do not validate")
    check_spec_digest(plan, desired)
    return desired


def _approve(plan: Plan, args: argparse.Namespace) -> bool:
    if args.auto_approve:
        return True
    answer = input("\nApply these changes? Only 'yes' is accepted: ")
    return answer.strip() == "yes"


def _check_replan(session: Session, desired: DesiredState, plan: Plan) -> bool:
    """With --specs: True when the saved plan is already applied; refused when the specs now
    plan something else than the saved plan says (Azure changed, or the file was edited)."""
    fresh = fresh_plan(session, desired, plan)
    if holds(fresh):
        return True
    problems = replan_differences(plan, fresh)
    if problems:
        details = "\n".join(f"  {p}" for p in problems[:20])
        raise Refused(
            "the saved plan is not what these specs plan now (Azure changed since, or the "
            f"file was edited); run plan again and review it:\n{details}"
        )
    return False


def _execute(session: Session, plan: Plan, args: argparse.Namespace) -> ApplyResult:
    check_tenant(session, plan)
    terminal.say(f"Applying {count(len(plan.changes), 'change')} ({plan.target.cloud})...")
    options = ApplyOptions(
        parallelism=args.parallelism, retry=RetryPolicy(principal_wait=args.principal_wait)
    )
    try:
        return apply_live(session, plan, options=options)
    except StalePlan as exc:
        raise UserError(
            exc.stale[0].message,
            also=[*(s.message for s in exc.stale[1:]),
                  "nothing was written; run plan again and review it"],
        ) from None


def _plan_specs(session: Session, desired: DesiredState, args: argparse.Namespace) -> Plan:
    plan = plan_live(session, desired, adopt=args.adopt, targets=args.target).plan
    stream = sys.stdout if args.format == "text" else sys.stderr
    stream.write(render_text(plan, color=args.format == "text" and use_color(args)))
    stream.flush()
    return plan


def run(args: argparse.Namespace) -> int:
    flags = _flags(args)
    desired: DesiredState | None
    plan: Plan | None = None
    if is_plan_file(args.paths):
        if args.target:
            raise Refused("--target goes with spec paths; a saved plan keeps the targets it "
                          "was made with")
        plan = read_plan_file(args.paths[0])
        if plan.options.targets:
            print(f"warning: the plan was made with --target {' '.join(plan.options.targets)}: "
                  "live Azure may still differ from the specs after apply", file=sys.stderr)
        if args.cloud and args.cloud != plan.target.cloud:
            raise Refused(f"the plan was made for cloud {plan.target.cloud!r}, not {args.cloud!r}")
        cloud = plan.target.cloud
        check_applicable(plan, flags)
        desired = check_specs(plan, args)
        if not plan.has_changes:
            return _summary(None, args)
    else:
        if args.specs:
            raise Refused("--specs goes with a saved plan file; here the paths are the specs")
        if not args.auto_approve and not sys.stdin.isatty():
            raise Refused(
                "refusing to apply without approval: there is no terminal to ask on; review the "
                "plan and pass --auto-approve, or apply a saved plan file"
            )
        desired = load_desired(args.paths)
        if desired is None:
            return EXIT_ERROR
        cloud = args.cloud or "azure"
    with open_live(
        cloud, world=args.world, state_dir=args.state_dir, desired=desired
    ) as session:
        if plan is None:
            assert desired is not None
            plan = _plan_specs(session, desired, args)
            check_applicable(plan, flags)
            if not plan.has_changes:
                return _summary(None, args)
            if not _approve(plan, args):
                print("Apply cancelled; nothing was written.", file=sys.stderr)
                return EXIT_ERROR
        elif desired is not None and _check_replan(session, desired, plan):
            sys.stdout.write(ALREADY_APPLIED + "\n")
            return EXIT_OK
        try:
            result = _execute(session, plan, args)
        except StalePlan:
            if desired is None:
                print(
                    "note: if this plan was applied already, pass --specs SPECS... and apply "
                    "confirms it instead of refusing it",
                    file=sys.stderr,
                )
            raise
    return _summary(result, args)


def _summary(result: ApplyResult | None, args: argparse.Namespace) -> int:
    if result is None:
        result = ApplyResult(actions=(), seconds=0.0, requests=0)
        if args.format == "text":
            sys.stdout.write("No changes: live Azure already matches the plan.\n")
            return EXIT_OK
    text = render_summary_json(result) if args.format == "json" else render_summary_text(result)
    sys.stdout.write(text)
    if result.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_OK if result.ok else EXIT_ERROR
