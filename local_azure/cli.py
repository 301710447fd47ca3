"""`local-azure serve`: the local Azure as a foreground process, on its own.

It prints one JSON line (endpoint, CA bundle, managed-identity endpoint and secret, tenant,
subscriptions) so scripts can start it and read how to connect, then serves until SIGINT or
SIGTERM and exits 0 with its state flushed. `identity-reconciler emulator serve` runs the same
server with the same options.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

from local_azure.api import EmulatorError, Settings, check_loopback, start

PROG = "local-azure"
EXAMPLE = f"{PROG} serve --state .local-azure --port 8443"


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"'{text}' is not between 0 and 1")
    return value


def _non_negative(kind: type[int] | type[float]) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a {kind.__name__}") from None
        if value < 0:
            raise argparse.ArgumentTypeError(f"'{text}' must not be negative")
        return value

    parse.__name__ = kind.__name__
    return parse


def add_serve_arguments(serve: argparse.ArgumentParser) -> None:
    """The options of `serve`: where to listen, which state and world, the realism knobs."""
    serve.add_argument("--host", default="127.0.0.1", help="loopback address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=0, help="port (default 0: any free port)")
    serve.add_argument("--state", metavar="DIR", help="state directory (default: in memory)")
    serve.add_argument(
        "--world", metavar="FILE", help="world file, YAML or JSON (default: built-in)"
    )
    knobs = serve.add_argument_group("realism knobs")
    knobs.add_argument(
        "--latency-ms", type=_non_negative(float), default=0.0, help="added per request"
    )
    knobs.add_argument(
        "--latency-per-item-ms",
        type=_non_negative(float),
        default=0.0,
        metavar="MS",
        help="added per item an answer lists (a single resource counts 1)",
    )
    knobs.add_argument(
        "--latency-per-kib-ms",
        type=_non_negative(float),
        default=0.0,
        metavar="MS",
        help="added per KiB of answer body",
    )
    knobs.add_argument("--error-rate", type=_rate, default=0.0, help="share answered 500/503")
    knobs.add_argument("--drop-rate", type=_rate, default=0.0, help="share of connections reset")
    knobs.add_argument("--throttle", action="store_true", help="ARM token-bucket throttling (429)")
    knobs.add_argument(
        "--throttle-reads",
        action="store_true",
        help="ARM's read bucket alone: 250 burst, 25/s per principal and subscription (429)",
    )
    knobs.add_argument(
        "--replication-window",
        type=_non_negative(float),
        default=0.0,
        metavar="SECONDS",
        help="new principals are unknown to RBAC writes for this long",
    )
    knobs.add_argument("--seed", type=int, default=0, help="seed for every random choice")
    knobs.add_argument("--enforce-rbac", action="store_true", help="authorize callers (403)")
    knobs.add_argument(
        "--role-assignment-limit", type=_non_negative(int), default=4000, metavar="N"
    )
    knobs.add_argument("--page-size", type=int, default=1000, metavar="N", help="list page size")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog=PROG,
        description="A local Azure: ARM and a managed-identity endpoint over HTTPS on "
        "127.0.0.1, state in SQLite. Unmodified Azure SDK clients talk to it.",
    )
    sub = top.add_subparsers(dest="command", metavar="SUBCOMMAND")
    serve = sub.add_parser(
        "serve",
        help="serve until SIGINT/SIGTERM; print one JSON line with connection details",
        description="Serve the local Azure in the foreground. Binds loopback addresses only.",
        epilog=f"example:\n  {EXAMPLE}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_serve_arguments(serve)
    return top


def _problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the options before anything starts, or None."""
    try:
        check_loopback(args.host)
    except EmulatorError as exc:
        return str(exc)
    if args.page_size < 1:
        return "--page-size must be at least 1"
    if args.state and Path(args.state).exists() and not Path(args.state).is_dir():
        return f"--state '{args.state}' exists and is not a directory"
    if args.world and not Path(args.world).is_file():
        return f"world file '{args.world}' does not exist"
    return None


def serve(args: argparse.Namespace) -> int:
    """Start, print the connection facts as one JSON line, serve until a signal; 0 on a stop."""
    problem = _problem(args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    settings = Settings(
        seed=args.seed,
        latency_ms=args.latency_ms,
        latency_per_item_ms=args.latency_per_item_ms,
        latency_per_kib_ms=args.latency_per_kib_ms,
        error_rate=args.error_rate,
        drop_rate=args.drop_rate,
        throttle=args.throttle,
        throttle_reads=args.throttle_reads,
        replication_window_s=args.replication_window,
        enforce_rbac=args.enforce_rbac,
        role_assignment_limit=args.role_assignment_limit,
        page_size=args.page_size,
    )
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            emu = start(
                state_dir=args.state,
                world=args.world,
                settings=settings,
                host=args.host,
                port=args.port,
            )
        except Exception as exc:  # world or state problems: one line, no traceback
            print(f"error: cannot start the local Azure: {exc}", file=sys.stderr)
            return 1
        try:
            print(json.dumps(emu.info.as_json()), flush=True)
            while not stop.wait(0.5):
                pass
        finally:
            emu.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    top = parser()
    args = top.parse_args(argv)
    if args.command != "serve":
        top.print_usage(sys.stderr)
        return 1
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format=f"{PROG}: %(message)s")
    return serve(args)
