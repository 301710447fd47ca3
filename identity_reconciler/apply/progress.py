"""Progress on stderr while apply runs: a line per change, or one live counter on a terminal.

In CI logs every change gets a line as it finishes, so a slow or failed run can be read
afterwards. At a terminal a single line is redrawn (done / failed / skipped / running, and
whether ARM is throttling), with failures still printed in full above it.
"""

from __future__ import annotations

import threading
from typing import TextIO

from identity_reconciler import terminal
from identity_reconciler.apply.executor import Events, Outcome, Status
from identity_reconciler.apply.graph import Node
from identity_reconciler.apply.report import failure_of
from identity_reconciler.core.words import count


class Progress:
    def __init__(self, stream: TextIO, total: int, *, tty: bool | None = None) -> None:
        self.stream = stream
        self.total = total
        self.tty = terminal.interactive(stream) if tty is None else tty
        self.quiet = terminal.quiet()
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(Status, 0)
        self._running: set[str] = set()
        self._throttled = 0
        self._drawn = False

    def events(self) -> Events:
        return Events(started=self.started, finished=self.finished)

    # ------------------------------------------------------------------ callbacks
    def started(self, node: Node) -> None:
        with self._lock:
            self._running.add(node.address)
            self._redraw()

    def finished(self, node: Node, outcome: Outcome) -> None:
        with self._lock:
            self._running.discard(node.address)
            self._counts[outcome.status] += 1
            line = self._line(node, outcome)
            if not self.tty:
                if outcome.status is not Status.DONE or not self.quiet:
                    self._write(line + "\n")
            elif outcome.status is not Status.DONE:
                self._clear()
                self._write(line + "\n")
            self._redraw()

    def waiting(self, address: str, why: str, seconds: float) -> None:
        with self._lock:
            if why.startswith("throttled"):
                self._throttled += 1
                self._redraw()
                return
            if not self.tty and not self.quiet:
                self._write(f"  wait     {address}: {why}\n")
            self._redraw()

    def close(self) -> None:
        with self._lock:
            if self.tty and self._drawn:
                self._write("\n")
                self._drawn = False
            if self._throttled and not self.tty:
                throttled = count(self._throttled, "write")
                self._write(f"  (ARM throttled {throttled}; each was retried)\n")

    # ------------------------------------------------------------------ drawing
    def _line(self, node: Node, outcome: Outcome) -> str:
        if outcome.status is Status.DONE:
            notes = getattr(outcome.result, "notes", ())
            extra = f" — {'; '.join(notes)}" if notes else ""
            return f"  done     {node.address} ({outcome.seconds:.1f} s){extra}"
        if outcome.status is Status.FAILED:
            failure = failure_of(outcome.error) if outcome.error else None
            return f"  FAILED   {node.address}: {failure.line() if failure else 'unknown error'}"
        return f"  skipped  {node.address}: {outcome.reason}"

    def _clear(self) -> None:
        if self._drawn:
            self._write("\r\x1b[2K")
            self._drawn = False

    def _redraw(self) -> None:
        if not self.tty:
            return
        c = self._counts
        finished = sum(c.values())
        text = (
            f"[{finished}/{self.total}] {c[Status.DONE]} done, {c[Status.FAILED]} failed, "
            f"{c[Status.SKIPPED]} skipped, {len(self._running)} running"
        )
        if self._throttled:
            text += f", throttled {self._throttled}x"
        self._write("\r\x1b[2K" + text)
        self._drawn = True

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()
