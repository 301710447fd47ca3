"""`identity-reconciler init [DIR]`: scaffold a GitOps repository of identity specs.

Writes `specs/example.yaml` (commented, valid, with the schema line for editors and
`schemas/spec.schema.json`), `.pre-commit-config.yaml`, the plan/apply/drift workflows under
`.github/workflows/` and a README section. Existing files with other content are refused as a
whole (exit 1, nothing written) unless `--force`. Offline: no Azure, no network.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from identity_reconciler.core.errors import UserError
from identity_reconciler.spec.scaffold import ScaffoldError, scaffold

EXAMPLE = "identity-reconciler init my-identities/"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "dir", nargs="?", default=".", metavar="DIR", help="the repository (default: here)"
    )
    parser.add_argument(
        "--force", action="store_true", help="overwrite existing files that differ"
    )


def run(args: argparse.Namespace) -> int:
    root = Path(args.dir)
    if root.exists() and not root.is_dir():
        raise UserError(f"{root} is not a directory")
    try:
        result = scaffold(root, force=args.force)
    except ScaffoldError as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:
        raise UserError(f"cannot write under {root}: {exc.strerror or exc}") from None
    for kind, names in (("created", result.created), ("updated", result.replaced),
                        ("unchanged", result.unchanged), ("skipped", result.skipped)):
        for name in names:
            print(f"{kind:9} {name}")
    where = "" if str(args.dir) == "." else f"cd {args.dir} && "
    print(
        f"\nnext: {where}identity-reconciler validate specs/ && "
        "identity-reconciler plan specs/ --cloud local --out plan.json\n"
        "then: replace OWNER in .github/workflows/ and .pre-commit-config.yaml with the owner "
        "of the identity-reconciler repository you use, and set the repository variables the "
        "README section lists",
        file=sys.stderr,
    )
    return 0
