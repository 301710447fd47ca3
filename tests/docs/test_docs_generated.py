"""The generated references are committed; they must match what the generator writes now."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from identity_reconciler import docs_gen
from identity_reconciler.cli import build_parser
from identity_reconciler.cmds.cli_model import describe
from identity_reconciler.spec.schema import spec_schema

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "name", ["spec-reference.md", "cli-reference.md", "identity-hosts.md", "permissions.md"]
)
def test_generated_doc_is_up_to_date(name: str) -> None:
    expected = docs_gen.generated(REPO / "schemas" / "spec.schema.json")[name]
    committed = (REPO / "docs" / name).read_text(encoding="utf-8")
    assert committed == expected, (
        f"docs/{name} is out of date: run `python -m identity_reconciler.docs_gen`"
    )


def test_check_mode_reports_a_stale_file(tmp_path: Path) -> None:
    assert docs_gen.main(["--docs", str(tmp_path)]) == 0
    assert docs_gen.main(["--docs", str(tmp_path), "--check"]) == 0
    (tmp_path / "cli-reference.md").write_text("stale\n")
    assert docs_gen.main(["--docs", str(tmp_path), "--check"]) == 1


def test_spec_reference_lists_every_key_of_every_model() -> None:
    schema = spec_schema()
    text = docs_gen.spec_reference(schema)
    for name, model in schema["$defs"].items():
        assert f"## {name}" in text
        for key in model.get("properties", {}):
            assert f"| `{key}` |" in text, (name, key)
    assert json.loads((REPO / "schemas" / "spec.schema.json").read_text()) == schema


def test_cli_reference_lists_every_command_option_and_example() -> None:
    root = describe(build_parser())
    text = docs_gen.cli_reference(root)
    for command in root.walk():
        assert f"## {' '.join(('identity-reconciler', *command.path))}\n" in text
        assert command.example
        assert command.example in text
        for option in command.options:
            if "--help" in option.flags or (command.path and option.group == "output"):
                continue
            assert f"`{option.flags[-1]}`" in text, (command.name, option.flags)


def _argparse_help(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    """What `--help` itself prints for an option: argparse's own expansion is the oracle."""
    formatter = parser._get_formatter()
    return " ".join(formatter._expand_help(action).split())


def _parsers(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    out = [(path, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out.extend(_parsers(sub, (*path, name)))
    return out


def test_cli_reference_says_what_help_says_for_every_option() -> None:
    """No argparse escape (`%%`, `%(default)s`) leaks, and no option goes undocumented."""
    text = (REPO / "docs" / "cli-reference.md").read_text(encoding="utf-8")
    assert "%%" not in text
    assert "%(" not in text
    parser = build_parser()
    # the output options, repeated on each command, are documented once, at the top
    shared = {
        (command.path, flag)
        for command in describe(parser).walk()
        for option in command.options
        if command.path and option.group == "output"
        for flag in option.flags
    }
    missing = []
    for path, sub in _parsers(parser):
        for action in sub._actions:
            if action.help in (None, argparse.SUPPRESS) or not action.option_strings:
                continue
            if "-h" in action.option_strings or (path, action.option_strings[-1]) in shared:
                continue
            wanted = _argparse_help(sub, action)
            if wanted and wanted not in text:
                missing.append(f"{' '.join(path)} {action.option_strings[-1]}: {wanted!r}")
    assert not missing, "docs/cli-reference.md differs from --help:\n" + "\n".join(missing)
