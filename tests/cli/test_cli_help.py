"""Every command and subcommand explains itself with an example in --help."""

from __future__ import annotations

import pytest

from identity_reconciler.cli import COMMANDS, build_parser, main
from identity_reconciler.cmds.cli_model import describe

TREE = describe(build_parser())
PATHS = [c.path for c in TREE.walk()]


def test_the_tree_covers_every_registered_command_and_nested_subcommands() -> None:
    top = {c.path[0] for c in TREE.walk() if len(c.path) == 1}
    assert top == set(COMMANDS)
    assert ("emulator", "serve") in PATHS


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "(program)")
def test_help_shows_an_example(path: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*path, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "example:" in out
    example = out.split("example:", 1)[1].strip().splitlines()[0].strip()
    assert example.startswith("identity-reconciler") or example.startswith("source <(")
    assert "identity-reconciler" in example


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.startswith("identity-reconciler ")
