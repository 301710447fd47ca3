"""Hostile plan files: every edit is refused with PlanFileError, or, when it leaves the
checksummed content as it was (key order, spacing, escapes), accepted as exactly that plan.
Through the CLI, a refused plan is never applied: apply exits 1 before any emulator starts,
so nothing is read or written, and the local state is byte for byte what it was.

A re-sealed forgery (content edited and the checksum recomputed) is not an edit the checksum
can see; test_privileged_grants.py and test_safety_rederived.py cover what stops it.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fuzz_corpus as corpus
import fuzz_harness as harness
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from security_support import watch_local

from identity_reconciler.cli import main
from identity_reconciler.plan.model import Plan, PlanFileError

SPECS = str(corpus.REPO / "specs")
SETTINGS = settings(deadline=None, database=None, suppress_health_check=list(HealthCheck))


@dataclass(frozen=True)
class Seed:
    text: str
    plan: Plan
    state: Path


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Seed:
    root = tmp_path_factory.mktemp("plan-fuzz")
    out, state = root / "plan.json", root / "state"
    assert (
        main(
            ["plan", SPECS, "--cloud", "local", "--state-dir", str(state), "--out", str(out), "-q"]
        )
        == 0
    )
    text = out.read_text()
    plan = Plan.from_json(text)
    assert plan.changes, "the seed plan should have changes to tamper with"
    return Seed(text, plan, state)


@settings(SETTINGS, max_examples=600)
@given(number=st.integers(0, 2**63))
def test_mutated_plan_files_are_refused_or_unchanged(number: int, seed: Seed) -> None:
    text, format_only = corpus.plan_mutation(random.Random(number), seed.text)
    with harness.deadline(10):
        problem, _accepted = harness.check_plan(text, format_only, seed.plan)
    assert problem is None, f"seed {number}: {problem}"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=6)
    ),
    max_leaves=40,
)


@settings(SETTINGS, max_examples=200)
@given(data=json_values, keys=st.booleans())
def test_any_json_is_refused_with_plan_file_error(data: Any, keys: bool) -> None:
    if keys and isinstance(data, dict):
        data = {**data, "format_version": "1.0", "checksum": "sha256:" + "0" * 64}
    with pytest.raises(PlanFileError):
        Plan.from_json(json.dumps(data))


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            h.update(path.name.encode() + path.read_bytes())
    return h.hexdigest()


def test_tampered_plans_are_never_applied(
    seed: Seed,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    watch = watch_local(monkeypatch)
    before = _digest(seed.state)
    rng = random.Random(7)
    refused = 0
    while refused < 25:
        text, format_only = corpus.plan_mutation(rng, seed.text)
        if format_only:
            continue
        try:
            Plan.from_json(text.encode("utf-8", errors="surrogateescape"))
            continue  # (cannot happen: the test above would have failed)
        except PlanFileError:
            pass
        plan_file = tmp_path / f"tampered-{refused}.json"
        plan_file.write_bytes(text.encode("utf-8", errors="surrogateescape"))
        for extra in ([], ["--allow-privileged", "--allow-delete-identity", "--allow-mass-change"]):
            rc = main(
                ["apply", str(plan_file), "--specs", SPECS, "--state-dir", str(seed.state), *extra]
            )
            err = capsys.readouterr().err
            assert rc == 1
            assert "refusing plan file" in err
            assert "Traceback" not in err
        refused += 1
    assert watch.stats == []  # no emulator was started: nothing read, nothing written
    assert _digest(seed.state) == before
