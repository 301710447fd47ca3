"""`validate(paths)`: spec files -> findings and, when there are no errors, a DesiredState.

The stages run in order and each keeps going past bad input, so one run reports every
problem it can: files (missing, too large, not text) -> YAML (syntax, duplicate keys, bombs)
-> schema (Pydantic, located) -> cross-file build (defaults, ids, roles, duplicates,
references) -> policy lint. Nothing raises; everything becomes a Finding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from identity_reconciler.core import gctune
from identity_reconciler.core.findings import Finding, Severity, sort_key
from identity_reconciler.core.state import DesiredState
from identity_reconciler.spec.build import StateBuilder
from identity_reconciler.spec.diagnostics import validate_document
from identity_reconciler.spec.errors import SpecLoadError
from identity_reconciler.spec.files import SpecFile, decode, digest, discover, read_bytes
from identity_reconciler.spec.lint import lint
from identity_reconciler.spec.resolve import DocContext
from identity_reconciler.spec.yamlload import Limits, LocatedDocument, parse_yaml


@dataclass
class ValidationResult:
    findings: list[Finding] = field(default_factory=list)
    desired: DesiredState | None = None  # None whenever there is an error
    files: list[Path] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(f.severity is Severity.ERROR for f in self.findings)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.WARNING]


@dataclass
class LoadResult:
    """Located YAML documents of every spec file (null documents dropped)."""

    documents: list[LocatedDocument] = field(default_factory=list)
    files: list[SpecFile] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    digest: str = ""


def load_documents(paths: Sequence[str | Path], limits: Limits | None = None) -> LoadResult:
    """Read and parse every spec file under `paths`; problems become findings, never raises."""
    limits = limits or Limits()
    files, findings = discover(paths)
    result = LoadResult(files=files, findings=findings)
    contents: list[tuple[SpecFile, bytes]] = []
    for spec in files:
        try:
            data = read_bytes(spec, limits.max_file_bytes)
            contents.append((spec, data))
            documents = parse_yaml(decode(spec, data), spec.display, limits)
        except SpecLoadError as exc:
            result.findings.append(exc.finding)
            continue
        kept = [d for d in documents if d.data is not None]
        if not kept:
            result.findings.append(
                Finding(
                    spec.display, 1, 1, Severity.ERROR, "IR004",
                    "the file holds no spec (only comments or empty documents)",
                    "add a spec (subscription:, identities: ...) or delete the file",
                )
            )
        result.documents.extend(kept)
    result.digest = digest(contents)
    return result


def validate(paths: Sequence[str | Path], *, limits: Limits | None = None) -> ValidationResult:
    """Validate the specs under `paths`; the one entry point the other layers use."""
    with gctune.loading():
        return _validate(paths, limits)


def _validate(paths: Sequence[str | Path], limits: Limits | None) -> ValidationResult:
    loaded = load_documents(paths, limits)
    findings = list(loaded.findings)
    contexts: list[DocContext] = []
    for doc in loaded.documents:
        spec, schema_findings = validate_document(doc)
        findings.extend(schema_findings)
        if spec is not None:
            contexts.append(DocContext(doc, spec))
    builder = StateBuilder(complete=not findings)
    for ctx in contexts:
        builder.add(ctx)
    built = builder.finish(loaded.digest)
    findings.extend(builder.findings)
    findings.extend(lint(built))
    findings.sort(key=sort_key)
    result = ValidationResult(findings=findings, files=[f.path for f in loaded.files])
    if result.ok:
        result.desired = built.state
    return result
