"""`local-azure serve` (here `python -m local_azure serve`): the local Azure's own command.

The same server as `identity-reconciler emulator serve`, started without the reconciler: one
JSON line, a working token endpoint, a clean stop on SIGTERM, refusals on stderr with exit 1.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests

from local_azure import cli


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "local_azure", *args]


def test_serve_prints_its_json_line_serves_tokens_and_stops_on_sigterm(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        _command("serve", "--state", str(tmp_path / "state")),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        stdout = proc.stdout
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.append(stdout.readline()))
        reader.start()
        reader.join(30)
        assert lines, "local-azure serve printed nothing in 30 s"
        assert lines[0], "local-azure serve exited without its JSON line"
        info = json.loads(lines[0])
        assert info["endpoint"].startswith("https://127.0.0.1:")
        resp = requests.get(
            info["identity_endpoint"],
            params={"api-version": "2019-08-01", "resource": "https://management.azure.com/"},
            headers={"X-IDENTITY-HEADER": info["identity_header"]},
            verify=info["ca_bundle"],
            timeout=10,
        )
        assert resp.status_code == 200, resp.text
        assert resp.json()["access_token"]
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err
        assert (tmp_path / "state" / "state.sqlite").is_file()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["serve", "--host", "0.0.0.0"], "loopback"),
        (["serve", "--page-size", "0"], "--page-size must be at least 1"),
        (["serve", "--world", "no-such-world.yaml"], "does not exist"),
        ([], "usage: local-azure"),
    ],
)
def test_refusals_are_one_line_on_stderr_with_exit_1(args: list[str], message: str) -> None:
    proc = subprocess.run(_command(*args), check=False, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_both_commands_offer_the_same_serve_options() -> None:
    """`identity-reconciler emulator serve` and `local-azure serve` start the same server."""
    from identity_reconciler.cmds import emulator

    ours = cli.parser()
    theirs = argparse.ArgumentParser()
    emulator.add_arguments(theirs)

    def options(parser: argparse.ArgumentParser) -> set[str]:
        found: set[str] = set()
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction) and "serve" in action.choices:
                serve = action.choices["serve"]
                found |= {o for a in serve._actions for o in a.option_strings}
        return found

    assert options(ours) == options(theirs)
    assert "--enforce-rbac" in options(ours)
