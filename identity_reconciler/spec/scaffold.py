"""`init`: a GitOps repository for identity specs, ready to validate, plan and apply.

It writes an example spec that validates (with the schema line editors use, and the schema
beside it), a pre-commit configuration, the three workflows and a README section. Nothing that
exists is overwritten unless asked: a file with other content is a conflict, and on any
conflict nothing at all is written, so a half-initialised repository never results.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from identity_reconciler.spec import schema
from identity_reconciler.spec.files import SPEC_SUFFIXES

README_BEGIN = "<!-- identity-reconciler:begin -->"
README_END = "<!-- identity-reconciler:end -->"
EXAMPLE_SPEC = "specs/example.yaml"

# target path in the new repository -> packaged template (under identity_reconciler/data/init)
TEMPLATES: dict[str, str] = {
    EXAMPLE_SPEC: "example.yaml",
    ".pre-commit-config.yaml": "pre-commit-config.yaml",
    ".github/workflows/identity-plan.yml": "identity-plan.yml",
    ".github/workflows/identity-apply.yml": "identity-apply.yml",
    ".github/workflows/identity-drift.yml": "identity-drift.yml",
}
SCHEMA_PATH = "schemas/spec.schema.json"


class ScaffoldError(Exception):
    """Existing files that differ from what init would write."""


@dataclass
class ScaffoldResult:
    created: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # with the reason, for people


def template(name: str) -> str:
    return resources.files("identity_reconciler.data").joinpath("init", name).read_text("utf-8")


def _has_specs(folder: Path) -> bool:
    return folder.is_dir() and any(
        p.suffix.lower() in SPEC_SUFFIXES for p in folder.rglob("*") if p.is_file()
    )


def _readme(existing: str | None) -> str:
    section = template("README-section.md")
    if existing is None:
        return "# Infrastructure\n\n" + section
    if README_BEGIN in existing and README_END in existing:
        head, rest = existing.split(README_BEGIN, 1)
        return head + section.rstrip("\n") + rest.split(README_END, 1)[1]
    return existing.rstrip("\n") + "\n\n" + section


def planned_files(root: Path) -> tuple[dict[str, str], list[str]]:
    """What init would write under `root` (path -> text), and what it leaves out and why."""
    files = {target: template(name) for target, name in TEMPLATES.items()}
    skipped: list[str] = []
    if _has_specs(root / "specs") and not (root / EXAMPLE_SPEC).exists():
        del files[EXAMPLE_SPEC]
        skipped.append(f"{EXAMPLE_SPEC} (specs/ already holds specs)")
    files[SCHEMA_PATH] = schema.render()
    readme = root / "README.md"
    files["README.md"] = _readme(readme.read_text("utf-8") if readme.is_file() else None)
    return files, skipped


def scaffold(root: Path, *, force: bool = False) -> ScaffoldResult:
    """Write the repository layout under `root` (see the module docstring)."""
    files, skipped = planned_files(root)
    result = ScaffoldResult(skipped=skipped)
    conflicts: list[str] = []
    for relative, text in files.items():
        path = root / relative
        if path.is_symlink() or (path.exists() and not path.is_file()):
            conflicts.append(f"{relative} (not a regular file)")
        elif not path.exists():
            result.created.append(relative)
        elif path.read_text("utf-8", errors="replace") == text:
            result.unchanged.append(relative)
        elif relative == "README.md" or force:  # README: the section merged, the rest kept
            result.replaced.append(relative)
        else:
            conflicts.append(relative)
    if conflicts:
        raise ScaffoldError(
            "these exist with other content: " + ", ".join(conflicts)
            + "; nothing was written (--force overwrites regular files)"
        )
    for relative in result.created + result.replaced:
        _write(root / relative, files[relative])
    return result


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.init-tmp")
    temporary.write_text(text, encoding="utf-8", newline="\n")
    os.replace(temporary, path)
