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
from identity_reconciler.apply import ApplyResult, StalePlan, render_summary_text
from identity_reconciler.azure.clients import Session
from identity_reconciler.cmds import github
from identity_reconciler.cmds.shared import add_target_arguments, load_desired
from identity_reconciler.core.errors import UserError
from identity_reconciler.core.state import DesiredState
from identity_reconciler.core.words import count
from identity_reconciler.plan import (
    ALLOW_DELETE_IDENTITY,
    ALLOW_MASS_CHANGE,
    ALLOW_PRIVILEGED,
    Plan,
    check_safety,
)
from identity_reconciler.plan.drift import DriftReport
from identity_reconciler.plan.drift_render import (
    render_drift_json,
    render_drift_markdown,
    render_drift_text,
)
from identity_reconciler.reconcile.live import apply_live, check_world, drift_live, open_live

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
    plan, report = drift_live(session, desired, adopt=args.adopt)
    terminal.say(
        f"Read live state ({args.cloud}): {plan.live_requests} ARM requests in "
        f"{time.monotonic() - started:.1f} s"
    )
    return plan, report


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
        raise UserError(reason)
    result: ApplyResult | None = None
    if plan.has_changes:
        fixing = count(len(plan.changes), "difference")
        terminal.say(f"Correcting {fixing} ({plan.target.cloud})...")
        try:
            result = apply_live(session, plan)
        except StalePlan as exc:
            raise UserError(f"live state changed during --fix: {exc}; run drift again") from None
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
        print(f"**drift --fix applied {count(fixed, 'correction')}.**\n")
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
    check_world(args.cloud, args.world)
    if _flags(args) and not args.fix:
        raise UserError("the --allow-* flags only apply with --fix")
    desired = load_desired(args.specs)
    if desired is None:
        return EXIT_ERROR
    with open_live(
        args.cloud, world=args.world, state_dir=args.state_dir, desired=desired
    ) as session:
        plan, report = _measure(session, desired, args)
        if args.fix:
            return _fix(session, desired, args, plan, report)
    _emit(args.format, report)
    return exit_code(report)
