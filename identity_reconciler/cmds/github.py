"""GitHub Actions, natively: annotations on the offending YAML line, and the job summary.

Workflow commands (`::error file=F,line=L,col=C::message`) printed on stdout become
annotations on the pull request's diff. `$GITHUB_STEP_SUMMARY` names a file whose markdown
GitHub shows on the run's page; commands append to it, never overwrite, because several steps
of one job share it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from identity_reconciler.core.findings import Finding, Severity, format_github
from identity_reconciler.plan import Plan
from identity_reconciler.plan.drift import DriftReport

SUMMARY_ENV = "GITHUB_STEP_SUMMARY"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(kind: str, message: str, *, title: str | None = None) -> str:
    """An annotation without a file position (`kind`: error, warning or notice)."""
    props = f" title={_escape_property(title)}" if title else ""
    return f"::{kind}{props}::{_escape_data(message)}"


def located(source: str | None) -> tuple[str, int, int] | None:
    """`file:line:col` (as plan diagnostics carry it) split, or None when it is not one."""
    if not source:
        return None
    parts = source.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
        return None
    return parts[0], int(parts[1]), int(parts[2])


def _diagnostic(severity: Severity, code: str, message: str, source: str | None) -> str:
    where = located(source)
    if where is None:
        kind = {Severity.ERROR: "error", Severity.WARNING: "warning"}.get(severity, "notice")
        return command(kind, message, title=code)
    file, line, col = where
    return format_github(Finding(file, line, col, severity, code, message))


def plan_annotations(plan: Plan) -> list[str]:
    """Plan errors on their spec lines, unsafe changes as warnings, notices as notices."""
    out = [_diagnostic(Severity.ERROR, e.code, e.message, e.source) for e in plan.errors]
    for violation in plan.safety.violations:
        out.append(
            command(
                "warning",
                f"{violation.message} (apply refuses this unless given {violation.flag})",
                title=f"unsafe plan: {violation.reason}",
            )
        )
    out += [_diagnostic(Severity.INFO, n.code, n.message, n.source) for n in plan.notices]
    return out


def drift_annotations(report: DriftReport) -> list[str]:
    """Each difference as a warning on the spec line that declares it (when one does)."""
    out = [_diagnostic(Severity.ERROR, e.code, e.message, e.source) for e in report.errors]
    for item in report.items:
        message = f"{item.address}: {item.summary}"
        title = f"drift: {item.drift.value}"
        where = located(item.source)
        # An acknowledged grant is accepted drift: a notice, not a warning.
        accepted = item.drift.value == "acknowledged"
        if where is None:
            out.append(command("notice" if accepted else "warning", message, title=title))
        else:
            file, line, col = where
            severity = Severity.INFO if accepted else Severity.WARNING
            out.append(format_github(Finding(file, line, col, severity, title, message)))
    return out


def finding_annotations(findings: Iterable[Finding]) -> list[str]:
    return [format_github(f) for f in findings]


def append_step_summary(markdown: str, env: Mapping[str, str] | None = None) -> Path | None:
    """Append `markdown` to the job summary when running in GitHub Actions; the file, or None.

    An unwritable summary file must not fail the command whose result it only repeats, so the
    OSError is left to the caller to report as a warning.
    """
    target = (env if env is not None else os.environ).get(SUMMARY_ENV)
    if not target:
        return None
    path = Path(target)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(markdown.rstrip("\n") + "\n\n")
    return path
