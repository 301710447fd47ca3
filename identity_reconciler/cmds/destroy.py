"""`identity-reconciler destroy SPECS...`: plan the removal of everything those specs own.

A destroy is an ordinary plan (`plan/destroy.py` says what it aims at): shown, saved with
`--out`, reviewed, and applied with `apply`, under the same ownership rules and safety flags.
It takes every option `plan` takes.
"""

from __future__ import annotations

import argparse

from identity_reconciler.cmds import plan

EXAMPLE = "identity-reconciler destroy specs/shop-dev.yaml --cloud local --out destroy.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    plan.add_arguments(parser)
    parser.set_defaults(destroy=True)


def run(args: argparse.Namespace) -> int:
    return plan.run(args)
