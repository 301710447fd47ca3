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

from identity_reconciler.azure.clients import open_session
from identity_reconciler.azure.errors import ArmError
from identity_reconciler.azure.inventory import (
    EstateScope,
    list_subscriptions,
    missing_resource_groups,
    read_estate,
)
from identity_reconciler.cmds.plan import add_target_arguments, write_atomic
from identity_reconciler.core import armid
from identity_reconciler.core.findings import Severity, format_text
from identity_reconciler.core.findings import summary as findings_summary
from identity_reconciler.spec import validate
from identity_reconciler.spec.export import DEFAULT_SCHEMA_REF, Export, export_specs

HELP = "write specs from the live identities, attachments and grants of subscriptions"
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


def _read(args: argparse.Namespace) -> Export | None:
    started = time.monotonic()
    with open_session(args.cloud, world=args.world, state_dir=args.state_dir) as session:
        subs = tuple(dict.fromkeys(args.subscription)) or tuple(list_subscriptions(session))
        missing = set(args.resource_group)
        for sub in subs:
            missing &= set(missing_resource_groups(session, sub, sorted(missing)))
        if missing:
            names = ", ".join(sorted(missing))
            print(
                f"error: no resource group {names} in subscription {', '.join(subs)}",
                file=sys.stderr,
            )
            return None
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


def _check_written(paths: list[Path]) -> bool:
    """The exported files must validate; a failure here is a bug in export, said plainly."""
    result = validate(paths)
    errors = [f for f in result.findings if f.severity is Severity.ERROR]
    for finding in errors:
        print(format_text(finding), file=sys.stderr)
    if errors:
        print(
            "error: the exported specs do not validate; please report this with the "
            "findings above",
            file=sys.stderr,
        )
        return False
    print(f"validate: {findings_summary(result.findings, files=len(paths))}", file=sys.stderr)
    return True


def run(args: argparse.Namespace) -> int:
    if args.world and args.cloud != "local":
        print("error: --world applies only to --cloud local", file=sys.stderr)
        return 1
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        print(f"error: --out {out} is not a folder", file=sys.stderr)
        return 1
    try:
        exported = _read(args)
    except ArmError as exc:
        print(f"error: {exc.summary()}", file=sys.stderr)
        return 1
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if exported is None:
        return 1
    for note in exported.notes:
        print(f"note: {note}", file=sys.stderr)
    if not exported.files:
        print("Nothing to export: no user-assigned or system-assigned identities in scope.")
        return 0
    targets = [out / f.name for f in exported.files]
    existing = [str(p) for p in targets if p.exists()]
    if existing and not args.force:
        print(
            f"error: refusing to overwrite {', '.join(existing)}; pass --force to replace "
            "them, or export into an empty folder",
            file=sys.stderr,
        )
        return 1
    try:
        for target, file in zip(targets, exported.files, strict=True):
            write_atomic(target, file.text)
    except OSError as exc:
        print(f"error: cannot write to {out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    for target, file in zip(targets, exported.files, strict=True):
        line = (
            f"wrote {target}: {file.identities} identities, {file.resources} resources, "
            f"{file.grants} grants"
        )
        if file.unowned:
            line += f" ({len(file.unowned)} not owned yet: plan with --adopt to take them over)"
        print(line)
    return 0 if _check_written(targets) else 1
