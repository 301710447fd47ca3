"""A pull request that changes 2,000 things still gets one comment GitHub accepts (at most
65,536 characters), saying how much it left out and where the full plan is."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_workflow_scripts import BOT, plan_comment
from workflow_files import PLAN_MARKER

from identity_reconciler.cli import main

GITHUB_COMMENT_LIMIT = 65_536
SPEC_HEAD = """\
subscription: 11111111-1111-1111-1111-111111111111
defaults: {location: uksouth, resource_group: rg-app-prod-uks-01, tags: {env: prod}}
identities:
"""


def big_specs(folder: Path, identities: int = 400, grants_each: int = 4) -> Path:
    """`identities` new identities with `grants_each` grants each: identities x (1 + grants)."""
    lines = [SPEC_HEAD]
    for i in range(identities):
        lines.append(f"  - name: id-app{i:03d}-prod-uks-01\n    roles:\n")
        for j in range(grants_each):
            lines.append(f"      - {{role: Reader, scope: {{resource_group: rg-data{j}-prod}}}}\n")
    folder.mkdir()
    (folder / "big.yaml").write_text("".join(lines))
    return folder


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_comment_for_2000_changes_fits_and_says_what_it_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    specs = big_specs(tmp_path / "specs")
    rc = main(["plan", str(specs), "--cloud", "local", "--state-dir", str(tmp_path / "state"),
               "--format", "markdown", "--out", str(tmp_path / "plan.json")])
    assert rc == 0
    (tmp_path / "plan.md").write_text(capsys.readouterr().out)
    calls = plan_comment(tmp_path, [{"id": 5, "user": BOT, "body": PLAN_MARKER}])
    body = calls[0][1]["body"]
    assert calls[0][0] == "updateComment"
    assert body.startswith(PLAN_MARKER)
    assert len(body) <= GITHUB_COMMENT_LIMIT
    assert len(body.encode("utf-8")) <= GITHUB_COMMENT_LIMIT
    assert "Plan: 2000 to add, 0 to change, 0 to destroy." in body
    assert "of 2,000 changes are not shown" in body
    assert "The full plan is in the JSON artifact (`plan.json`)" in body
    assert body.count("<details") == body.count("</details>")
