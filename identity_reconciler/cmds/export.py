"""`identity-reconciler export --subscription S --out DIR`: specs written from what is live.

For adopting an estate: every user-assigned identity (tags without the ownership tag, location,
isolation scope, federated credentials, attachments, role grants) and every resource with a
system-assigned identity, one file per resource group. The files are validated after writing;
`plan` on them shows no changes for identities identity-reconciler already owns, and only the
ownership updates with `--adopt` for the others. Existing files are never overwritten without
`--force`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from identity_reconciler.azure.inventory import (
    EstateScope,
    list_subscriptions,
    missing_resource_groups,
    read_estate,
)
from identity_reconciler.cmds.shared import add_target_arguments, write_atomic
from identity_reconciler.core import armid
from identity_reconciler.core.errors import UserError
from identity_reconciler.core.findings import Severity, format_text
from identity_reconciler.core.findings import summary as findings_summary
from identity_reconciler.core.words import count
from identity_reconciler.reconcile.live import check_world, open_live
from identity_reconciler.spec import validate
from identity_reconciler.spec.export import DEFAULT_SCHEMA_REF, Export, export_specs

EXAMPLE = (
    "identity-reconciler export --subscription 11111111-1111-1111-1111-111111111111 "
    "--resource-group rg-myapp-prod-uks-01 --out specs/ --cloud local"
)


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
        help="subscription to export (default: every subscription the caller can see); grants "
        "of exported identities are written wherever they are in the subscriptions read and "
        "the management groups the caller sees",
    )
    parser.add_argument(
        "--resource-group",
        action="append",
        default=[],
        metavar="RG",
        help="export only these resource groups (repeatable; default: all)",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the spec files")
    parser.add_argument("--force", action="store_true", help="overwrite existing files")
    parser.add_argument(
        "--schema-ref",
        default=DEFAULT_SCHEMA_REF,
        metavar="PATH",
        help=f"$schema reference in each file's header (default {DEFAULT_SCHEMA_REF})",
    )
    add_target_arguments(parser)


def _read(args: argparse.Namespace) -> Export:
    started = time.monotonic()
    with open_live(args.cloud, world=args.world, state_dir=args.state_dir) as session:
        subs = tuple(dict.fromkeys(args.subscription)) or tuple(list_subscriptions(session))
        missing = set(args.resource_group)
        for sub in subs:
            missing &= set(missing_resource_groups(session, sub, sorted(missing)))
        if missing:
            names = ", ".join(sorted(missing))
            raise UserError(f"no resource group {names} in subscription {', '.join(subs)}")
        scope = EstateScope(subs, frozenset(g.lower() for g in args.resource_group))
        live = read_estate(session, scope, credentials=True)
    print(
        f"Read live state ({args.cloud}): {live.requests} ARM requests in "
        f"{time.monotonic() - started:.1f} s",
        file=sys.stderr,
    )
    return export_specs(
        live,
        subscription_ids=subs,
        resource_groups=args.resource_group,
        schema_ref=args.schema_ref,
    )


def _check_written(paths: list[Path]) -> None:
    """The exported files must validate; a failure here is a bug in export, said plainly."""
    result = validate(paths)
    errors = [f for f in result.findings if f.severity is Severity.ERROR]
    for finding in errors:
        print(format_text(finding), file=sys.stderr)
    if errors:
        raise UserError(
            "the exported specs do not validate; please report this with the findings above"
        )
    print(f"validate: {findings_summary(result.findings, files=len(paths))}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    check_world(args.cloud, args.world)
    out = Path(args.out)
    try:
        if out.exists() and not out.is_dir():
            raise UserError(f"--out {out} is not a folder")
    except OSError as exc:  # a name too long for the system, a loop of symlinks
        raise UserError(f"--out {out}: {exc.strerror or exc}") from None
    exported = _read(args)
    for note in exported.notes:
        print(f"note: {note}", file=sys.stderr)
    if not exported.files:
        print("Nothing to export: no user-assigned or system-assigned identities in scope.")
        return 0
    targets = [out / f.name for f in exported.files]
    try:
        existing = [str(p) for p in targets if p.exists()]
    except OSError as exc:
        raise UserError(f"cannot write to {out}: {exc.strerror or exc}") from None
    if existing and not args.force:
        raise UserError(
            f"refusing to overwrite {', '.join(existing)}; pass --force to replace "
            "them, or export into an empty folder"
        )
    try:
        for target, file in zip(targets, exported.files, strict=True):
            write_atomic(target, file.text)
    except OSError as exc:
        raise UserError(f"cannot write to {out}: {exc.strerror or exc}") from None
    for target, file in zip(targets, exported.files, strict=True):
        line = (
            f"wrote {target}: {count(file.identities, 'identity')}, "
            f"{count(file.resources, 'resource')}, {count(file.grants, 'grant')}"
        )
        if file.unowned:
            line += f" ({len(file.unowned)} not owned yet: plan with --adopt to take them over)"
        print(line)
    _check_written(targets)
    return 0
