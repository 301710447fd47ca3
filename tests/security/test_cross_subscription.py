"""A grant whose scope lies in another subscription than its identity is a legitimate write:
the plan's target names that subscription too, so apply keeps it inside the target and checks
that subscription's tenant, instead of refusing it as out of bounds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from identity_reconciler.cli import main

SPEC = """subscription: 11111111-1111-1111-1111-111111111111
defaults: {location: uksouth, resource_group: rg-myapp-prod-uks-01}
identities:
  - name: id-cross-prod-uks-01
    roles:
      - role: Reader
        scope: /subscriptions/33333333-3333-3333-3333-333333333333/resourceGroups/rg-shared
"""


def test_a_cross_subscription_grant_is_planned_and_applied(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "a.yaml").write_text(SPEC)
    state = str(tmp_path / "state")
    plan = tmp_path / "plan.json"
    local = ["--cloud", "local", "--state-dir", state]
    assert main(["plan", str(specs), *local, "--out", str(plan), "-q"]) == 0
    assert json.loads(plan.read_text())["target"]["subscriptions"] == [
        "11111111-1111-1111-1111-111111111111",
        "33333333-3333-3333-3333-333333333333",
    ]
    assert main(["apply", str(plan), "--specs", str(specs), "--state-dir", state]) == 0
    capsys.readouterr()
