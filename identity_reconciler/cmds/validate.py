"""`identity-reconciler validate PATH...`: check specs offline and report located findings.

Exit 0 when the specs are valid (warnings allowed), 1 when any error was found (or, with
`--strict`, any warning). Findings go to stdout in the chosen format; for people, a one-line
summary goes to stderr.
"""

from __future__ import annotations

import argparse
import sys

from identity_reconciler.core.errors import UserError
from identity_reconciler.core.findings import format_github, format_json, format_text, summary
from identity_reconciler.spec import validate
from identity_reconciler.spec.rules import rule_table

EXAMPLE = "identity-reconciler validate specs/ --format github"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH", help="spec files or folders")
    parser.add_argument(
        "--format",
        choices=("text", "json", "github"),
        default="text",
        help="text (default), json, or github (workflow annotations on the YAML lines)",
    )
    parser.add_argument(
        "--strict", action="store_true", help="fail (exit 1) on warnings as well as errors"
    )
    parser.add_argument(
        "--list-rules", action="store_true", help="print every rule id with its default severity"
    )


def run(args: argparse.Namespace) -> int:
    if args.list_rules:
        print(rule_table())
        return 0
    if not args.paths:
        raise UserError("name at least one spec file or folder, e.g. specs/")
    result = validate(args.paths)
    files = len(result.files)
    if args.format == "json":
        print(format_json(result.findings, files=files))
    else:
        render = format_github if args.format == "github" else format_text
        for finding in result.findings:
            print(render(finding))
        print(summary(result.findings, files=files), file=sys.stderr)
    if not result.ok:
        return 1
    return 1 if args.strict and result.warnings else 0
