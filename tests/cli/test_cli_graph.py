"""`identity-reconciler graph`: the whole declared estate, offline; and the offline commands
(fmt, graph, init) never import the Azure SDK."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from identity_reconciler.cli import main

REPO = Path(__file__).resolve().parents[2]


def test_graph_mermaid_and_dot(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph", str(REPO / "specs")]) == 0
    mermaid = capsys.readouterr().out
    assert mermaid.startswith("flowchart LR\n")
    assert '(["id-myapp-prod-uks-01"])' in mermaid
    assert '{{"sites/func-myapp-prod-uks-01"}}' in mermaid  # a system-assigned identity
    assert '-->|"Key Vault Secrets User"|' in mermaid
    assert '-->|"Storage Blob Data Reader"|' in mermaid
    assert main(["graph", str(REPO / "specs"), "--format", "dot"]) == 0
    dot = capsys.readouterr().out
    assert dot.startswith("digraph identities {")
    assert dot.count(" -> ") == 3


def test_graph_refuses_invalid_specs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("identities:\n  - name: 7\n")
    assert main(["graph", str(bad)]) == 1
    assert "bad.yaml:2:" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["fmt", "graph", "init"])
def test_offline_commands_do_not_import_the_azure_sdk(command: str) -> None:
    code = (
        "import sys, importlib\n"
        f"importlib.import_module('identity_reconciler.cmds.{command}')\n"
        "leaked = sorted(m for m in sys.modules if m == 'azure' or m.startswith('azure.'))\n"
        "print(leaked)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=60)
    assert result.stdout.strip() == "[]"
