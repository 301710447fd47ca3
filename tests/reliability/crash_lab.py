"""Kill `identity-reconciler apply` with SIGKILL part-way, then plan and apply again.

A run: a fresh state directory; someone else's identity, credential, attachment and grant put
there first (`estate`-style unowned objects, snapshotted); `plan --out` of a generated estate
(`identities` x (identity + credential + attachment + `grants` grants) changes); `apply` in a
subprocess, killed with SIGKILL once a seeded number of its changes has finished (plus a seeded
few milliseconds, so the kill lands inside requests); then plan and apply as a user would, at
most `MAX_ATTEMPTS` times, until the plan is empty. The store must then pass `check_estate`
and SQLite's integrity check.

Two placements of the emulator:
- `in-process`: `--cloud local --state-dir D`, the emulator lives inside the killed apply, so
  the kill also tests the durability of its SQLite state (WAL);
- `external`: `identity-reconciler emulator serve --state D` in its own process, named to every
  command by IDENTITY_RECONCILER_LOCAL_*; the kill cuts apply's requests in flight while the
  emulator carries on (a write can land after its client died).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import estate

from identity_reconciler.azure.clients import (
    LOCAL_CA_BUNDLE_ENV,
    LOCAL_ENDPOINT_ENV,
    LOCAL_IDENTITY_HEADER_ENV,
    connect_emulator,
)
from identity_reconciler.azure.localworld import world_for
from identity_reconciler.cli import main
from identity_reconciler.core import privilege
from identity_reconciler.core.state import DesiredState
from local_azure import api
from local_azure.app import STATE_FILE
from local_azure.store import Store

MAX_ATTEMPTS = 3
VARIANTS = ("in-process", "external")
ATTACH_TO = (
    ("Microsoft.Web/sites", "app-myapp-prod-uks-01"),
    ("Microsoft.App/containerApps", "ca-myapp-prod-uks-01"),
    ("Microsoft.Web/sites", "func-myapp-prod-uks-01"),
)
WAIT_LIMIT_S = 120.0  # no single subprocess may take longer than this


def role_guids(count: int) -> list[str]:
    """`count` non-privileged built-in role ids, in a stable order."""
    text = resources.files("identity_reconciler.data").joinpath("builtin-roles.json").read_text()
    ids = sorted(str(r["id"]).lower() for r in json.loads(text))
    usable = [i for i in ids if not privilege.of_guid(i).privileged]
    return usable[:count]


def spec_text(identities: int, grants: int) -> str:
    lines = [
        f"subscription: {estate.SUB}",
        f"defaults: {{location: uksouth, resource_group: {estate.RG}, tags: {{env: prod}}}}",
        "identities:",
    ]
    chosen = role_guids(grants)
    for i in range(identities):
        target = ATTACH_TO[i % len(ATTACH_TO)]
        lines += [
            f"  - name: id-crash{i:02d}-prod-uks-01",
            "    federated_credentials:",
            f'      - {{name: gh-main, issuer: "{estate.ISSUER}", '
            f'subject: "repo:contoso/crash{i:02d}:ref:refs/heads/main"}}',
            "    assigned_to:",
            f"      - {{type: {target[0]}, name: {target[1]}}}",
            "    roles:",
        ]
        lines += [f"      - {{role: {guid}, scope: {estate.RG_ID}}}" for guid in chosen]
    return "\n".join(lines) + "\n"


def changes_of(identities: int, grants: int) -> int:
    return identities * (3 + grants)


# --------------------------------------------------------------------------- running commands


def cli(*argv: str) -> tuple[int, str, str]:
    """The CLI in this process, its output captured."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(list(argv))
    return rc, out.getvalue(), err.getvalue()


def local_env(info: api.EmulatorInfo) -> dict[str, str]:
    return {
        LOCAL_ENDPOINT_ENV: info.endpoint,
        LOCAL_CA_BUNDLE_ENV: info.ca_bundle,
        LOCAL_IDENTITY_HEADER_ENV: info.identity_header,
    }


@contextlib.contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def command(*argv: str) -> list[str]:
    return [sys.executable, "-m", "identity_reconciler", *argv]


class Served:
    """`identity-reconciler emulator serve` in its own process (stopped with SIGTERM)."""

    def __init__(self, state: Path, world: Path, *extra: str) -> None:
        args = command("emulator", "serve", "--state", str(state), "--world", str(world), *extra)
        self.log = state.parent / f"{state.name}-emulator.log"
        self._err = self.log.open("w")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self._err, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(timeout=10)
            raise RuntimeError(f"the emulator did not start: {self.log.read_text()[-500:]}")
        data = json.loads(line)
        self.info = api.EmulatorInfo(**data)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=WAIT_LIMIT_S)
        finally:
            self._err.close()
            if self.proc.stdout is not None:
                self.proc.stdout.close()


# --------------------------------------------------------------------------- one run


@dataclass
class CrashResult:
    run: int
    variant: str
    planned: int
    done_at_kill: int
    killed: bool  # False: apply finished before the kill point
    attempts: int  # plan + apply runs after the kill until the plan was empty
    converged: bool
    seconds: float  # wall time of the recovery (plan + apply)
    problems: list[str] = field(default_factory=list)


def _done_lines(path: Path) -> int:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return 0
    return sum(1 for line in text.splitlines() if line.startswith("  done "))


