"""`identity-reconciler outputs SPECS [--format json|env|github]`: the live client id,
principal id and resource id of every identity the specs declare, for application deployments.

Reads only the identities (one list per subscription, one GET per system-assigned resource).
Exit 1 when an identity does not exist yet, so a deployment never receives an empty id.
`--format github` appends the pairs to $GITHUB_OUTPUT (step outputs) and prints them too.
"""

from __future__ import annotations

import argparse
import os
import sys

from identity_reconciler import terminal
from identity_reconciler.azure.outputs_read import read_declared_identities
from identity_reconciler.cmds.shared import add_target_arguments, load_desired
from identity_reconciler.core.errors import UserError
from identity_reconciler.core.words import count
from identity_reconciler.plan.outputs import (
    check_complete,
    compute_outputs,
    env_pairs,
    render_env,
    render_json,
    select,
)
from identity_reconciler.reconcile.live import open_live

EXAMPLE = "identity-reconciler outputs specs/ --cloud local --format env"
GITHUB_OUTPUT_ENV = "GITHUB_OUTPUT"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("specs", nargs="+", metavar="SPECS", help="spec files or folders")
    add_target_arguments(parser)
    parser.add_argument(
        "--format",
        choices=("json", "env", "github"),
        default="json",
        help="json (default), env (KEY=value lines), or github (step outputs in $GITHUB_OUTPUT)",
    )
    parser.add_argument(
        "--identity",
        metavar="NAME",
        help="only this identity (name or resource id), as AZURE_CLIENT_ID, AZURE_TENANT_ID, "
        "AZURE_PRINCIPAL_ID and AZURE_IDENTITY_RESOURCE_ID",
    )


def run(args: argparse.Namespace) -> int:
    desired = load_desired(args.specs)
    if desired is None:
        return 1
    with open_live(
        args.cloud, world=args.world, state_dir=args.state_dir, desired=desired
    ) as session:
        live = read_declared_identities(session, desired)
    outputs = compute_outputs(desired, live)
    terminal.say(
        f"Read {count(len(outputs), 'identity')} ({args.cloud}): {live.requests} ARM requests"
    )
    chosen = select(outputs, args.identity) if args.identity else None
    check_complete([chosen] if chosen else outputs)
    if args.format == "json":
        sys.stdout.write(render_json([chosen] if chosen else outputs))
        return 0
    text = render_env(env_pairs(outputs, chosen=chosen))
    sys.stdout.write(text)
    if args.format == "github":
        path = os.environ.get(GITHUB_OUTPUT_ENV)
        if not path:
            raise UserError(f"{GITHUB_OUTPUT_ENV} is not set (run this in a GitHub Actions step)")
        try:
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
    return 0
