"""Two `apply` processes of the same specs at once, against one emulator process.

Either both plan for themselves (`apply specs/ --auto-approve`) or both apply one saved plan.
Afterwards: the errors each reported, by kind; then plan and apply as a user would until the
plan is empty, and the store checked as after a crash (`crash_lab`, `estate.check_estate`).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import estate
from crash_lab import (
    WAIT_LIMIT_S,
    Served,
    check_store,
    cli,
    command,
    environment,
    local_env,
    prepare,
    recover,
    spec_text,
    stop_process,
)

from identity_reconciler.azure.localworld import world_for

STALE_LINE = "plan is stale: re-run plan"
NOTHING_WRITTEN = "error: nothing was written; run plan again and review it"


@dataclass
class RaceResult:
    run: int
    mode: str  # "specs": each plans and applies; "plan": both apply one saved plan
    exit_codes: list[int]
    errors: Counter[str]  # error kind -> lines, over both applies
    converged: bool
    attempts: int
    problems: list[str] = field(default_factory=list)


def _error_kinds(stderr: str) -> Counter[str]:
    """Each FAILED/error line of an apply, by kind: PlanStale, or the line itself."""
    kinds: Counter[str] = Counter()
    for line in stderr.splitlines():
        if not line.startswith(("  FAILED", "error:")):
            continue
        if STALE_LINE in line:
            kinds["PlanStale"] += 1
        elif line != NOTHING_WRITTEN:
            kinds[line.strip()[:160]] += 1
    return kinds


def race_run(run: int, workdir: Path, *, mode: str, identities: int, grants: int) -> RaceResult:
    """Two `apply` processes of the same specs at once, against one emulator process."""
    base = workdir / f"race-{mode}-{run}"
    specs, state, plan = base / "specs", base / "state", base / "plan.json"
    desired = estate.desired_of(spec_text(identities, grants), specs)
    world = base / "world.json"
    world.write_text(json.dumps(world_for(desired)))
    served = Served(state, world)
    env = local_env(served.info)
    try:
        with environment(env):
            unowned = prepare(state, world, served)
            if mode == "plan":
                rc, _, err = cli("plan", str(specs), "--cloud", "local", "--out", str(plan))
                assert rc == 0, err
                argv = command("apply", str(plan))
            else:
                argv = command("apply", str(specs), "--cloud", "local", "--auto-approve")
        procs = [
            subprocess.Popen(
                argv,
                env={**os.environ, **env},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        errors: Counter[str] = Counter()
        try:
            for proc in procs:
                _, err = proc.communicate(timeout=WAIT_LIMIT_S)
                errors += _error_kinds(err)
        finally:
            for proc in procs:
                stop_process(proc)
        with environment(env):
            converged, attempts, problems = recover(specs, ["--cloud", "local"], plan)
    finally:
        served.stop()
    problems += check_store(state, desired, unowned)
    codes = [p.returncode for p in procs]
    return RaceResult(run, mode, codes, errors, converged and not problems, attempts, problems)
