"""`identity-reconciler show PLAN.json`: render a saved plan again, without reading Azure.

The plan a pull request reviewed travels as a JSON artifact; `show` turns that very file into
text, a markdown comment or canonical JSON, after checking it (format version and checksum), so
what a workflow posts or a person reads is exactly what `apply` would be given.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from identity_reconciler.cmds.common import use_color
from identity_reconciler.plan import render_json, render_markdown, render_text
from identity_reconciler.reconcile.saved import read_plan_file

EXAMPLE = "identity-reconciler show plan.json --format markdown > comment.md"

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("plan", metavar="PLAN.json", help="a plan file written by plan --out")
    parser.add_argument(
        "--format",
        choices=("text", "markdown", "json"),
        default="text",
        help="text (default), markdown (for a pull-request comment), or json",
    )
    parser.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="exit 2 when the plan has changes (0 none, 1 unreadable or edited plan)",
    )
    parser.add_argument("--no-color", action="store_true", help="never colour the text output")


def run(args: argparse.Namespace) -> int:
    path = Path(args.plan)
    plan = read_plan_file(path)
    if args.format == "json":
        text = render_json(plan)
    elif args.format == "markdown":
        text = render_markdown(plan, artifact=path.name)
    else:
        text = render_text(plan, color=use_color(args))
    sys.stdout.write(text)
    if args.detailed_exitcode and plan.has_changes:
        return EXIT_CHANGES
    return EXIT_OK
