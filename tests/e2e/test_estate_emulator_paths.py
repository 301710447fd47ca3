"""`emulator serve --state ./local-azure` prints an absolute ca_bundle: the line is pasted into
other shells and CI steps, which run from other folders."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path


def test_serve_prints_absolute_paths_for_a_relative_state(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "identity_reconciler", "emulator", "serve",
         "--state", "./local-azure"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    stdout = proc.stdout
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(stdout.readline()))
    reader.start()
    reader.join(30)
    try:
        assert lines, "no line from emulator serve"
        info = json.loads(lines[0])
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    ca = Path(info["ca_bundle"])
    assert ca.is_absolute()
    assert ca.is_file()
    assert ca.parent == (tmp_path / "local-azure").resolve()
    assert "world" not in lines[0].lower() + err.lower()
