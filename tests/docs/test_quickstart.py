"""docs/quickstart.md works as written: its `sh` blocks run in order, through the installed
console script, in a fresh folder with a copy of the repository's specs.

Only the install line is skipped. `--state-dir` is added to the commands that take it so the
local Azure's state stays in the test's folder; `# exit N` after a command is the exit code
the page promises.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "docs" / "quickstart.md"
BLOCK_RE = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)
EXIT_RE = re.compile(r"^(identity-reconciler .*?)\s+#\s*exit (\d+)\s*$")
# Commands that read or write the local Azure's state.
WRAPPER = """\
identity-reconciler() {
    case "$1" in
        plan|apply|destroy|drift|export|audit)
            command identity-reconciler "$@" --state-dir "$IR_STATE" ;;
        *) command identity-reconciler "$@" ;;
    esac
}
"""


def shell_blocks(markdown: str) -> list[str]:
    return [m.group(1) for m in BLOCK_RE.finditer(markdown)]


def runnable(block: str) -> str:
    """The block with install lines dropped and promised exit codes checked."""
    out: list[str] = []
    for line in block.splitlines():
        if "pip install" in line:
            continue
        m = EXIT_RE.match(line)
        if m:
            command, code = m.groups()
            out.append(
                f'rc=0; {command} || rc=$?; [ "$rc" -eq {code} ] || '
                f'{{ echo "expected exit {code}, got $rc: {command}" >&2; exit 99; }}'
            )
        else:
            out.append(line)
    return "\n".join(out)


def console_script() -> str:
    found = shutil.which("identity-reconciler", path=str(Path(sys.executable).parent))
    found = found or shutil.which("identity-reconciler")
    if not found:
        pytest.skip("the identity-reconciler console script is not installed")
    return found


def test_blocks_are_found_and_the_install_line_is_the_only_one_skipped() -> None:
    blocks = shell_blocks(QUICKSTART.read_text(encoding="utf-8"))
    assert len(blocks) >= 6
    assert "pip install" in blocks[0]
    commands = [line for b in blocks for line in b.splitlines() if line.startswith("identity-")]
    for verb in ("validate", "plan", "apply", "drift"):
        assert any(c.startswith(f"identity-reconciler {verb} ") for c in commands), verb
    assert "pip install" not in runnable(blocks[0])


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_quickstart_runs_as_written(tmp_path: Path) -> None:
    script_dir = Path(console_script()).parent
    shutil.copytree(REPO / "specs", tmp_path / "specs")
    env = {
        **os.environ,
        "PATH": f"{script_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "IR_STATE": str(tmp_path / "state"),
        "NO_COLOR": "1",
    }
    for name in list(env):  # nothing from the caller's session may redirect the commands
        if name.startswith(("IDENTITY_", "GITHUB_", "AZURE_", "MSI_", "IMDS_")):
            env.pop(name)
    transcript: list[str] = []
    for index, block in enumerate(shell_blocks(QUICKSTART.read_text(encoding="utf-8"))):
        script = "set -euo pipefail\n" + WRAPPER + runnable(block) + "\n"
        result = subprocess.run(
            ["bash", "--noprofile", "--norc", "-c", script],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
        )
        transcript.append(f"--- block {index}\n{block}\n{result.stdout}{result.stderr}")
        assert result.returncode == 0, "\n".join(transcript)
    log = "\n".join(transcript)
    assert "Plan: 6 to add, 0 to change, 0 to destroy." in log
    assert "Apply complete: 6 done, 0 failed" in log
    assert (tmp_path / "plan.md").read_text().startswith("### identity-reconciler plan")
    assert (tmp_path / "state").is_dir()
    assert not (tmp_path / ".identity-reconciler").exists()  # the state stayed where told
