"""What a person at a terminal gets and a CI log does not: colour and live progress lines.

One place decides both, so `--no-color`, `NO_COLOR` (https://no-color.org: set and not empty),
`TERM=dumb` and `-q` mean the same thing for every command. Progress is drawn on stderr, only
when stderr is a terminal, and never mixes with the results on stdout.

This module imports nothing of the project, so every layer may use it.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

_settings = {"no_color": False, "quiet": False}


def configure(*, no_color: bool = False, quiet: bool = False) -> None:
    """Process-wide choices from the global flags (`--no-color`, `-q`)."""
    _settings["no_color"] = no_color
    _settings["quiet"] = quiet


def quiet() -> bool:
    """`-q` was given: print results and errors, no progress or per-step chatter."""
    return _settings["quiet"]


def say(text: str) -> None:
    """Per-step chatter on stderr ("Read live state ...", "Applying 6 change(s)"): not with -q.

    Results go to stdout and errors to stderr unconditionally; only this is optional.
    """
    if not quiet():
        print(text, file=sys.stderr, flush=True)


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty is not None and isatty())
    except ValueError:  # a closed stream
        return False


def _dumb() -> bool:
    return os.environ.get("TERM", "") == "dumb"


def color_enabled(stream: TextIO | None = None, *, no_color: bool = False) -> bool:
    """Colour only for a terminal, and never with --no-color, NO_COLOR or TERM=dumb."""
    if no_color or _settings["no_color"] or os.environ.get("NO_COLOR") or _dumb():
        return False
    return _is_terminal(stream if stream is not None else sys.stdout)


def interactive(stream: TextIO | None = None) -> bool:
    """Whether redrawn progress lines belong on `stream` (default stderr)."""
    if quiet() or _dumb():
        return False
    return _is_terminal(stream if stream is not None else sys.stderr)


class ProgressLine:
    """A single status line redrawn in place on a terminal; silent anywhere else.

        with ProgressLine("Applying", total=len(changes)) as bar:
            for change in changes:
                ...
                bar.advance()

    `detail`, when given, is called at each redraw (e.g. the request count so far). With
    `ticker=True` a background thread redraws every `interval` seconds, for waits with no
    steps of their own (reading live state); it stops when the block ends.
    """

    def __init__(
        self,
        label: str,
        total: int | None = None,
        *,
        detail: Callable[[], str] | None = None,
        stream: TextIO | None = None,
        interval: float = 0.2,
        ticker: bool = False,
    ) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self.detail = detail
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = interactive(self.stream)
        self.interval = interval
        self._started = time.monotonic()
        self._drawn_at = 0.0
        self._drawn = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if ticker and self.enabled:
            self._thread = threading.Thread(target=self._tick, name="progress", daemon=True)

    def __enter__(self) -> ProgressLine:
        if self._thread is not None:
            self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def text(self) -> str:
        elapsed = time.monotonic() - self._started
        count = f" {self.done}/{self.total}" if self.total is not None else ""
        if self.total:
            count += f" ({100 * self.done // self.total}%)"
        extra = ""
        if self.detail is not None:
            try:
                extra = f", {self.detail()}"
            except Exception:  # progress must never break the work it reports on
                extra = ""
        return f"{self.label}{count}{extra} [{elapsed:.0f} s]"

    def advance(self, steps: int = 1) -> None:
        with self._lock:
            self.done += steps
            now = time.monotonic()
            finished = self.total is not None and self.done >= self.total
            if finished or now - self._drawn_at >= self.interval:
                self._draw(now)

    def message(self, line: str) -> None:
        """A line that stays (a failure, a warning): printed above the progress line."""
        with self._lock:
            self._clear()
            self.stream.write(line.rstrip("\n") + "\n")
            self.stream.flush()
            if self.enabled:
                self._draw(time.monotonic())

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=2 * self.interval + 1)
        with self._lock:
            self._clear()

    def _tick(self) -> None:
        while not self._stop.wait(self.interval):
            with self._lock:
                self._draw(time.monotonic())

    def _draw(self, now: float) -> None:
        if not self.enabled:
            return
        self.stream.write("\r\x1b[2K" + self.text())
        self.stream.flush()
        self._drawn = True
        self._drawn_at = now

    def _clear(self) -> None:
        if self._drawn:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self._drawn = False
