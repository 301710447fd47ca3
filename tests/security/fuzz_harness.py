"""Running one fuzz input: what counts as a failure, a per-input deadline, and a sealed world.

A failure is a traceback (an exception leaving the code under test, or reaching the CLI's
last-resort handler, OSErrors aside: see `Sealed.os_errors`), an exit code outside {0, 1, 2},
a finding without a location, a plan file accepted although its content changed, or a hang
(the per-input deadline). While `sealed()` is active nothing can leave the process: the
orchestrator's `open_session` answers as if the network were down, the emulator cannot
start, and any socket connection is refused and counted.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import socket
import sys
import tempfile
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from identity_reconciler import cli
from identity_reconciler.azure.errors import ArmUnavailable
from identity_reconciler.plan.model import Plan, PlanFileError
from identity_reconciler.reconcile import live
from identity_reconciler.spec import RULES, validate
from local_azure import api
from local_azure.app import EmulatorError


class Hang(BaseException):
    """The per-input deadline passed (a BaseException, so no `except Exception` swallows it)."""


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise Hang in the main thread if the block runs longer than `seconds`."""

    def expire(_signum: int, _frame: FrameType | None) -> None:
        raise Hang(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Sealed:
    """What the sealed world saw: sessions asked for, connections tried, unexpected errors."""

    root: Path
    sessions: int = 0
    connections: list[Any] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    # OSErrors that reached the CLI's last-resort handler (a path the system refuses, such as a
    # name too long for it): reported as one `error:` line and exit 1, so not failures, but
    # counted, because a command could say it better.
    os_errors: list[str] = field(default_factory=list)


@contextlib.contextmanager
def sealed() -> Iterator[Sealed]:
    """A temporary working directory with no way out of the process (see the module doc)."""
    saved: list[tuple[Any, str, Any]] = []

    def patch(owner: Any, name: str, value: Any) -> None:
        saved.append((owner, name, getattr(owner, name)))
        setattr(owner, name, value)

    with tempfile.TemporaryDirectory(prefix="ir-fuzz-") as tmp:
        world = Sealed(Path(tmp))

        def no_session(*_a: Any, **_k: Any) -> Any:
            world.sessions += 1
            raise ArmUnavailable(0, "ArmUnavailable", "sealed: no network in the fuzz run")

        def no_emulator(*_a: Any, **_k: Any) -> Any:
            raise EmulatorError("sealed: no servers in the fuzz run")

        def no_connect(_sock: Any, address: Any, *_a: Any) -> Any:
            world.connections.append(address)
            raise OSError("sealed: no connections in the fuzz run")

        def record(exc: BaseException) -> dict[str, object]:
            if isinstance(exc, OSError):  # the file system refused a path: one clear line
                world.os_errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")
            else:
                world.unexpected.append("".join(traceback.format_exception(exc)))
            return {}

        cwd = Path.cwd()
        try:
            patch(live, "open_session", no_session)  # every command's one way to Azure
            patch(api, "start", no_emulator)
            patch(socket.socket, "connect", no_connect)
            patch(socket.socket, "connect_ex", no_connect)
            patch(cli, "_error_fields", record)
            os.chdir(tmp)
            yield world
        finally:
            os.chdir(cwd)
            for owner, name, value in reversed(saved):
                setattr(owner, name, value)


# ---------------------------------------------------------------------- one input each


def check_spec(data: bytes, folder: Path) -> str | None:
    """validate() on one spec file: never raises; every finding located and of a known rule."""
    path = folder / "fuzz.yaml"
    path.write_bytes(data)
    try:
        result = validate([path])
    except Hang:
        raise
    except BaseException:
        return traceback.format_exc()
    for f in result.findings:
        if f.line < 1 or f.column < 1 or not f.file or f.rule_id not in RULES:
            return f"finding without a location or rule: {f}"
    if result.ok and result.desired is None:
        return "valid specs without a desired state"
    return None


def check_argv(argv: list[str], world: Sealed) -> tuple[str | None, str]:
    """cli.main on one command line inside `sealed()`: (problem, outcome label)."""
    out, err = io.StringIO(), io.StringIO()
    before = len(world.unexpected)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), _stdin():
            code = cli.main(argv)
    except SystemExit as exc:  # argparse: 2 for bad usage, 0 for --help / --version
        if exc.code not in (0, 2, None):
            return f"SystemExit({exc.code!r})", "exit ?"
        label = "usage error (argparse 2)" if exc.code == 2 else "help/version (0)"
        return _printed_traceback(out, err), label
    except Hang:
        raise
    except BaseException:
        return _short(traceback.format_exc()), "raised"
    if len(world.unexpected) > before:
        return _short(world.unexpected[-1]), f"exit {code}"
    if code not in (0, 1, 2):
        return f"exit code {code}", f"exit {code}"
    return _printed_traceback(out, err), f"exit {code}"


def _short(text: str) -> str:
    """A traceback's frames and the last line, long values cut (fuzz values can be huge)."""
    lines = [line if len(line) < 300 else line[:300] + "..." for line in text.splitlines()]
    return "\n".join(lines[-12:])


def _printed_traceback(out: io.StringIO, err: io.StringIO) -> str | None:
    text = out.getvalue() + err.getvalue()
    return "a traceback was printed" if "Traceback (most recent call last)" in text else None


@contextlib.contextmanager
def _stdin() -> Iterator[None]:
    """No answer to apply's approval prompt, whatever terminal the fuzz runs in."""
    saved = sys.stdin
    sys.stdin = io.StringIO("")
    try:
        yield
    finally:
        sys.stdin = saved


def check_plan(text: str, format_only: bool, original: Plan) -> tuple[str | None, bool]:
    """Plan.from_json on a mutated file: (problem, accepted).

    Refused must be PlanFileError and nothing else; accepted must mean the original content
    (a change of key order, spacing or escapes only), and such a change must be accepted.
    """
    try:
        got = Plan.from_json(text.encode("utf-8", errors="surrogateescape"))
    except PlanFileError:
        return ("a format-only edit was refused" if format_only else None), False
    except Hang:
        raise
    except BaseException:
        return traceback.format_exc(), False
    if got != original:
        return "a plan whose content changed was accepted", True
    return None, True
