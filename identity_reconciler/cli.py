"""The `identity-reconciler` console script: a thin dispatcher over `identity_reconciler.cmds`.

Each command lives in its own module exposing `HELP` (one line), `EXAMPLE` (shown in --help),
`add_arguments(parser)` and `run(args) -> int`. This file only wires them together and turns
unexpected failures into a one-line error and exit 1, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from typing import Protocol, cast

from identity_reconciler import __version__
from identity_reconciler.cmds.common import (
    add_command_options,
    add_global_options,
    run_environment,
)
from identity_reconciler.logsetup import redact

# Command name -> module. Kept explicit so `--help` lists them in a useful order.
COMMANDS: dict[str, str] = {
    "validate": "identity_reconciler.cmds.validate",
    "plan": "identity_reconciler.cmds.plan",
    "drift": "identity_reconciler.cmds.drift",
    "apply": "identity_reconciler.cmds.apply",
    "show": "identity_reconciler.cmds.show",
    "export": "identity_reconciler.cmds.export",
    "audit": "identity_reconciler.cmds.audit",
    "emulator": "identity_reconciler.cmds.emulator",
    "completion": "identity_reconciler.cmds.completion",
    "fmt": "identity_reconciler.cmds.fmt",
    "outputs": "identity_reconciler.cmds.outputs",
    "init": "identity_reconciler.cmds.init",
    "graph": "identity_reconciler.cmds.graph",
}


class Command(Protocol):
    HELP: str
    EXAMPLE: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="identity-reconciler",
        description="Azure managed identities, federated credentials and RBAC grants as code.",
        epilog="example:\n  identity-reconciler validate specs/",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    add_global_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        module = cast(Command, importlib.import_module(module_name))
        cmd_parser = sub.add_parser(
            name,
            help=module.HELP,
            description=module.HELP,
            epilog=f"example:\n  {module.EXAMPLE}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(cmd_parser)
        add_command_options(cmd_parser)
        cmd_parser.set_defaults(_run=module.run)
    parser.set_defaults(_parser=parser)  # for commands that describe the CLI (completion)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help(sys.stderr)
        return 1
    with run_environment(args):
        try:
            return int(args._run(args))
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130
        except Exception as exc:  # last resort: one clear line, never a traceback
            logging.getLogger("identity_reconciler.cli").debug(
                "unexpected error", exc_info=True, extra=_error_fields(exc)
            )
            print(f"error: {type(exc).__name__}: {redact(str(exc))}", file=sys.stderr)
            return 1


def _error_fields(exc: BaseException) -> dict[str, object]:
    """ARM's request id and code, when the error carries them, as structured log fields."""
    return {
        name: value
        for name in ("request_id", "code", "status")
        if (value := getattr(exc, name, None)) not in (None, "")
    }


if __name__ == "__main__":
    raise SystemExit(main())
