"""Colour and progress: one decision for every command, and nothing drawn outside a terminal."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from identity_reconciler import terminal
from identity_reconciler.cli import main

REPO = Path(__file__).resolve().parents[2]


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    yield
    terminal.configure()


def test_colour_only_on_a_terminal() -> None:
    assert terminal.color_enabled(Tty())
    assert not terminal.color_enabled(io.StringIO())


@pytest.mark.parametrize("value", ["1", "true", "0"])
def test_no_color_set_and_not_empty_turns_colour_off(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", value)
    assert not terminal.color_enabled(Tty())


def test_empty_no_color_is_ignored_as_the_convention_says(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "")
    assert terminal.color_enabled(Tty())


def test_flag_global_switch_and_dumb_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not terminal.color_enabled(Tty(), no_color=True)
    terminal.configure(no_color=True)
    assert not terminal.color_enabled(Tty())
    terminal.configure()
    monkeypatch.setenv("TERM", "dumb")
    assert not terminal.color_enabled(Tty())
    assert not terminal.interactive(Tty())


def test_progress_is_drawn_on_a_terminal_and_cleared() -> None:
    stream = Tty()
    with terminal.ProgressLine("Applying", total=3, stream=stream, interval=0) as bar:
        for _ in range(3):
            bar.advance()
        bar.message("FAILED x")
    out = stream.getvalue()
    assert "Applying 3/3 (100%)" in out
    assert "FAILED x\n" in out
    assert out.endswith("\r\x1b[2K")  # the last thing written clears the line


def test_progress_writes_nothing_but_messages_elsewhere_or_when_quiet() -> None:
    plain = io.StringIO()
    with terminal.ProgressLine("Applying", total=2, stream=plain) as bar:
        bar.advance(2)
        bar.message("FAILED x")
    assert plain.getvalue() == "FAILED x\n"
    terminal.configure(quiet=True)
    quiet = Tty()
    with terminal.ProgressLine("Reading", stream=quiet, ticker=True, interval=0.01):
        time.sleep(0.05)
    assert quiet.getvalue() == ""


def test_ticker_redraws_with_detail_while_waiting() -> None:
    stream = Tty()
    with terminal.ProgressLine(
        "Reading live state", detail=lambda: "7 ARM requests", stream=stream, ticker=True,
        interval=0.01,
    ):
        time.sleep(0.1)
    assert "Reading live state, 7 ARM requests" in stream.getvalue()


def test_no_color_reaches_the_plan_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """stdout a terminal: colour by default, none with --no-color before the command."""
    monkeypatch.setattr("sys.stdout.isatty", lambda: True, raising=False)
    state = str(tmp_path / "state")
    specs = str(REPO / "specs")
    main(["plan", specs, "--cloud", "local", "--state-dir", state])
    assert "\x1b[" in capsys.readouterr().out
    main(["--no-color", "plan", specs, "--cloud", "local", "--state-dir", state])
    assert "\x1b[" not in capsys.readouterr().out
    monkeypatch.setenv("NO_COLOR", "1")
    main(["plan", specs, "--cloud", "local", "--state-dir", state])
    assert "\x1b[" not in capsys.readouterr().out


def test_quiet_is_visible_to_other_layers() -> None:
    assert not terminal.quiet()
    terminal.configure(quiet=True)
    assert terminal.quiet()
    assert not terminal.interactive(Tty())
