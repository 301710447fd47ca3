"""`identity-reconciler plan SPECS...`: what apply would change, read from live Azure.

Validates the specs (located findings, exit 1 on errors), reads the live estate in bulk through
`azure/`, diffs, and prints the plan as text, markdown or JSON; `--out` saves the plan file
apply takes. Exit codes follow Terraform: 0 no changes (or changes without
`--detailed-exitcode`), 1 error, 2 changes with `--detailed-exitcode`.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

from identity_reconciler import terminal
from identity_reconciler.cmds import github
from identity_reconciler.cmds.common import use_color
from identity_reconciler.cmds.shared import (
    add_target_arguments,
    add_target_option,
    load_desired,
    write_atomic,
)
from identity_reconciler.core.errors import UserError
from identity_reconciler.core.state import DesiredState, SafetyPolicy
from identity_reconciler.plan import Plan, render_json, render_markdown, render_text
from identity_reconciler.plan.destroy import destroy_state
from identity_reconciler.reconcile.live import open_live, plan_live

EXAMPLE = (
    "identity-reconciler plan specs/ --cloud local --out plan.json --detailed-exitcode"
)

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2


def _percent(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not 0.0 <= value <= 100.0:
        raise argparse.ArgumentTypeError(f"'{text}' is not between 0 and 100")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"'{text}' must not be negative")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("specs", nargs="+", metavar="SPECS", help="spec files or folders")
    add_target_arguments(parser)
    parser.add_argument("--out", metavar="FILE", help="save the plan file for apply")
    parser.add_argument(
        "--format",
        choices=("text", "markdown", "json", "github"),
        default="text",
        help="text (default), markdown (for a pull-request comment), json, or github (text "
        "plus annotations on the spec lines, and the markdown plan in $GITHUB_STEP_SUMMARY)",
    )
    parser.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="exit 2 when there are changes (0 none, 1 error)",
    )
    parser.add_argument(
        "--adopt",
        action="store_true",
        help="take over live objects that match the specs but are not ours",
    )
    parser.add_argument("--no-color", action="store_true", help="never colour the text output")
    add_target_option(parser)
    safety = parser.add_argument_group("safety thresholds (override the specs' policy)")
    safety.add_argument(
        "--max-delete-percent", type=_percent, metavar="P",
        help="unsafe when more than P%% of the managed objects would be deleted (default 30)",
    )
    safety.add_argument(
        "--max-update-percent", type=_percent, metavar="P",
        help="unsafe when more than P%% of the managed objects would be updated (default 30)",
    )
    safety.add_argument(
        "--min-existing", type=_count, metavar="N",
        help="apply the percentages only from N managed objects on (default 10)",
    )


def with_thresholds(desired: DesiredState, args: argparse.Namespace) -> DesiredState:
    changes = {
        name: getattr(args, name)
        for name in ("max_delete_percent", "max_update_percent", "min_existing")
        if getattr(args, name, None) is not None
    }
    if changes:
        desired.safety = dataclasses.replace(desired.safety or SafetyPolicy(), **changes)
    return desired


def make_plan(args: argparse.Namespace, desired: DesiredState) -> Plan:
    """Read the live state the specs are about and diff, with a progress line."""
    started = time.monotonic()
    with open_live(
        args.cloud, world=args.world, state_dir=args.state_dir, desired=desired
    ) as session, terminal.ProgressLine(
        "Reading live state", detail=lambda: f"{session.requests} ARM requests", ticker=True
    ):
        plan = plan_live(
            session,
            desired,
            adopt=args.adopt,
            destroy=getattr(args, "destroy", False),
            targets=getattr(args, "target", ()),
        ).plan
    elapsed = time.monotonic() - started
    terminal.say(
        f"Read live state ({args.cloud}): {plan.live_requests} ARM requests in {elapsed:.1f} s"
    )
    return plan


def render(plan: Plan, args: argparse.Namespace) -> str:
    if args.format == "json":
        return render_json(plan)
    if args.format == "markdown":
        artifact = Path(args.out).name if args.out else "plan.json"
        return render_markdown(plan, artifact=artifact)
    return render_text(plan, color=use_color(args))


def run(args: argparse.Namespace) -> int:
    desired = load_desired(args.specs, annotate=args.format == "github")
    if desired is None:
        return EXIT_ERROR
    desired = with_thresholds(desired, args)
    if getattr(args, "destroy", False):  # `destroy SPECS`: aim at nothing those specs own
        desired = destroy_state(desired)
    plan = make_plan(args, desired)
    if args.out:
        try:
            write_atomic(args.out, plan.to_json())
        except OSError as exc:
            raise UserError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    sys.stdout.write(render(plan, args))
    if args.format == "github":
        _to_github(plan, args)
    if plan.options.targets:
        print(f"warning: {plan.notices[0].message}", file=sys.stderr)
    if not plan.safety.safe and args.format == "json":
        flags = " ".join(sorted({v.flag for v in plan.safety.violations}))
        print(f"warning: unsafe plan; apply refuses it unless given {flags}", file=sys.stderr)
    if plan.has_errors:
        return EXIT_ERROR
    if plan.has_changes and args.detailed_exitcode:
        return EXIT_CHANGES
    return EXIT_OK


def _to_github(plan: Plan, args: argparse.Namespace) -> None:
    """Annotations on stdout; the markdown plan appended to the job summary, when there is one."""
    for line in github.plan_annotations(plan):
        print(line)
    artifact = Path(args.out).name if args.out else "plan.json"
    try:
        github.append_step_summary(render_markdown(plan, artifact=artifact))
    except OSError as exc:
        print(f"warning: cannot append to {github.SUMMARY_ENV}: {exc}", file=sys.stderr)
