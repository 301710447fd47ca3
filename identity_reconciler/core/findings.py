"""Findings: one located message about a spec, and the three ways it is shown.

Every layer that judges specs (loader, schema, cross-file checks, policy lint) speaks in
Findings, so a CI annotation, a terminal line and a JSON report always agree on file, line,
column, rule and fix.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum

from identity_reconciler.core.redact import redact_tokens
from identity_reconciler.core.text import visible, visible_lines
from identity_reconciler.core.words import count


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Larger is worse; used to sort and to compare against a failure threshold."""
        return {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}[self]


@dataclass(frozen=True)
class Finding:
    """A message about a spec at `file:line:column` (both 1-based), with the fix to apply."""

    file: str
    line: int
    column: int
    severity: Severity
    rule_id: str
    message: str
    fix: str | None = None

    def __post_init__(self) -> None:
        # Messages quote spec text; a token-shaped string in it is never shown (core/redact.py).
        object.__setattr__(self, "message", redact_tokens(self.message))
        if self.fix is not None:
            object.__setattr__(self, "fix", redact_tokens(self.fix))

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    def to_dict(self) -> dict[str, object]:
        out = asdict(self)
        out["severity"] = self.severity.value
        return out


def sort_key(finding: Finding) -> tuple[str, int, int, int, str]:
    """Findings read best in file order; at one position the worst comes first."""
    return (finding.file, finding.line, finding.column, -finding.severity.rank, finding.rule_id)


def counts(findings: Iterable[Finding]) -> dict[Severity, int]:
    out = dict.fromkeys(Severity, 0)
    for f in findings:
        out[f.severity] += 1
    return out


def format_text(finding: Finding) -> str:
    """`file:line:col: severity rule-id: message (fix)`, the shape compilers and editors parse."""
    text = f"{finding.location}: {finding.severity.value} {finding.rule_id}: {finding.message}"
    if finding.fix:
        text += f" ({finding.fix})"
    return visible(text)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


_GITHUB_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def format_github(finding: Finding) -> str:
    """A GitHub Actions workflow command, which shows up as an annotation on the YAML line."""
    command = _GITHUB_COMMAND[finding.severity]
    props = (
        f"file={_escape_property(finding.file)},line={finding.line},"
        f"col={finding.column},title={_escape_property(finding.rule_id)}"
    )
    message = finding.message if not finding.fix else f"{finding.message} ({finding.fix})"
    return f"::{command} {props}::{_escape_data(visible_lines(message))}"


def format_json(findings: Sequence[Finding], *, files: int) -> str:
    """One JSON object: counts and the findings, for tools that post-process results."""
    tally = counts(findings)
    doc = {
        "files": files,
        "errors": tally[Severity.ERROR],
        "warnings": tally[Severity.WARNING],
        "infos": tally[Severity.INFO],
        "findings": [f.to_dict() for f in findings],
    }
    return json.dumps(doc, indent=2)


def summary(findings: Sequence[Finding], *, files: int) -> str:
    """`N files, N errors, N warnings`: one fixed shape, easy to grep in CI logs."""
    tally = counts(findings)
    return (
        f"{count(files, 'file')}, {count(tally[Severity.ERROR], 'error')}, "
        f"{count(tally[Severity.WARNING], 'warning')}"
    )
