"""Shell completion: generated from the parser, and it completes in real shells."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from identity_reconciler.cli import build_parser, main
from identity_reconciler.cmds.cli_model import describe
from identity_reconciler.cmds.completion_scripts import SHELLS

TREE = describe(build_parser())


def _script(shell: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["completion", shell]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("shell", sorted(SHELLS))
def test_every_command_and_option_is_in_the_script(
    shell: str, capsys: pytest.CaptureFixture[str]
) -> None:
    script = _script(shell, capsys)
    for command in TREE.walk():
        if command.path:
            assert command.path[-1] in script
        for option in command.options:
            long = [f for f in option.flags if f.startswith("--")]
            if long:
                needle = long[0] if shell != "fish" else f"-l {long[0][2:]}"
                assert needle in script, (command.name, long[0])


BASH_CASES = [
    (["pl"], ["plan"]),
    ([""], [
        "validate", "plan", "drift", "apply", "destroy", "show", "export", "audit", "emulator",
        "completion",
    ]),
    (["plan", "--form"], ["--format"]),
    (["plan", "specs/", "--format", ""], ["text", "markdown", "json", "github"]),
    (["-v", "plan", "specs/", "--cloud", "lo"], ["local"]),
    (["emulator", ""], ["serve"]),
    (["emulator", "serve", "--thr"], ["--throttle", "--throttle-reads"]),
    (["completion", ""], ["bash", "zsh", "fish"]),
    (["validate", "--for"], ["--format"]),
    (["--log"], ["--log-format"]),
]


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
@pytest.mark.parametrize(("words", "expected"), BASH_CASES)
def test_bash_completes(
    words: list[str], expected: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "ir.bash"
    script.write_text(_script("bash", capsys))
    quoted = " ".join(f"'{w}'" for w in ["identity-reconciler", *words])
    driver = (
        f"source {script}; COMP_WORDS=({quoted}); COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 )); "
        '_identity_reconciler; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    out = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", driver],
        capture_output=True, text=True, check=True, timeout=30,
    ).stdout.split()
    assert out == expected


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_completes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "ir.fish"
    script.write_text(_script("fish", capsys))

    def complete(line: str) -> list[str]:
        out = subprocess.run(
            ["fish", "--no-config", "-c", f"source {script}; complete -C '{line}'"],
            capture_output=True, text=True, check=True, timeout=30,
        ).stdout
        return [row.split("\t")[0] for row in out.splitlines()]

    assert complete("identity-reconciler pl") == ["plan"]
    assert complete("identity-reconciler plan --form") == ["--format"]
    assert sorted(complete("identity-reconciler plan --format ")) == [
        "github", "json", "markdown", "text"
    ]
    assert complete("identity-reconciler emulator ") == ["serve"]
    assert complete("identity-reconciler emulator serve --thr") == ["--throttle"]


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_script_parses_and_registers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "_identity-reconciler"
    script.write_text(_script("zsh", capsys))
    subprocess.run(["zsh", "-n", str(script)], check=True, timeout=30)
    driver = (
        f"autoload -U compinit && compinit -u -d {tmp_path}/zcompdump && source {script} && "
        "print -r -- ${_comps[identity-reconciler]}"
    )
    out = subprocess.run(
        ["zsh", "-f", "-c", driver], capture_output=True, text=True, check=True, timeout=30
    ).stdout.strip()
    assert out == "_identity_reconciler"
