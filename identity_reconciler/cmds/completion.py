"""`identity-reconciler completion bash|zsh|fish`: a completion script for your shell.

Generated from the same parser the command line uses, so it always offers exactly the commands
and options this version has.

    bash: source <(identity-reconciler completion bash)   (or save it under
          ~/.local/share/bash-completion/completions/identity-reconciler)
    zsh:  identity-reconciler completion zsh > "${fpath[1]}/_identity-reconciler"
    fish: identity-reconciler completion fish > ~/.config/fish/completions/identity-reconciler.fish
"""

from __future__ import annotations

import argparse
import sys

from identity_reconciler.cmds.cli_model import describe
from identity_reconciler.cmds.completion_scripts import SHELLS
from identity_reconciler.core.errors import UserError

EXAMPLE = "source <(identity-reconciler completion bash)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("shell", choices=tuple(SHELLS), help="the shell to complete for")


def run(args: argparse.Namespace) -> int:
    root = getattr(args, "_parser", None)
    if not isinstance(root, argparse.ArgumentParser):
        raise UserError("completion needs the identity-reconciler command line")
    sys.stdout.write(SHELLS[args.shell](describe(root)))
    return 0
