"""Two `apply` runs of the same specs at once, against one emulator process.

They converge with no duplicate grant, and the only error either may report is the stale-plan
refusal (PlanStale: an object changed since that run's plan — the other run made it), which a
new plan and apply resolve: apply checks each object right before writing it, and the grant
names are deterministic, so two writers of one grant write the same assignment.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import race_lab


@pytest.mark.parametrize("mode", ["specs", "plan"])
def test_two_applies_at_once_converge_and_fail_only_as_stale(mode: str, tmp_path: Path) -> None:
    result = race_lab.race_run(0, tmp_path, mode=mode, identities=3, grants=6)
    assert set(result.exit_codes) <= {0, 1}
    assert set(result.errors) <= {"PlanStale"}, result.errors
    if 1 in result.exit_codes:
        assert result.errors["PlanStale"] > 0  # a failed run says why
    assert result.problems == []
    assert result.converged
    assert result.attempts <= 1  # at most one more plan + apply
