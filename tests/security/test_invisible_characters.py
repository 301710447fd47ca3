"""Invisible characters never reach a text or markdown view raw.

Reproduced before: bidirectional and other format characters (Unicode category Cf, such as
U+202E RIGHT-TO-LEFT OVERRIDE and U+2066 LEFT-TO-RIGHT ISOLATE) in tags, descriptions and
credential subjects were printed as they are, so a reviewed line could display reordered.
They are now escaped as `\\uXXXX`, as control characters already were.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from identity_reconciler.cli import main
from identity_reconciler.core.text import visible
from identity_reconciler.plan.audit_render import render_audit_markdown, render_audit_text
from identity_reconciler.plan.drift_render import render_drift_markdown, render_drift_text

INVISIBLE = ["\u202e", "\u2066", "\u2067", "\u2069", "\u200b", "\u200f", "\ufeff", "\U000e0041"]
SPEC = """subscription: 11111111-1111-1111-1111-111111111111
defaults: {location: uksouth, resource_group: rg-myapp-prod-uks-01}
identities:
  - name: id-bidi-prod-uks-01
    tags: {owner: "team\u202e1gm.exe", note: "a\u2066b\u2069c"}
    federated_credentials:
      - {name: github-main, issuer: "https://token.actions.githubusercontent.com",
         subject: "repo:contoso/app:ref:refs/heads/main\u2067x"}
    roles:
      - role: Key Vault Secrets User
        scope: {type: Microsoft.KeyVault/vaults, name: kv-myapp-prod-uks-01}
        description: "read\u200b secrets \u202eot"
"""


def _raw_format_chars(text: str) -> list[str]:
    return [
        f"U+{ord(c):04X}"
        for c in text
        if unicodedata.category(c) in ("Cf", "Cc") and c != "\n"
    ]


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_plan_views_escape_format_characters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    spec = tmp_path / "specs" / "bidi.yaml"
    spec.parent.mkdir()
    spec.write_text(SPEC, encoding="utf-8")
    state = str(tmp_path / "state")
    args = ["plan", str(spec.parent), "--cloud", "local", "--state-dir", state, "--format", fmt]
    assert main([*args, "--no-color"] if fmt == "text" else args) == 0
    out = capsys.readouterr().out
    assert not _raw_format_chars(out)
    assert "\\u202e" in out
    assert "\\u2067" in out  # the credential subject
    assert "\\u200b" in out  # the grant description


def test_validate_findings_escape_format_characters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text(SPEC.replace("    tags:", "    tag\u202es:"), encoding="utf-8")
    for fmt in ("text", "github"):
        assert main(["validate", str(spec), "--format", fmt]) == 1
        out, err = capsys.readouterr()
        assert not _raw_format_chars(out + err)
        assert "\\u202e" in out + err


def test_drift_and_audit_views_escape_format_characters() -> None:
    drift = {
        "items": [
            {
                "drift": "changed",
                "address": "identity.rg/id\u202ex",
                "summary": "tag owner changed to te\u2066am",
                "details": ["owner: a\u202eb"],
                "fixable": True,
            }
        ],
        "notices": [],
        "errors": [],
    }
    audit = {
        "naming": "id-\u202e",
        "identities": [
            {"address": "rg/id\u2067", "kind": "user_assigned", "grants": [], "owned": True}
        ],
        "findings": [
            {"severity": "warning", "id": "AUD001", "rule": "r", "object": "o\u202e",
             "message": "m\u2066"}
        ],
    }
    for text in (
        render_drift_text(drift),
        render_drift_markdown(drift),
        render_audit_text(audit),
        render_audit_markdown(audit),
    ):
        assert not _raw_format_chars(text), text


@pytest.mark.parametrize("char", INVISIBLE)
def test_visible_escapes_every_format_character(char: str) -> None:
    shown = visible(f"a{char}b")
    assert not _raw_format_chars(shown)
    assert shown.startswith("a\\")
    assert shown.endswith("b")
