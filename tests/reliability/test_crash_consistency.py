"""SIGKILL of `apply` part-way through a 60-change plan, then plan and apply converge with
nothing lost, nothing duplicated and nothing unowned touched (`crash_lab`), with the emulator
inside the killed process (its SQLite state must survive the kill) or in its own. The kills
come once 3, 10, 25, 40 or 50 changes are done, plus a few milliseconds (inside requests).

`benchmarks/crash_consistency.py --runs 20` does the same on a 500-change plan, with seeded
random kill points.
"""

from __future__ import annotations

from pathlib import Path

import crash_lab
import pytest

from identity_reconciler.apply.concurrency import DEFAULT_CEILING

IDENTITIES, GRANTS = 4, 12  # 4 x (identity + credential + attachment + 12 grants) = 60 changes


@pytest.mark.parametrize(
    ("variant", "kill_after"),
    [("in-process", 3), ("in-process", 25), ("in-process", 50), ("external", 10), ("external", 40)],
)
def test_a_killed_apply_converges_on_the_next_plan_and_apply(
    variant: str, kill_after: int, tmp_path: Path
) -> None:
    result = crash_lab.crash_run(
        0, tmp_path, variant=variant, identities=IDENTITIES, grants=GRANTS, kill_after=kill_after
    )
    assert result.planned == 60
    assert result.problems == []
    assert result.converged
    assert result.attempts <= crash_lab.MAX_ATTEMPTS
    if result.killed and result.attempts == 0:
        # Nothing was left: only the writes still in flight at the kill, which the server
        # finished, may be missing from the progress lines (at most apply's ceiling of them).
        assert result.planned - result.done_at_kill <= DEFAULT_CEILING
