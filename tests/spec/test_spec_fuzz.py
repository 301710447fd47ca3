"""Fuzzing the loader and the models: bad input becomes findings, never an exception.

The only exception allowed out of the YAML loader is SpecLoadError (located); `validate`
raises nothing at all. Every finding must be located and carry a known rule id.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from identity_reconciler.core.findings import Finding
from identity_reconciler.spec import RULES, SpecLoadError, ValidationResult, parse_yaml, validate

SPECS = Path(__file__).parents[2] / "specs"
SEED = (SPECS / "myapp-prod.yaml").read_text()
FUZZ = settings(
    max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)

KEYS = [
    "subscription", "defaults", "location", "resource_group", "tags", "identities", "name",
    "federated_credentials", "issuer", "subject", "audiences", "assigned_to", "type", "roles",
    "role", "scope", "condition", "condition_version", "description", "resources",
    "system_assigned", "sql", "server", "database", "users", "identity", "prune", "policy",
    "naming", "allow_privileged", "justification", "rules", "safety", "max_delete_percent",
    "min_existing", "management_group", "isolation_scope", "IR101", "<<",
]
WORDS = [
    "11111111-1111-1111-1111-111111111111", "uksouth", "rg-myapp-prod-uks-01",
    "id-myapp-prod-uks-01", "Owner", "Key Vault Secrets User", "Storage Blob Data Reader",
    "Microsoft.Web/sites", "Microsoft.KeyVault/vaults", "kv-1", "app-1", "https://issuer.example",
    "/subscriptions/11111111-1111-1111-1111-111111111111", "/providers/x", "2.0", "off", "",
    "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/A.B/c/d",
    "4633458b-17de-408a-b874-0445c86b69e6", "db_datareader", "sql-1", "Regional", "{app}-{",
]
scalars = st.one_of(
    st.sampled_from(WORDS), st.text(max_size=12), st.integers(-5, 10**6), st.booleans(),
    st.none(), st.floats(allow_nan=False, allow_infinity=False),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(KEYS), inner, max_size=5),
    ),
    max_leaves=25,
)
documents = st.dictionaries(st.sampled_from(KEYS), values, max_size=6)

# Near-valid specs: right keys, plausible values, so the builder and lint get exercised too.
scopes = st.one_of(
    st.sampled_from(WORDS),
    st.fixed_dictionaries(
        {}, optional={
            "resource_group": st.sampled_from(["rg-a", "rg b", ""]),
            "type": st.sampled_from(["Microsoft.KeyVault/vaults", "Microsoft.Sql/servers/databases",
                                     "bad"]),
            "name": st.sampled_from(["kv-1", "sql-1/appdb", "x"]),
            "subscription": st.sampled_from([*WORDS[:1], "nope"]),
            "management_group": st.sampled_from(["mg-1", "bad/mg"]),
        },
    ),
)
grants = st.fixed_dictionaries(
    {"role": st.sampled_from([*WORDS, "Contributor", "Reader", "Ownr"]), "scope": scopes},
    optional={"condition": st.text(max_size=5), "condition_version": st.sampled_from(["2.0"])},
)
identities = st.fixed_dictionaries(
    {"name": st.sampled_from(["id-myapp-prod-uks-01", "id-myapp-prod-uks-02", "x", "MI_one"])},
    optional={
        "roles": st.lists(grants, max_size=3),
        "resource_group": st.sampled_from(["rg-a", "rg-b"]),
        "assigned_to": st.lists(
            st.one_of(st.sampled_from(WORDS), st.fixed_dictionaries(
                {"type": st.sampled_from(["Microsoft.Web/sites", "microsoft.app/containerapps"]),
                 "name": st.sampled_from(["app-1", "ca-1"])})), max_size=2),
    },
)
specs = st.fixed_dictionaries(
    {"subscription": st.sampled_from(WORDS[:1]),
     "defaults": st.just({"location": "uksouth", "resource_group": "rg-a"})},
    optional={
        "identities": st.lists(identities, max_size=3),
        "resources": st.lists(st.fixed_dictionaries(
            {"type": st.just("Microsoft.Web/sites"),
             "name": st.sampled_from(["func-a-prod-01", "app-1"])},
            optional={"roles": st.lists(grants, max_size=2), "system_assigned": st.booleans()},
        ), max_size=2),
        "sql": st.lists(st.fixed_dictionaries(
            {"server": st.just("sql-1"), "database": st.sampled_from(["appdb", "other"]),
             "users": st.lists(st.fixed_dictionaries(
                 {"identity": st.sampled_from(["id-myapp-prod-uks-01", "app-1", "zz"])}),
                 max_size=2)}), max_size=2),
        "policy": st.fixed_dictionaries({}, optional={
            "allow_privileged": st.lists(st.fixed_dictionaries(
                {"role": st.sampled_from(["Owner", "Reader", "Nope"]), "scope": scopes,
                 "justification": st.sampled_from(["why", " "])}), max_size=2),
            "rules": st.dictionaries(st.sampled_from(["IR101", "IR106"]),
                                     st.sampled_from(["off", "error"])),
        }),
    },
)


def _check(result: ValidationResult) -> None:
    assert result.ok is (result.desired is not None)
    for finding in result.findings:
        _located(finding)


def _located(finding: Finding) -> None:
    assert finding.file
    assert finding.line >= 1
    assert finding.column >= 1
    assert finding.rule_id in RULES
    assert finding.message


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "spec.yaml"


@FUZZ
@given(st.text(max_size=300))
def test_loader_on_arbitrary_text(text: str) -> None:
    try:
        for doc in parse_yaml(text, "fuzz.yaml"):
            doc.position(("identities", 0, "roles", 0, "scope"), key=True)
    except SpecLoadError as exc:
        _located(exc.finding)


@FUZZ
@given(documents)
def test_models_on_spec_shaped_data(spec_file: Path, data: dict[str, Any]) -> None:
    spec_file.write_text(yaml.safe_dump(data, sort_keys=False))
    _check(validate([spec_file]))


@FUZZ
@given(specs)
def test_build_and_lint_on_near_valid_specs(spec_file: Path, data: dict[str, Any]) -> None:
    spec_file.write_text(yaml.safe_dump(data, sort_keys=False))
    _check(validate([spec_file]))


@FUZZ
@given(st.randoms(use_true_random=False), st.integers(1, 6))
def test_mutated_seed_spec(spec_file: Path, rnd: random.Random, edits: int) -> None:
    text = list(SEED)
    alphabet = " :-[]{}&*!|>'\"#\n\tabc01"
    for _ in range(edits):
        pos = rnd.randrange(len(text))
        action = rnd.choice(("delete", "insert", "replace", "duplicate-line"))
        if action == "delete":
            del text[pos]
        elif action == "insert":
            text.insert(pos, rnd.choice(alphabet))
        elif action == "replace":
            text[pos] = rnd.choice(alphabet)
        else:
            lines = "".join(text).splitlines(keepends=True)
            i = rnd.randrange(len(lines))
            lines.insert(i, lines[i])
            text = list("".join(lines))
    spec_file.write_text("".join(text))
    _check(validate([spec_file]))


@settings(max_examples=300, deadline=None, database=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes(spec_file: Path, data: bytes) -> None:
    spec_file.write_bytes(data)
    result = validate([spec_file])
    _check(result)
