"""docs/local-azure.md's azure-cli block works as written, when azure-cli is installed.

Optional: azure-cli is not a dependency. The test runs the page's `## Azure CLI` block in
bash against a served local Azure, with az's configuration in a temporary folder, and skips
when `az` is not on PATH.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from local_azure.api import RunningEmulator

PAGE = Path(__file__).resolve().parents[2] / "docs" / "local-azure.md"
AZ = shutil.which("az")


def az_block() -> str:
    text = PAGE.read_text(encoding="utf-8")
    section = text.split("## Azure CLI", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"^```sh\n(.*?)^```", section, re.MULTILINE | re.DOTALL)
    assert match is not None
    return match.group(1)


def test_the_page_has_an_az_block() -> None:
    block = az_block()
    assert "az cloud register" in block
    assert "az role assignment create --assignee" in block


@pytest.mark.skipif(AZ is None, reason="azure-cli is not installed")
def test_az_block_runs_against_the_local_azure(
    fresh_emulator: Callable[..., RunningEmulator], tmp_path: Path
) -> None:
    emu = fresh_emulator()
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env |= {
        "AZURE_CONFIG_DIR": str(tmp_path / "az"),
        "AZURE_CORE_COLLECT_TELEMETRY": "no",
        "AZURE_CORE_ONLY_SHOW_ERRORS": "yes",
        "LOCAL_AZURE": emu.info.endpoint,
        "LOCAL_AZURE_CA": emu.info.ca_bundle,
        **emu.environ(),
    }
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", az_block()], env=env, capture_output=True,
        text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    # the table names the world's user through the emulator's Graph
    assert "ada@contoso.onmicrosoft.com" in done.stdout
    assert emu.stats()["by_route"].get("graph.getByIds", 0) >= 1
