"""Helpers for apply's end-to-end tests: run the CLI, and watch the emulator it starts.

With `--cloud local` every CLI invocation starts the emulator in-process on `--state-dir` and
stops it on exit, so a test cannot hold the RunningEmulator. `watch_local` wraps
`emulator.api.running` for the test's duration: it can start those emulators with knobs
(throttling, replication window) and records each one's request counters when it stops.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from identity_reconciler.azure.clients import Session, connect_emulator
from identity_reconciler.cli import main
from local_azure import api
from local_azure.kernel import Settings

REPO = Path(__file__).resolve().parents[2]
SPECS = str(REPO / "specs")
SUB = "11111111-1111-1111-1111-111111111111"
RG = "rg-myapp-prod-uks-01"
RG_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}"
SITE = f"{RG_ID}/providers/Microsoft.Web/sites/app-myapp-prod-uks-01"
WRITES = ("PUT", "PATCH", "DELETE", "POST")


@dataclass
class Watch:
    """Counters of every emulator a CLI call started while watched (one dict per run)."""

    runs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def last(self) -> dict[str, Any]:
        assert self.runs, "no emulator was started"
        return self.runs[-1]

    def writes(self, run: dict[str, Any] | None = None) -> int:
        by_method = (run or self.last)["by_method"]
        return sum(int(by_method.get(m, 0)) for m in WRITES)

    def statuses(self, run: dict[str, Any] | None = None) -> dict[str, int]:
        return dict((run or self.last)["by_status"])


def watch_local(
    monkeypatch: pytest.MonkeyPatch,
    *,
    settings: Settings | None = None,
    configure: dict[str, Any] | None = None,
) -> Watch:
    watch = Watch()
    real = api.running

    @contextmanager
    def running(**kwargs: Any) -> Iterator[api.RunningEmulator]:
        if settings is not None:
            kwargs["settings"] = dataclasses.replace(settings)
        with real(**kwargs) as emu:
            if configure:
                emu.configure(**configure)
            try:
                yield emu
            finally:
                watch.runs.append(emu.stats())

    monkeypatch.setattr(api, "running", running)
    return watch


@contextmanager
def sdk_session(state: Path) -> Iterator[Session]:
    """SDK clients on the same state directory the CLI uses (between CLI calls)."""
    emu = api.start(state_dir=state)  # not `running`: that one may be watched
    try:
        with connect_emulator(emu.info) as session:
            yield session
    finally:
        emu.stop()


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def local(state: Path) -> list[str]:
    return ["--cloud", "local", "--state-dir", str(state)]


def plan_to(
    capsys: pytest.CaptureFixture[str], specs: str, state: Path, out: Path, *extra: str
) -> dict[str, Any]:
    rc, _, err = cli(capsys, "plan", specs, *local(state), "--out", str(out), *extra)
    assert rc == 0, err
    data: dict[str, Any] = json.loads(out.read_text())
    return data


def converged(capsys: pytest.CaptureFixture[str], specs: str, state: Path, *extra: str) -> bool:
    rc, _out, err = cli(capsys, "plan", specs, *local(state), "--detailed-exitcode", *extra)
    assert rc in (0, 2), err
    return rc == 0
