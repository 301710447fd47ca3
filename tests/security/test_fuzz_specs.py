"""Hostile spec files: validate() raises nothing, hangs on nothing, and locates every finding.

Inputs come from tests/security/fuzz_corpus.py (real specs mutated byte- and token-wise, random
documents over the spec vocabulary), drawn by hypothesis from seeds, plus documents hypothesis
builds itself for the models. The YAML bombs fail at the loader's limits with IR003 (or, for
what is within them, an ordinary finding) and their traced peak stays bounded; the time each
takes is printed by benchmarks/fuzz_inputs.py, not asserted here.
"""

from __future__ import annotations

import random
import tracemalloc
from pathlib import Path
from typing import Any

import fuzz_corpus as corpus
import fuzz_harness as harness
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from identity_reconciler.spec import RULES, validate
from identity_reconciler.spec.diagnostics import validate_document
from identity_reconciler.spec.yamlload import LocatedDocument

FUZZ = settings(
    max_examples=700, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
DEADLINE_S = 10.0


@FUZZ
@given(seed=st.integers(0, 2**63))
def test_mutated_and_random_spec_files(seed: int, tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.getbasetemp()
    with harness.deadline(DEADLINE_S):
        problem = harness.check_spec(corpus.spec_text(random.Random(seed)), folder)
    assert problem is None, f"seed {seed}: {problem}"


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(corpus.SPEC_WORDS),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(corpus.SPEC_KEYS) | st.text(max_size=8), inner, max_size=5
        )
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(data=json_values)
def test_models_take_any_data_and_answer_with_located_findings(data: Any) -> None:
    doc = LocatedDocument("fuzz.yaml", 0, data=data)
    with harness.deadline(DEADLINE_S):
        spec, findings = validate_document(doc)
    assert (spec is None) == bool(findings)
    for f in findings:
        assert min(f.line, f.column) >= 1
        assert f.rule_id in RULES


@pytest.mark.parametrize("name", sorted(corpus.bombs()))
def test_yaml_bombs_are_refused_within_bounds(name: str, tmp_path: Path) -> None:
    data = corpus.bombs()[name]
    path = tmp_path / "bomb.yaml"
    path.write_bytes(data)
    traced = len(data) < 1_000_000  # the big ones are traced by the benchmark instead
    if traced:
        tracemalloc.start()
    try:
        with harness.deadline(60):
            result = validate([path])
        peak = tracemalloc.get_traced_memory()[1] if traced else 0
    finally:
        tracemalloc.stop()
    assert result.errors, "a bomb passed validation"
    for f in result.errors:
        assert min(f.line, f.column) >= 1
        assert f.rule_id in RULES
    if "documents" not in name and "scalar" not in name:
        assert {f.rule_id for f in result.errors} == {"IR003"}, result.errors[0]
    assert peak < 64 * 2**20, f"{peak / 2**20:.0f} MiB traced"
