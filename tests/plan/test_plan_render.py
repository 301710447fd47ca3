"""Views of a plan: golden files, table-driven, plus the markdown size limit.

Regenerate the golden files after an intended change with

    UPDATE_GOLDEN=1 pytest tests/plan/test_plan_render.py

and review the diff like any other code change.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from plan_factories import (
    d_grant,
    d_identity,
    desired,
    identity_id,
    l_identity,
    live,
    plan,
    rg_scope,
    user,
)
from plan_scenarios import SCENARIOS, mixed

from identity_reconciler.plan.model import KNOWN_AFTER_APPLY, Plan
from identity_reconciler.plan.render_json import render_json
from identity_reconciler.plan.render_markdown import MAX_BYTES, render_markdown
from identity_reconciler.plan.render_text import render_text

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

RENDERERS: dict[str, tuple[str, Callable[[Plan], str]]] = {
    "text": ("txt", render_text),
    "text-color": ("ansi.txt", lambda p: render_text(p, color=True)),
    "markdown": ("md", render_markdown),
    "json": ("json", render_json),
}
CASES = [
    (scenario, renderer)
    for scenario in sorted(SCENARIOS)
    for renderer in sorted(RENDERERS)
    if renderer != "text-color" or scenario == "mixed"
]


@pytest.mark.parametrize(("scenario", "renderer"), CASES)
def test_golden(scenario: str, renderer: str) -> None:
    ext, render = RENDERERS[renderer]
    path = GOLDEN / f"{scenario}.{ext}"
    got = render(SCENARIOS[scenario]())
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(got, encoding="utf-8")
    assert path.exists(), f"missing {path}; run with UPDATE_GOLDEN=1 to create it"
    assert got == path.read_text(encoding="utf-8")


def test_views_render_the_saved_json_exactly_like_the_plan() -> None:
    p = mixed()
    data = json.loads(p.to_json())
    assert render_text(data) == render_text(p)
    assert render_markdown(data) == render_markdown(p)
    assert render_json(data) == render_json(p)


def test_empty_plan_says_so() -> None:
    text = render_text(SCENARIOS["empty"]())
    assert text.strip().splitlines()[-1] == "No changes. Live Azure matches the specs."
    assert "No changes. Live Azure matches the specs." in render_markdown(SCENARIOS["empty"]())


def test_text_footer_symbols_and_known_after_apply() -> None:
    text = render_text(SCENARIOS["greenfield"]())
    assert text.rstrip().endswith("Plan: 6 to add, 0 to change, 0 to destroy.")
    assert f"principal_id = {KNOWN_AFTER_APPLY}" in text
    lines = render_text(mixed()).splitlines()
    for sign in ("+", "~", "-", "-/+"):
        assert any(line.startswith(f"  {sign} ") for line in lines), sign


def test_colour_only_when_asked() -> None:
    assert "\x1b[" not in render_text(mixed())
    coloured = render_text(mixed(), color=True)
    assert "\x1b[32m+\x1b[0m" in coloured
    assert "\x1b[31m-\x1b[0m" in coloured


def test_errors_notices_and_safety_are_shown_with_their_location_and_flag() -> None:
    text = render_text(mixed())
    assert "Error: specs/app.yaml:40:5: resource" in text
    assert "specs/app.yaml:3:5: identity id-theirs-prod-uks-01 exists but is not owned" in text
    assert "(pass --allow-delete-identity)" in text
    md = render_markdown(mixed())
    assert md.index("Unsafe plan") < md.index("Plan: ") < md.index("#### Changes")
    assert "`specs/app.yaml:40:5`" in md


def _big_plan(identities: int, grants_each: int) -> Plan:
    ids = [d_identity(f"id-app{i:04d}-prod-uks-01") for i in range(identities)]
    grants = [
        d_grant(user(identity_id(f"id-app{i:04d}-prod-uks-01")), rg_scope(f"rg-data-{j:02d}"))
        for i in range(identities)
        for j in range(grants_each)
    ]
    return plan(desired(ids, [], grants), live())


def test_markdown_of_2000_changes_stays_under_64_kb_and_says_what_it_left_out() -> None:
    p = _big_plan(400, 4)
    assert len(p.changes) == 2000
    md = render_markdown(p, artifact="plan-123.json")
    assert len(md.encode("utf-8")) <= MAX_BYTES
    shown = sum(1 for line in md.splitlines() if line.startswith("# "))
    assert 0 < shown < 2000
    assert f"**{2000 - shown:,} of 2,000 changes are not shown**" in md
    assert "`plan-123.json`" in md
    # Truncation never leaves a block open, and the footer survives.
    assert md.count("<details") == md.count("</details>")
    assert (md.count("```diff") + md.count("```mermaid")) * 2 == md.count("```")
    assert "Plan: 2000 to add" in md
    assert md.rstrip().endswith("</sub>")


def test_markdown_that_fits_is_not_truncated() -> None:
    md = render_markdown(_big_plan(3, 2))
    assert "not shown" not in md
    assert sum(1 for line in md.splitlines() if line.startswith("# ")) == 9


def test_markdown_groups_changes_per_identity() -> None:
    md = render_markdown(mixed())
    assert "<summary><code>identity.rg-myapp-prod-uks-01/id-myapp-prod-uks-01</code>" in md


def test_markdown_caps_long_notice_lists() -> None:
    me = identity_id("id-myapp")
    ids = [d_identity("id-myapp"), *(d_identity(f"id-x{i:03d}") for i in range(60))]
    p = plan(
        desired(ids),
        live(
            [l_identity("id-myapp"), *(l_identity(f"id-x{i:03d}", owned=False) for i in range(60))]
        ),
    )
    assert len(p.notices) == 60
    assert me
    md = render_markdown(p)
    assert "and 10 more" in md
