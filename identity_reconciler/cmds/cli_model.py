"""The command line as data: every command, subcommand, option and example, read from argparse.

Shell completion and the CLI reference are generated from this one walk over the parser, so
neither can list an option that does not exist or miss one that does. Only public facts of
argparse actions are read; the subparser map is the one private attribute argparse offers.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

# Metavars that name filesystem paths: completion offers files (or folders) for them.
FILE_METAVARS = frozenset({"FILE", "PATH", "SPECS", "PLAN_OR_SPECS", "PLAN"})
DIR_METAVARS = frozenset({"DIR"})


@dataclass(frozen=True)
class Option:
    flags: tuple[str, ...]
    help: str
    metavar: str | None  # None: a flag without a value
    choices: tuple[str, ...] = ()
    default: str | None = None  # shown only when meaningful
    repeatable: bool = False
    required: bool = False
    group: str | None = None

    @property
    def takes_value(self) -> bool:
        return self.metavar is not None

    @property
    def value_kind(self) -> str:
        """`choice`, `file`, `dir` or `text`: what completion offers after this option."""
        if self.choices:
            return "choice"
        if self.metavar in DIR_METAVARS:
            return "dir"
        if self.metavar in FILE_METAVARS:
            return "file"
        return "text"


@dataclass(frozen=True)
class Positional:
    name: str
    help: str
    many: bool
    optional: bool
    choices: tuple[str, ...] = ()


@dataclass
class Command:
    path: tuple[str, ...]  # () for the program itself, ("emulator", "serve") for a subcommand
    prog: str
    help: str
    description: str
    example: str | None
    options: list[Option] = field(default_factory=list)
    positionals: list[Positional] = field(default_factory=list)
    subcommands: list[Command] = field(default_factory=list)

    @property
    def name(self) -> str:
        return " ".join(self.path)

    def walk(self) -> list[Command]:
        """This command and every command below it, depth first, in declaration order."""
        out = [self]
        for sub in self.subcommands:
            out += sub.walk()
        return out

    def usage(self) -> str:
        """A stable usage line (argparse's own wraps to the terminal width)."""
        parts = [self.prog]
        if self.options:
            parts.append("[options]")
        for opt in self.options:
            if opt.required:
                parts.append(f"{opt.flags[-1]} {opt.metavar}" if opt.metavar else opt.flags[-1])
        if self.subcommands:
            parts.append("{" + ",".join(s.path[-1] for s in self.subcommands) + "} ...")
        for pos in self.positionals:
            word = pos.name + (" ..." if pos.many else "")
            parts.append(f"[{word}]" if pos.optional else word)
        return " ".join(parts)


def subparsers(parser: argparse.ArgumentParser) -> list[tuple[str, str, argparse.ArgumentParser]]:
    """`(name, help, parser)` of each subcommand directly under `parser`."""
    out: list[tuple[str, str, argparse.ArgumentParser]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {c.dest: c.help or "" for c in action._get_subactions()}
            for name, sub in action.choices.items():
                out.append((name, str(helps.get(name, "")), sub))
    return out


def _example(epilog: str | None) -> str | None:
    if not epilog or "example:" not in epilog:
        return None
    text = epilog.split("example:", 1)[1]
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return "\n".join(lines) or None


def _help_text(action: argparse.Action) -> str:
    text = action.help or ""
    if text == argparse.SUPPRESS:
        return ""
    # argparse always %-formats help (so `%%` is how a help string says `%`); do as it does.
    params = {k: v for k, v in vars(action).items() if v is not argparse.SUPPRESS}
    params["prog"] = ""
    for key, value in list(params.items()):
        if hasattr(value, "__name__"):
            params[key] = value.__name__
    if params.get("choices") is not None:
        params["choices"] = ", ".join(str(c) for c in params["choices"])
    return " ".join((text % params).split())


def _metavar(action: argparse.Action) -> str | None:
    if action.nargs == 0:
        return None
    if isinstance(action.metavar, str):
        return action.metavar
    if action.choices:
        return "{" + ",".join(str(c) for c in action.choices) + "}"
    return action.dest.upper()


def _default(action: argparse.Action) -> str | None:
    value = action.default
    if value is None or value is argparse.SUPPRESS or action.nargs == 0:
        return None
    if isinstance(value, list | tuple) and not value:
        return None
    return str(value)


def _groups(parser: argparse.ArgumentParser) -> dict[int, str]:
    """Option id -> its argument group's title, for groups other than argparse's defaults."""
    out: dict[int, str] = {}
    for group in parser._action_groups:
        title = group.title or ""
        if title in ("options", "optional arguments", "positional arguments"):
            continue
        for action in group._group_actions:
            out[id(action)] = title
    return out


def describe(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = (), help_text: str = ""
) -> Command:
    """The command tree under `parser`."""
    groups = _groups(parser)
    command = Command(
        path=path,
        prog=parser.prog,
        help=help_text or (parser.description or ""),
        description=parser.description or "",
        example=_example(parser.epilog),
    )
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            continue
        if action.help == argparse.SUPPRESS:
            continue
        choices = tuple(str(c) for c in action.choices or ()) if action.choices else ()
        if action.option_strings:
            command.options.append(
                Option(
                    flags=tuple(action.option_strings),
                    help=_help_text(action),
                    metavar=_metavar(action),
                    choices=choices,
                    default=_default(action),
                    repeatable=isinstance(action, argparse._AppendAction | argparse._CountAction),
                    required=bool(action.required),
                    group=groups.get(id(action)),
                )
            )
        else:
            command.positionals.append(
                Positional(
                    name=str(action.metavar or action.dest),
                    help=_help_text(action),
                    many=action.nargs in ("*", "+", argparse.REMAINDER),
                    optional=action.nargs in ("*", "?"),
                    choices=choices,
                )
            )
    for name, sub_help, sub in subparsers(parser):
        command.subcommands.append(describe(sub, (*path, name), sub_help))
    return command
