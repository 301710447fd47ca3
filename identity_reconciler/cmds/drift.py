"""`identity-reconciler drift SPECS...`: what changed in Azure outside git, and `--fix` for it.

The same read and diff as `plan`, told as drift (what is live versus what the specs say), plus
what a plan leaves alone on purpose: role assignments someone added by hand to the identities
the specs manage, and identities that lost their ownership tag. `--fix` applies the correcting
plan under apply's safety rules (the same `--allow-*` flags) and never deletes anything
identity-reconciler did not make. Exit 0 no drift, 2 drift (after `--fix`: drift that remains),
1 error.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from identity_reconciler import terminal
from identity_reconciler.apply import (
    ApplyOptions,
    ApplyResult,
    GraphError,
    Progress,
    StalePlan,
    apply_plan,
    render_summary_text,
)
from identity_reconciler.apply.sql_apply import SqlChangeRunner
from identity_reconciler.apply.sql_users import plan_with_sql
from identity_reconciler.azure.clients import Session, open_session
from identity_reconciler.azure.errors import ArmError
from identity_reconciler.azure.reader import read_live
from identity_reconciler.cmds import github
from identity_reconciler.cmds.plan import add_target_arguments, load_desired
from identity_reconciler.core.state import DesiredState
from identity_reconciler.plan import (
    ALLOW_DELETE_IDENTITY,
    ALLOW_MASS_CHANGE,
    ALLOW_PRIVILEGED,
    Plan,
    check_safety,
    compute_plan,
)
from identity_reconciler.plan.drift import DriftReport, drift_report
from identity_reconciler.plan.drift_render import (
    render_drift_json,
    render_drift_markdown,
    render_drift_text,
)

HELP = "report what changed in Azure outside git (and correct it with --fix)"
EXAMPLE = "identity-reconciler drift specs/ --format markdown > drift.md"

EXIT_OK, EXIT_ERROR, EXIT_DRIFT = 0, 1, 2
SAFETY_FLAGS = (ALLOW_DELETE_IDENTITY, ALLOW_PRIVILEGED, ALLOW_MASS_CHANGE)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("specs", nargs="+", metavar="SPECS", help="spec files or folders")
    add_target_arguments(parser)
    parser.add_argument(
        "--format",
        choices=("text", "markdown", "json", "github"),
        default="text",
        help="text (default), markdown (a GitHub issue body), json, or github (text plus "
        "annotations on the spec lines, and the markdown report in $GITHUB_STEP_SUMMARY)",
    )
    parser.add_argument(
        "--fix",
        action="store_true",
        help="apply the plan that corrects the drift (never deletes what is not ours)",
    )
    parser.add_argument(
        "--adopt",
        action="store_true",
        help="treat identities in the specs that lost the ownership tag as ours (--fix re-tags)",
    )
    forcing = parser.add_argument_group("safety (with --fix, as for apply)")
    for flag in SAFETY_FLAGS:
        forcing.add_argument(flag, action="store_true", help=f"--fix even when it needs {flag}")


def _flags(args: argparse.Namespace) -> list[str]:
    return [f for f in SAFETY_FLAGS if getattr(args, f.lstrip("-").replace("-", "_"), False)]


def _measure(
    session: Session, desired: DesiredState, args: argparse.Namespace
) -> tuple[Plan, DriftReport]:
    started = time.monotonic()
    live = read_live(session, desired)
    plan = compute_plan(desired, live, adopt=args.adopt, cloud=args.cloud)
    plan = plan_with_sql(session, desired, live, plan, adopt=args.adopt)  # Azure SQL users
    terminal.say(
        f"Read live state ({args.cloud}): {plan.live_requests} ARM requests in "
        f"{time.monotonic() - started:.1f} s"
    )
    return plan, drift_report(plan, desired, live, adopt=args.adopt)


def render(report: DriftReport, fmt: str) -> str:
    if fmt == "json":
        return render_drift_json(report)
    if fmt == "markdown":
        return render_drift_markdown(report)
    return render_drift_text(report)


def exit_code(report: DriftReport) -> int:
    if report.errors:
        return EXIT_ERROR
    return EXIT_DRIFT if report.has_drift else EXIT_OK


def _refusal(plan: Plan, flags: list[str]) -> str | None:
    """Why --fix must not write anything, or None."""
    if plan.has_errors:
        return "the specs and live state cannot be fully compared (errors above); nothing fixed"
    violations = check_safety(plan, flags)
    if violations:
        lines = [f"  - {v.message} (pass {v.flag})" for v in violations]
        needed = " ".join(sorted({v.flag for v in violations}))
        return "the correcting plan is unsafe; nothing fixed:\n" + "\n".join(lines) + (
            f"\n  To fix it anyway: drift --fix {needed}"
        )
    return None


def _apply(session: Session, plan: Plan) -> ApplyResult:
    progress = Progress(sys.stderr, len(plan.changes))
    terminal.say(f"Correcting {len(plan.changes)} difference(s) ({plan.target.cloud})...")
    sql = SqlChangeRunner(session)  # Azure SQL changes: T-SQL, a connection per database
    try:
        return apply_plan(
            session,
            plan,
            options=ApplyOptions(sql=sql),
            events=progress.events(),
            waiting=progress.waiting,
        )
    finally:
        sql.close()
        progress.close()


def _fix(
    session: Session, desired: DesiredState, args: argparse.Namespace, plan: Plan,
    before: DriftReport,
) -> int:
    """Apply the correcting plan, then read live again: what is left is the answer."""
    if args.format == "text":
        sys.stdout.write(render_drift_text(before))
    reason = _refusal(plan, _flags(args))
    if reason is not None:
        if args.format != "text":
            _emit(args.format, before)
        print(f"error: {reason}", file=sys.stderr)
        return EXIT_ERROR
    result: ApplyResult | None = None
    if plan.has_changes:
        try:
            result = _apply(session, plan)
        except StalePlan as exc:
            print(f"error: live state changed during --fix: {exc}; run drift again",
                  file=sys.stderr)
            return EXIT_ERROR
        except GraphError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_ERROR
        if args.format == "text":
            sys.stdout.write("\n" + render_summary_text(result))
    _, after = _measure(session, desired, args)
    if args.format == "json":
        doc = {
            "before": before.to_dict(),
            "fix": result.to_dict() if result is not None else None,
            "after": after.to_dict(),
        }
        print(json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False))
    elif args.format == "markdown":
        fixed = len(result.done) if result is not None else 0
        print(f"**drift --fix applied {fixed} correction(s).**\n")
        sys.stdout.write(render_drift_markdown(after))
    else:
        sys.stdout.write("\nAfter --fix: " + render_drift_text(after))
    if result is not None and not result.ok:
        return EXIT_ERROR
    return exit_code(after)


def _emit(fmt: str, report: DriftReport) -> None:
    sys.stdout.write(render(report, fmt))
    if fmt == "github":
        for line in github.drift_annotations(report):
            print(line)
        try:
            github.append_step_summary(render_drift_markdown(report))
        except OSError as exc:
            print(f"warning: cannot append to {github.SUMMARY_ENV}: {exc}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    if args.world and args.cloud != "local":
        print("error: --world applies only to --cloud local", file=sys.stderr)
        return EXIT_ERROR
    if _flags(args) and not args.fix:
        print("error: the --allow-* flags only apply with --fix", file=sys.stderr)
        return EXIT_ERROR
    desired = load_desired(args.specs)
    if desired is None:
        return EXIT_ERROR
    try:
        with open_session(
            args.cloud, world=args.world, state_dir=args.state_dir, desired=desired
        ) as session:
            plan, report = _measure(session, desired, args)
            if args.fix:
                return _fix(session, desired, args, plan, report)
    except ArmError as exc:
        print(f"error: {exc.summary()}", file=sys.stderr)
        return EXIT_ERROR
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    _emit(args.format, report)
    return exit_code(report)
