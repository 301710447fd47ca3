"""The orchestration layer: one plan sequence, and the cloud it records is the one it read."""

from __future__ import annotations

from pathlib import Path

import pytest

from identity_reconciler.core.errors import UserError
from identity_reconciler.reconcile.live import open_live, plan_live
from identity_reconciler.spec import validate

REPO = Path(__file__).resolve().parents[2]


def test_the_plan_records_the_cloud_of_the_session_it_read(tmp_path: Path) -> None:
    desired = validate([REPO / "specs"]).desired
    assert desired is not None
    with open_live("local", state_dir=tmp_path / "state", desired=desired) as session:
        plan, live = plan_live(session, desired)
    assert session.cloud == "local"
    assert plan.target.cloud == "local"
    assert plan.has_changes
    assert live.requests > 0


def test_world_is_for_the_local_cloud_only() -> None:
    refused = pytest.raises(UserError, match="--world applies only to --cloud local")
    with refused, open_live("azure", world="world.yaml"):
        pass


def test_an_unusable_state_dir_is_the_users_to_fix(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(UserError), open_live("local", state_dir=blocker / "state"):
        pass
