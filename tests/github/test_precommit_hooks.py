"""`.pre-commit-hooks.yaml`: well-formed for pre-commit, aimed at spec files only, and each
hook's command line is one the CLI accepts and passes on good specs."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from identity_reconciler.cli import build_parser, main

REPO = Path(__file__).resolve().parents[2]
HOOKS_FILE = REPO / ".pre-commit-hooks.yaml"
# The keys pre-commit's manifest schema knows (a typo would be ignored or rejected there).
KNOWN_KEYS = {
    "id", "name", "entry", "language", "alias", "files", "exclude", "types", "types_or",
    "exclude_types", "additional_dependencies", "args", "always_run", "fail_fast",
    "pass_filenames", "description", "language_version", "log_file", "minimum_pre_commit_version",
    "require_serial", "stages", "verbose",
}


HOOK_IDS = [
    "identity-reconciler-validate", "identity-reconciler-validate-all", "identity-reconciler-fmt",
]
ENTRIES = {"identity-reconciler validate", "identity-reconciler fmt --check --diff"}


def hooks() -> list[dict[str, Any]]:
    data = yaml.safe_load(HOOKS_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, list)
    return data


def by_id(hook_id: str) -> dict[str, Any]:
    return next(h for h in hooks() if h["id"] == hook_id)


def test_manifest_shape() -> None:
    ids = [h["id"] for h in hooks()]
    assert ids == HOOK_IDS
    for hook in hooks():
        assert {"id", "name", "entry", "language"} <= set(hook)
        assert set(hook) <= KNOWN_KEYS, set(hook) - KNOWN_KEYS
        assert hook["language"] == "python"
        assert hook["entry"] in ENTRIES
        re.compile(hook["files"])


def test_main_hook_passes_the_changed_files_in_one_run() -> None:
    hook = by_id("identity-reconciler-validate")
    assert hook["pass_filenames"] is True
    assert hook["require_serial"] is True


@pytest.mark.parametrize(
    ("path", "matched"),
    [
        ("specs/myapp-prod.yaml", True),
        ("specs/team-a/app.yml", True),
        ("infra/identity/specs/app.yaml", True),
        (".github/workflows/identity-plan.yml", False),
        ("docs/examples/github/identity-plan.yml", False),
        ("docker-compose.yaml", False),
        ("specs/README.md", False),
        ("myspecs/app.yaml", False),
    ],
)
def test_files_pattern_aims_at_spec_folders(path: str, matched: bool) -> None:
    for hook in hooks():
        assert bool(re.search(hook["files"], path)) is matched, (hook["id"], path)


@pytest.mark.parametrize("hook_id", HOOK_IDS)
def test_hook_command_runs_like_pre_commit_runs_it(
    hook_id: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """pre-commit runs `entry + args + [filenames]` from the repository root."""
    monkeypatch.chdir(REPO)
    hook = by_id(hook_id)
    files = sorted(str(p.relative_to(REPO)) for p in (REPO / "specs").glob("*.yaml"))
    argv = shlex.split(hook["entry"])[1:] + list(hook.get("args", []))
    if hook["pass_filenames"]:
        argv += files
    build_parser().parse_args(argv)
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert re.search(rf"^{len(files)} files, (0 [a-z ]+, )?0 errors", err, re.M), err
