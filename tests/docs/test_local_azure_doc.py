"""docs/local-azure.md works as written: its Python block runs against a local Azure, and the
JSON line `local-azure serve` prints has every key the page reads from it."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from local_azure.api import RunningEmulator

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "docs" / "local-azure.md"
TEXT = PAGE.read_text(encoding="utf-8")


def blocks(language: str) -> list[str]:
    pattern = re.compile(rf"^```{language}\n(.*?)^```", re.MULTILINE | re.DOTALL)
    return [m.group(1) for m in pattern.finditer(TEXT)]


def test_python_block_runs_against_the_local_azure(
    fresh_emulator: Callable[..., RunningEmulator], tmp_path: Path
) -> None:
    (block,) = blocks("python")
    emu = fresh_emulator()
    script = tmp_path / "client.py"
    script.write_text(block, encoding="utf-8")
    keep = ("PATH", "HOME", "LANG", "SYSTEMROOT")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env |= {"LOCAL_AZURE": emu.info.endpoint, "LOCAL_AZURE_CA": emu.info.ca_bundle}
    env |= emu.environ()
    done = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    principal_id = done.stdout.strip()
    assert uuid.UUID(principal_id)
    assert emu.context.store.get_principal(principal_id) is not None


def test_serve_prints_every_key_the_page_reads(tmp_path: Path) -> None:
    command = shutil.which("local-azure", path=str(Path(sys.executable).parent))
    if command is None:
        pytest.skip("the local-azure console script is not installed")
    read = set(re.findall(r"jq -r \.(\w+) local-azure\.json", TEXT))
    assert read == {"endpoint", "ca_bundle", "identity_endpoint", "identity_header"}
    serve_line = next(line for line in blocks("sh")[0].splitlines() if "local-azure serve" in line)
    assert "--state .local-azure --port 8443" in serve_line
    proc = subprocess.Popen(
        [command, "serve", "--state", str(tmp_path / "state"), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    assert read <= set(info)
    assert info["endpoint"].startswith("https://127.0.0.1:")
