"""The committed JSON Schema matches the models it is generated from."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from identity_reconciler.spec.schema import render, spec_schema

SCHEMA = Path(__file__).parents[2] / "schemas" / "spec.schema.json"


def test_committed_schema_is_current() -> None:
    assert SCHEMA.read_text() == render(), (
        "schemas/spec.schema.json is out of date: run "
        "python -m identity_reconciler.spec.schema > schemas/spec.schema.json"
    )


def test_generator_module_prints_the_schema() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "identity_reconciler.spec.schema"],
        capture_output=True, text=True, check=True,
    ).stdout
    assert out == render()


def test_schema_shape() -> None:
    schema = spec_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]) == {
        "subscription", "defaults", "identities", "resources", "sql", "policy", "acknowledged",
        "managed",
    }
    grant = schema["$defs"]["RoleGrant"]
    assert grant["required"] == ["role", "scope"]
    assert grant["additionalProperties"] is False
    fic = schema["$defs"]["FederatedCredentialSpec"]["properties"]
    assert fic["name"]["pattern"] == "^[a-zA-Z0-9][a-zA-Z0-9-_]{2,119}$"
    assert fic["audiences"]["default"] == ["api://AzureADTokenExchange"]
    json.dumps(schema)
