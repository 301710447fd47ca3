"""Start-up: `--version`, `--help` and `validate` load no Azure SDK, cryptography or emulator.

Checked in a fresh interpreter, by the modules it holds at the end of the run, not by time
(`benchmarks/startup.py` measures the time).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MARK = "MODULES:"
# What only commands that reach Azure may load.
HEAVY = ("azure", "cryptography", "local_azure")
RUN = f"""
import json, sys
import identity_reconciler.cli as cli
try:
    cli.main(json.loads(sys.argv[1]))
except SystemExit:
    pass
print({MARK!r} + json.dumps(sorted(sys.modules)))
"""


def loaded(*argv: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", RUN, json.dumps(argv)],
        capture_output=True, text=True, cwd=REPO, timeout=120, check=False,
    ).stdout
    modules: list[str] = json.loads(out.rsplit(MARK, 1)[1])
    return [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)]


@pytest.mark.parametrize(
    "argv",
    [
        ("--version",),
        ("--help",),
        ("validate", "specs/"),
        ("validate", "--help"),
        ("show", "no-such-plan.json"),  # reads plan files, never Azure
    ],
    ids=" ".join,
)
def test_offline_commands_load_nothing_of_azure(argv: tuple[str, ...]) -> None:
    assert loaded(*argv) == []


def test_a_command_that_reaches_azure_does_load_it() -> None:
    """The check above can fail: `plan` needs the SDK, and the same probe sees it."""
    assert any(m.startswith("azure.") for m in loaded("plan", "--help"))