def _kill_at(proc: subprocess.Popen[bytes], progress: Path, target: int, jitter: float) -> bool:
    """SIGKILL `proc` once `target` changes are done (+ `jitter` s); False if it ended first."""
    deadline = time.monotonic() + WAIT_LIMIT_S
    while _done_lines(progress) < target:
        if proc.poll() is not None:
            return False
        if time.monotonic() > deadline:
            break
        time.sleep(0.002)
    time.sleep(jitter)
    if proc.poll() is not None:
        return False
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=WAIT_LIMIT_S)
    return True


def stop_process(proc: subprocess.Popen[Any]) -> None:
    """Never leave a command of ours running (a failed or timed-out test)."""
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=WAIT_LIMIT_S)


def _integrity(state: Path) -> list[str]:
    db = sqlite3.connect(state / STATE_FILE)
    try:
        rows = [str(r[0]) for r in db.execute("PRAGMA integrity_check").fetchall()]
    finally:
        db.close()
    return [] if rows == ["ok"] else [f"SQLite integrity check: {'; '.join(rows[:3])}"]


def recover(specs: Path, target: list[str], plan: Path) -> tuple[bool, int, list[str]]:
    """Plan and apply until the plan is empty: (converged, attempts, problems)."""
    problems: list[str] = []
    for attempt in range(1, MAX_ATTEMPTS + 2):
        rc, _, err = cli("plan", str(specs), *target, "--out", str(plan), "--detailed-exitcode")
        if rc == 0:
            return True, attempt - 1, problems
        if rc != 2:
            problems.append(f"plan failed: {err.strip().splitlines()[-1:]}")
            continue
        if attempt > MAX_ATTEMPTS:
            break
        rc, _, err = cli("apply", str(plan), *target[2:])
        if rc != 0:
            failed = [ln for ln in err.splitlines() if ln.startswith(("  FAILED", "error"))]
            problems.append(f"apply attempt {attempt} exit {rc}: {failed[:2]}")
    return False, MAX_ATTEMPTS, problems


def crash_run(
    run: int,
    workdir: Path,
    *,
    variant: str,
    identities: int,
    grants: int,
    seed: int = 0,
    kill_after: int | None = None,
) -> CrashResult:
    """One kill and recovery; the kill comes once `kill_after` changes are done (default: a
    seeded random number of them, plus a seeded 0-20 ms)."""
    rng = random.Random(f"crash:{seed}:{variant}:{run}")
    base = workdir / f"{variant}-{run}"
    specs, state, plan = base / "specs", base / "state", base / "plan.json"
    desired = estate.desired_of(spec_text(identities, grants), specs)
    world = base / "world.json"
    world.write_text(json.dumps(world_for(desired)))
    planned = changes_of(identities, grants)
    served = Served(state, world) if variant == "external" else None
    env = local_env(served.info) if served is not None else {}
    target = ["--cloud", "local"] if served else ["--cloud", "local", "--state-dir", str(state)]
    try:
        with environment(env):
            unowned = prepare(state, world, served)
            rc, _, err = cli("plan", str(specs), *target, "--out", str(plan))
            assert rc == 0, err
        target_done = rng.randrange(planned) if kill_after is None else kill_after
        progress = base / "apply.err"
        with progress.open("wb") as sink:
            proc = subprocess.Popen(
                command("apply", str(plan), *target[2:]),
                stdout=subprocess.DEVNULL,
                stderr=sink,
                env={**os.environ, **env},
            )
            try:
                killed = _kill_at(proc, progress, target_done, rng.uniform(0.0, 0.02))
            finally:
                stop_process(proc)
        done_at_kill = _done_lines(progress)
        started = time.monotonic()
        with environment(env):
            converged, attempts, problems = recover(specs, target, plan)
        seconds = time.monotonic() - started
    finally:
        if served is not None:
            served.stop()
    problems += _integrity(state)
    problems += check_store(state, desired, unowned)
    return CrashResult(
        run,
        variant,
        planned,
        done_at_kill,
        killed,
        attempts,
        converged and not problems,
        seconds,
        problems,
    )


def prepare(state: Path, world: Path, served: Served | None) -> estate.Unowned:
    """Put the unowned objects in place and snapshot them (through the running emulator)."""
    if served is not None:
        with connect_emulator(served.info) as session:
            estate.setup_unowned(session, 0)
        return _snapshot(state)
    emu = api.start(state_dir=state, world=world)
    try:
        with connect_emulator(emu.info) as session:
            estate.setup_unowned(session, 0)
        return estate.snapshot_unowned(emu.context.store)
    finally:
        emu.stop()


def _snapshot(state: Path) -> estate.Unowned:
    store = Store(state / STATE_FILE)
    try:
        return estate.snapshot_unowned(store)
    finally:
        store.close()


def check_store(state: Path, desired: DesiredState, unowned: estate.Unowned) -> list[str]:
    store = Store(state / STATE_FILE)
    try:
        return estate.check_estate(store, desired, unowned)
    finally:
        store.close()


def summary(results: list[CrashResult]) -> dict[str, Any]:
    return {
        "runs": len(results),
        "converged": sum(r.converged for r in results),
        "killed mid-apply": sum(r.killed for r in results),
        "attempts": sorted(r.attempts for r in results),
    }
