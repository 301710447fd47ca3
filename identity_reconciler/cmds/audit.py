"""`identity-reconciler audit`: every managed identity with its grants, and what looks wrong.

Reads whole subscriptions in bulk (not just what specs name): privileged grants at broad
scopes, grants whose principal is gone, identities granted nothing, names that break the naming
pattern, and, with `--specs`, identities and grants no spec declares. Exit 0, or 2 with
`--fail-on` when a finding reaches that severity; 1 on error.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from identity_reconciler import terminal
from identity_reconciler.azure.inventory import EstateScope, list_subscriptions, read_estate
from identity_reconciler.cmds.shared import add_target_arguments, load_desired
from identity_reconciler.core import armid
from identity_reconciler.core.findings import Severity
from identity_reconciler.core.state import DesiredState
from identity_reconciler.plan.audit import AuditReport, Naming, audit
from identity_reconciler.plan.audit_render import (
    render_audit_json,
    render_audit_markdown,
    render_audit_text,
)
from identity_reconciler.reconcile.live import check_world, open_live
from identity_reconciler.spec import load_documents
from identity_reconciler.spec.models import DEFAULT_NAMING
from identity_reconciler.spec.naming import naming_regex

EXAMPLE = "identity-reconciler audit --specs specs/ --format markdown --fail-on error"

EXIT_OK, EXIT_ERROR, EXIT_FINDINGS = 0, 1, 2


def _guid(text: str) -> str:
    if not armid.GUID_RE.match(text.strip()):
        raise argparse.ArgumentTypeError(f"'{text}' is not a subscription id (a GUID)")
    return text.strip().lower()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--subscription",
        action="append",
        default=[],
        type=_guid,
        metavar="S",
        help="audit this subscription (repeatable; default: the specs' subscriptions, else "
        "every subscription the caller can see)",
    )
    parser.add_argument(
        "--specs",
        nargs="+",
        default=[],
        metavar="SPECS",
        help="spec files or folders: also flag what no spec declares, and use their naming "
        "pattern and privileged-grant allowances",
    )
    parser.add_argument(
        "--format", choices=("text", "markdown", "json"), default="text", help="output format"
    )
    parser.add_argument(
        "--fail-on",
        choices=("warning", "error"),
        help="exit 2 when a finding is at this severity or worse",
    )
    add_target_arguments(parser)


def naming_of(paths: list[str]) -> str:
    """The specs' `policy.naming` (validation already made sure it is set once and valid)."""
    for doc in load_documents(paths).documents:
        data: Any = doc.data
        policy = data.get("policy") if isinstance(data, dict) else None
        if isinstance(policy, dict) and isinstance(policy.get("naming"), str):
            return str(policy["naming"])
    return DEFAULT_NAMING


def _naming(pattern: str) -> Naming:
    regex = naming_regex(pattern)
    return Naming(pattern, lambda name: bool(regex.match(name)))


def _audit(args: argparse.Namespace, desired: DesiredState | None, naming: Naming) -> AuditReport:
    subs = tuple(args.subscription) or (desired.subscriptions if desired else ())
    started = time.monotonic()
    with open_live(
        args.cloud, world=args.world, state_dir=args.state_dir, desired=desired
    ) as session:
        whole_tenant = not subs
        if whole_tenant:
            subs = tuple(list_subscriptions(session))
        live = read_estate(session, EstateScope(subs))
    terminal.say(
        f"Read live state ({args.cloud}): {live.requests} ARM requests in "
        f"{time.monotonic() - started:.1f} s"
    )
    return audit(live, subscriptions=subs, naming=naming, desired=desired,
                 whole_tenant=whole_tenant)


def run(args: argparse.Namespace) -> int:
    check_world(args.cloud, args.world)
    desired: DesiredState | None = None
    pattern = DEFAULT_NAMING
    if args.specs:
        desired = load_desired(args.specs)
        if desired is None:
            return EXIT_ERROR
        pattern = naming_of(args.specs)
    report = _audit(args, desired, _naming(pattern))
    if args.format == "json":
        sys.stdout.write(render_audit_json(report))
    elif args.format == "markdown":
        sys.stdout.write(render_audit_markdown(report))
    else:
        sys.stdout.write(render_audit_text(report))
    if args.fail_on and report.reaches(Severity(args.fail_on)):
        return EXIT_FINDINGS
    return EXIT_OK
