"""Small helpers for spec tests: write spec text to files and validate them."""

from __future__ import annotations

import textwrap
from pathlib import Path

from identity_reconciler.core.findings import Finding
from identity_reconciler.spec import ValidationResult, validate

SUB = "11111111-1111-1111-1111-111111111111"
SUB2 = "22222222-2222-2222-2222-222222222222"
RG = "rg-myapp-prod-uks-01"
HEAD = f"""\
subscription: {SUB}
defaults:
  location: uksouth
  resource_group: {RG}
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def check(folder: Path, text: str, name: str = "spec.yaml") -> ValidationResult:
    return validate([write(folder, name, text)])


def rules(result: ValidationResult) -> list[str]:
    return [f.rule_id for f in result.findings]


def only(result: ValidationResult, rule: str) -> Finding:
    hits = [f for f in result.findings if f.rule_id == rule]
    assert len(hits) == 1, result.findings
    return hits[0]
