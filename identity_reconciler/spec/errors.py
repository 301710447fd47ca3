"""The spec layer's own error type and its rule ids.

Anything that goes wrong while reading a spec becomes a `SpecLoadError` carrying a located
Finding, so `validate` can report it next to every other finding instead of crashing. No other
exception is meant to leave this layer.
"""

from __future__ import annotations

from identity_reconciler.core.findings import Finding, Severity


class SpecLoadError(Exception):
    """A spec file that cannot be read as YAML at all: one located, fatal finding."""

    def __init__(
        self,
        file: str,
        position: tuple[int, int],
        rule_id: str,
        message: str,
        fix: str | None = None,
    ) -> None:
        line, column = position
        super().__init__(f"{file}:{line}:{column}: {message}")
        self.finding = Finding(
            file=file,
            line=max(1, line),
            column=max(1, column),
            severity=Severity.ERROR,
            rule_id=rule_id,
            message=message,
            fix=fix,
        )
