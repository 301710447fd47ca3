"""Options every command shares (-v/-q, --log-format, --no-color) and the run environment they set.

They are accepted before the command and after it (`identity-reconciler -v plan ...` and
`identity-reconciler plan ... -v`), because people type both. argparse lets a subcommand's
defaults overwrite values the top level parsed, so each level stores its counts under its own
name and `output_settings` adds them up; the top level's `--no-color` likewise has its own
name, apart from the `--no-color` some commands declare themselves.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass

from identity_reconciler import logsetup, terminal

_VERBOSE, _QUIET = "verbose", "quiet"


@dataclass(frozen=True)
class OutputSettings:
    verbosity: int  # -v minus -q
    log_format: str
    no_color: bool


def add_global_options(parser: argparse.ArgumentParser) -> None:
    """On the program itself: the defaults every run starts from."""
    group = parser.add_argument_group("output (also accepted after the command)")
    group.add_argument(
        "-v",
        "--verbose",
        dest=_VERBOSE,
        action="count",
        default=0,
        help="more log output on stderr: -v info, -vv debug including the Azure SDK's HTTP "
        "traces (credentials are always redacted)",
    )
    group.add_argument(
        "-q",
        "--quiet",
        dest=_QUIET,
        action="count",
        default=0,
        help="less: -q logs errors only and draws no progress lines, -qq logs only critical "
        "failures (results and findings are still printed)",
    )
    group.add_argument(
        "--log-format",
        choices=logsetup.LOG_FORMATS,
        default="text",
        help="text (default) or json: one object per line with ts, level, logger, msg",
    )
    group.add_argument(
        "--no-color",
        dest="global_no_color",
        action="store_true",
        help="never colour output (NO_COLOR=1 in the environment does the same)",
    )


def add_command_options(parser: argparse.ArgumentParser) -> None:
    """On every command and subcommand, after its own options (which win any clash)."""
    key = parser.prog.replace(" ", ".")
    group = parser.add_argument_group("output")
    for flags, kwargs in (
        (
            ("-v", "--verbose"),
            {"dest": f"{_VERBOSE}@{key}", "action": "count", "help": "more log output"},
        ),
        (("-q", "--quiet"), {"dest": f"{_QUIET}@{key}", "action": "count", "help": "less output"}),
        (
            ("--log-format",),
            {"dest": "log_format", "choices": logsetup.LOG_FORMATS, "help": "log line format"},
        ),
        (
            ("--no-color",),
            {"dest": "no_color", "action": "store_true", "default": False, "help": "no colour"},
        ),
    ):
        kwargs.setdefault("default", argparse.SUPPRESS)
        with contextlib.suppress(argparse.ArgumentError):  # the command has its own
            group.add_argument(*flags, **kwargs)
    for action in parser._actions:  # and to a command's own subcommands
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                add_command_options(sub)


def output_settings(args: argparse.Namespace) -> OutputSettings:
    values = vars(args)
    verbose = sum(v for k, v in values.items() if k.split("@")[0] == _VERBOSE and v)
    quiet = sum(v for k, v in values.items() if k.split("@")[0] == _QUIET and v)
    no_color = bool(values.get("global_no_color") or values.get("no_color"))
    return OutputSettings(verbose - quiet, str(values.get("log_format") or "text"), no_color)


def use_color(args: argparse.Namespace) -> bool:
    """Colour only for a person at a terminal, and never when NO_COLOR is set."""
    return terminal.color_enabled(sys.stdout, no_color=getattr(args, "no_color", False))


@contextlib.contextmanager
def run_environment(args: argparse.Namespace) -> Iterator[OutputSettings]:
    """Logging and terminal behaviour for one run, restored when it ends."""
    settings = output_settings(args)
    terminal.configure(no_color=settings.no_color, quiet=settings.verbosity < 0)
    try:
        with logsetup.configured(settings.verbosity, settings.log_format, sys.stderr):
            yield settings
    finally:
        terminal.configure()
