"""Reading the example workflows: their YAML, their run scripts and their github-script bodies."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "docs" / "examples" / "github"
WORKFLOWS = sorted(EXAMPLES.glob("*.yml"))
PLAN_MARKER = "<!-- identity-reconciler-plan -->"
DRIFT_MARKER = "<!-- identity-reconciler-drift -->"


def load(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def triggers(workflow: dict[Any, Any]) -> Any:
    """`on:` (YAML 1.1 reads the bare key as the boolean true)."""
    return workflow.get("on", workflow.get(True))


def steps(path: Path) -> list[dict[str, Any]]:
    return [s for job in load(path)["jobs"].values() for s in job["steps"]]


def step(path: Path, name: str) -> dict[str, Any]:
    return next(s for s in steps(path) if s.get("name") == name)


def reconciler_commands(path: Path) -> list[list[str]]:
    """Every `identity-reconciler ...` invocation in the run scripts, as argv after the name.

    Continuation lines are joined; the words stop at the first shell operator, and a quoted
    array expansion (`"${flags[@]}"`) is dropped.
    """
    out: list[list[str]] = []
    for s in steps(path):
        script = str(s.get("run") or "").replace("\\\n", " ")
        for line in script.splitlines():
            start = line.find("identity-reconciler ")
            if start < 0:
                continue
            words: list[str] = []
            for word in shlex.split(line[start:], comments=True):
                if re.fullmatch(r"[|&;<>]+|\|\||&&|2?>>?|\$\(.*", word):
                    break
                if "[@]" in word:
                    continue
                words.append(word)
            out.append(words[1:])
    return out


ACTION = REPO / "action.yml"
ACTION_SCRIPT = REPO / ".github" / "action" / "run.sh"
ACTION_REF = "OWNER/identity-reconciler@v1"


def action_step(name: str) -> dict[str, Any]:
    """A step of the composite action (action.yml), by its name."""
    return next(s for s in load(ACTION)["runs"]["steps"] if s.get("name") == name)


def uses_of_action(path: Path) -> list[dict[str, Any]]:
    """The steps of a workflow that use this repository's action."""
    return [s for s in steps(path) if s.get("uses") == ACTION_REF]
