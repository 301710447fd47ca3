"""The `identity-reconciler` console script: a thin dispatcher over `identity_reconciler.cmds`.

Each command lives in its own module exposing `EXAMPLE` (shown in --help),
`add_arguments(parser)` and `run(args) -> int`; its one-line help is in `COMMANDS` below, so
that `--help` and `--version` need no command module at all. A command's module is imported
only when that command runs (or its own `--help` is asked for): the Azure SDK, `cryptography`
and the emulator load only for commands that reach Azure, and a pre-commit `validate` starts
in a blink.

Errors reach the user here and only here: a `UserError` raised anywhere below prints as
`error: ...` (plus its `hint:`) with its exit code; anything else is a bug, said so in one line
with how to report it, and its traceback with `-v`.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import sys
from collections.abc import Sequence
from typing import NamedTuple, Protocol, cast

from identity_reconciler import __version__
from identity_reconciler.cmds.common import (
    add_command_options,
    add_global_options,
    run_environment,
)
from identity_reconciler.core import gctune, pluginless, yamlreader
from identity_reconciler.core.errors import UserError
from identity_reconciler.logsetup import redact

EXIT_BUG = 1
REPORT_BUG = (
    "please report it on the identity-reconciler issue tracker with the command you ran and "
    "its output with -v"
)


class Entry(NamedTuple):
    module: str
    help: str
    whole_cli: bool = False  # describes the command line itself: needs every command's options
    threads: bool = False  # reads or serves Azure from many threads (caps malloc's arenas)


# Command name -> module and one-line help. Kept explicit so `--help` lists them in a useful
# order without importing any of them.
COMMANDS: dict[str, Entry] = {
    "validate": Entry(
        "identity_reconciler.cmds.validate",
        "check spec files offline: schema, roles, scopes, cross-file references and policy",
    ),
    "plan": Entry(
        "identity_reconciler.cmds.plan",
        "show what apply would change: validate specs, read live Azure in bulk, diff",
        threads=True,
    ),
    "drift": Entry(
        "identity_reconciler.cmds.drift",
        "report what changed in Azure outside git (and correct it with --fix)",
        threads=True,
    ),
    "apply": Entry(
        "identity_reconciler.cmds.apply",
        "apply a saved plan (or plan and apply specs): ordered, resumable, refuses stale plans",
        threads=True,
    ),
    "destroy": Entry(
        "identity_reconciler.cmds.destroy",
        "plan the removal of everything the given specs own (apply it like any plan)",
        threads=True,
    ),
    "show": Entry(
        "identity_reconciler.cmds.show",
        "render a saved plan file (text, markdown or JSON) without reading Azure",
    ),
    "export": Entry(
        "identity_reconciler.cmds.export",
        "write specs from the live identities, attachments and grants of subscriptions",
        threads=True,
    ),
    "audit": Entry(
        "identity_reconciler.cmds.audit",
        "list every managed identity with its grants, and flag risky, orphaned or stray ones",
        threads=True,
    ),
    "emulator": Entry(
        "identity_reconciler.cmds.emulator",
        "Run the embedded local Azure (an ARM emulator over HTTPS on 127.0.0.1).",
        threads=True,
    ),
    "completion": Entry(
        "identity_reconciler.cmds.completion",
        "print a shell completion script (bash, zsh or fish)",
        whole_cli=True,
    ),
    "fmt": Entry(
        "identity_reconciler.cmds.fmt",
        "put spec YAML in canonical key order and layout, keeping every comment",
    ),
    "outputs": Entry(
        "identity_reconciler.cmds.outputs",
        "print the live client id, principal id and resource id of every declared identity",
        threads=True,
    ),
    "init": Entry(
        "identity_reconciler.cmds.init",
        "scaffold a repository: example spec, schema, pre-commit, workflows, README section",
    ),
    "graph": Entry(
        "identity_reconciler.cmds.graph",
        "draw the identities the specs declare and what they reach (Mermaid or Graphviz DOT)",
    ),
}

# Top-level options that take a value: the token after them is not the command.
_VALUE_OPTIONS = ("--log-format",)


class Command(Protocol):
    EXAMPLE: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def load_command(name: str) -> Command:
    return cast(Command, importlib.import_module(COMMANDS[name].module))


def build_parser(commands: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; only the `commands` named get their options (None: all of them)."""
    parser = argparse.ArgumentParser(
        prog="identity-reconciler",
        description="Azure managed identities, federated credentials and RBAC grants as code.",
        epilog="example:\n  identity-reconciler validate specs/",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    add_global_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, entry in COMMANDS.items():
        if commands is not None and name not in commands:
            sub.add_parser(name, help=entry.help, add_help=False)
            continue
        module = load_command(name)
        cmd_parser = sub.add_parser(
            name,
            help=entry.help,
            description=entry.help,
            epilog=f"example:\n  {module.EXAMPLE}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(cmd_parser)
        add_command_options(cmd_parser)
        cmd_parser.set_defaults(_run=module.run)
    parser.set_defaults(_parser=parser)  # for commands that describe the CLI (completion)
    return parser


def command_in(argv: Sequence[str]) -> str | None:
    """The command `argv` names: its first word that is neither an option nor an option's value."""
    after_value_option = False
    for word in argv:
        if after_value_option:
            after_value_option = False
        elif word.startswith("-"):  # argparse also takes a long option's unique prefix
            after_value_option = word.startswith("--") and any(
                option.startswith(word) for option in _VALUE_OPTIONS
            )
        else:
            return word
    return None


def main(argv: Sequence[str] | None = None) -> int:
    whole_process = argv is None  # the console script: this process is ours alone
    argv = list(sys.argv[1:] if argv is None else argv)
    name = command_in(argv)
    entry = COMMANDS.get(name) if name else None
    # Importing a command (pydantic models, the SDK) allocates much and frees little: collect
    # rarely meanwhile. In a process of our own, then freeze what the imports made, which lives
    # as long as the process (before the threshold drops back, which would collect it first);
    # a caller's process keeps its own garbage collectable.
    if whole_process:
        pluginless.install()
        yamlreader.install()
    with gctune.loading():
        parser = build_parser(
            None if entry and entry.whole_cli else [name] if name and entry else []
        )
        args = parser.parse_args(argv)
        if whole_process:
            gc.freeze()
            if entry and entry.threads:
                gctune.cap_malloc_arenas()
    if not getattr(args, "_run", None):
        parser.print_help(sys.stderr)
        return 1
    with run_environment(args):
        try:
            return int(args._run(args))
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130
        except UserError as exc:
            for message in (str(exc), *exc.also):
                print(f"error: {redact(message)}", file=sys.stderr)
            if exc.hint:
                print(f"hint: {redact(exc.hint)}", file=sys.stderr)
            return exc.exit_code
        except Exception as exc:  # a bug: one line, and the traceback when asked for
            import logging

            # At -v and more: the traceback, through logging (so --log-format json stays JSON).
            logging.getLogger("identity_reconciler.cli").info(
                "unexpected error", exc_info=exc, extra=_error_fields(exc)
            )
            print(
                f"bug: identity-reconciler failed unexpectedly ({type(exc).__name__}: "
                f"{redact(str(exc))}); {REPORT_BUG}",
                file=sys.stderr,
            )
            return EXIT_BUG


def _error_fields(exc: BaseException) -> dict[str, object]:
    """ARM's request id and code, when the error carries them, as structured log fields."""
    return {
        name: value
        for name in ("request_id", "code", "status")
        if (value := getattr(exc, name, None)) not in (None, "")
    }


if __name__ == "__main__":
    raise SystemExit(main())
