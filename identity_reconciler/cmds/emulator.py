"""`identity-reconciler emulator serve`: the embedded local Azure as a foreground process.

It prints one JSON line (endpoint, CA bundle, managed-identity endpoint and secret, tenant,
subscriptions) so scripts can start it and read how to connect, then serves until SIGINT or
SIGTERM and exits 0 with its state flushed.
"""

from __future__ import annotations

import argparse
import logging
import sys

from identity_reconciler.core.errors import UserError

EXAMPLE = "identity-reconciler emulator serve --state .emulator --port 8443"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="emulator_command", metavar="SUBCOMMAND")
    serve = sub.add_parser(
        "serve",
        help="serve until SIGINT/SIGTERM; print one JSON line with connection details",
        description="Serve the emulator in the foreground. Binds loopback addresses only.",
        epilog=f"example:\n  {EXAMPLE}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from local_azure.cli import add_serve_arguments  # the one list of serve options

    add_serve_arguments(serve)


def run(args: argparse.Namespace) -> int:
    if getattr(args, "emulator_command", None) != "serve":
        print("usage: identity-reconciler emulator serve [options]  (see --help)", file=sys.stderr)
        return 1
    from local_azure.api import EmulatorError
    from local_azure.cli import run_server

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="emulator: %(message)s")
    try:
        run_server(args)
    except EmulatorError as exc:
        raise UserError(str(exc)) from None
    return 0
