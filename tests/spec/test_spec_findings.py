"""Finding formats: text for people, GitHub workflow commands, JSON."""

from __future__ import annotations

import json

from identity_reconciler.core.findings import (
    Finding,
    Severity,
    format_github,
    format_json,
    format_text,
    sort_key,
    summary,
)

ERR = Finding(
    "specs/a.yaml", 7, 3, Severity.ERROR, "IR021", "unknown role 'X'", "did you mean 'Y'?"
)
WARN = Finding("specs/a.yaml", 2, 1, Severity.WARNING, "IR101", "name, odd: 100%\nline two")
INFO = Finding("specs/b.yaml", 1, 1, Severity.INFO, "IR106", "nothing granted")


def test_text() -> None:
    assert format_text(ERR) == (
        "specs/a.yaml:7:3: error IR021: unknown role 'X' (did you mean 'Y'?)"
    )
    assert format_text(INFO) == "specs/b.yaml:1:1: info IR106: nothing granted"


def test_github_commands_and_escaping() -> None:
    assert format_github(ERR) == (
        "::error file=specs/a.yaml,line=7,col=3,title=IR021::unknown role 'X' (did you mean 'Y'?)"
    )
    assert format_github(WARN) == (
        "::warning file=specs/a.yaml,line=2,col=1,title=IR101::name, odd: 100%25%0Aline two"
    )
    odd = Finding("a,b:c.yaml", 1, 1, Severity.INFO, "IR106", "x")
    assert format_github(odd).startswith("::notice file=a%2Cb%3Ac.yaml,")


def test_json_and_summary() -> None:
    findings = sorted([ERR, WARN, INFO], key=sort_key)
    assert [f.rule_id for f in findings] == ["IR101", "IR021", "IR106"]
    doc = json.loads(format_json(findings, files=2))
    assert (doc["files"], doc["errors"], doc["warnings"], doc["infos"]) == (2, 1, 1, 1)
    assert doc["findings"][1] == {
        "file": "specs/a.yaml", "line": 7, "column": 3, "severity": "error",
        "rule_id": "IR021", "message": "unknown role 'X'", "fix": "did you mean 'Y'?",
    }
    assert summary(findings, files=2) == "2 files, 1 error, 1 warning"
    assert summary([], files=1) == "1 file, 0 errors, 0 warnings"
