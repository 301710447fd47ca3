"""`identity-reconciler fmt PATH... [--check]`: spec YAML in canonical order, comments kept.

Without `--check` the changed files are rewritten in place. With it nothing is written: the
files that would change are listed (and their diff shown with `--diff`) and the exit code is 1,
so a pre-commit hook or CI step can refuse unformatted specs. Files that are not YAML, or that
cannot be reordered without changing their meaning, are reported at their line and exit 1.
"""

from __future__ import annotations

import argparse
import sys

from identity_reconciler.core.errors import UserError
from identity_reconciler.core.words import count
from identity_reconciler.spec.fmt_files import format_paths

EXAMPLE = "identity-reconciler fmt specs/ --check"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="spec files or folders")
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; list the files that would change and exit 1 if there are any",
    )
    parser.add_argument(
        "--diff", action="store_true", help="print the unified diff of each file that changes"
    )


def run(args: argparse.Namespace) -> int:
    result = format_paths(args.paths, write=not args.check)
    verb = "would reformat" if args.check else "reformatted"
    for name, diff in zip(result.changed, result.diffs, strict=True):
        print(f"{verb} {name}")
        if args.diff:
            print(diff, end="")
    print(
        f"{count(result.files, 'file')}, {len(result.changed)} {verb}, "
        f"{count(len(result.errors), 'error')}",
        file=sys.stderr,
    )
    if result.errors:
        first, *rest = (str(e) for e in result.errors)
        raise UserError(first, also=rest)
    return 1 if args.check and result.changed else 0
