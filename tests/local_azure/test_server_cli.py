"""`identity-reconciler emulator serve` as a process: one JSON line, serves, stops cleanly on
SIGTERM/SIGINT, keeps state, CA and signing key across restarts, refuses non-loopback hosts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

ARM = "https://management.azure.com/"


@contextmanager
def serve(*args: str) -> Iterator[tuple[subprocess.Popen[str], dict[str, Any]]]:
    """Start the CLI, wait for its JSON line, and make sure it is gone afterwards."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "identity_reconciler", "emulator", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    stdout, stderr = proc.stdout, proc.stderr
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(stdout.readline()))
    reader.start()
    reader.join(30)
    try:
        if not (lines and lines[0]):
            proc.kill()
            pytest.fail(f"no JSON line from the emulator; stderr: {stderr.read()}")
        yield proc, json.loads(lines[0])
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def _token(info: dict[str, Any]) -> str:
    resp = requests.get(
        info["identity_endpoint"],
        params={"api-version": "2019-08-01", "resource": ARM},
        headers={"X-IDENTITY-HEADER": info["identity_header"]},
        verify=info["ca_bundle"],
        timeout=10,
    )
    resp.raise_for_status()
    return str(resp.json()["access_token"])


def _stop(proc: subprocess.Popen[str], sig: int = signal.SIGTERM) -> tuple[int, str, str]:
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=20)
    return proc.returncode, out, err


def test_serve_prints_one_json_line_and_stops_on_sigterm(tmp_path: Path) -> None:
    with serve("--state", str(tmp_path / "state"), "--seed", "3") as (proc, info):
        assert set(info) == {
            "endpoint",
            "ca_bundle",
            "identity_endpoint",
            "identity_header",
            "tenant_id",
            "subscription_ids",
        }
        assert info["endpoint"].startswith("https://127.0.0.1:")
        assert info["identity_endpoint"].startswith(info["endpoint"])
        assert Path(info["ca_bundle"]).is_file()
        token = _token(info)
        stats = requests.get(
            info["endpoint"] + "/_emulator/stats",
            headers={"Authorization": f"Bearer {token}"},
            verify=info["ca_bundle"],
            timeout=10,
        )
        assert stats.status_code == 200
        assert stats.json()["by_route"] == {"msi.token": 1}
        code, out, err = _stop(proc)
    assert code == 0, err
    assert out == ""  # nothing after the JSON line
    assert "Traceback" not in err
    key = tmp_path / "state" / "signing-key.pem"
    assert key.stat().st_mode & 0o077 == 0


def test_restart_on_the_same_state_keeps_ca_key_and_objects(tmp_path: Path) -> None:
    state = str(tmp_path / "state")
    with serve("--state", state) as (proc, info):
        ca = Path(info["ca_bundle"]).read_bytes()
        token = _token(info)
        sub = (info["subscription_ids"] or [None])[0]
        rg_url = f"{info['endpoint']}/subscriptions/{sub}/resourcegroups/rg-cli-restart"
        auth = {"Authorization": f"Bearer {token}"}
        if sub:
            created = requests.put(
                rg_url,
                params={"api-version": "2025-04-01"},
                json={"location": "uksouth"},
                headers=auth,
                verify=info["ca_bundle"],
                timeout=10,
            )
            assert created.status_code in (200, 201), created.text
        assert _stop(proc, signal.SIGINT)[0] == 0

    with serve("--state", state) as (proc, again):
        assert Path(again["ca_bundle"]).read_bytes() == ca
        assert again["tenant_id"] == info["tenant_id"]
        assert again["subscription_ids"] == info["subscription_ids"]
        # the signing key survived: a token from before the restart is still good
        stats = requests.get(
            again["endpoint"] + "/_emulator/stats",
            headers=auth,
            verify=again["ca_bundle"],
            timeout=10,
        )
        assert stats.status_code == 200
        if sub:
            url = rg_url.replace(info["endpoint"], again["endpoint"])
            got = requests.get(
                url,
                params={"api-version": "2025-04-01"},
                headers=auth,
                verify=again["ca_bundle"],
                timeout=10,
            )
            assert got.status_code == 200, got.text
            assert got.json()["name"] == "rg-cli-restart"
        assert _stop(proc)[0] == 0


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "example.com"])
def test_non_loopback_hosts_are_refused(host: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "identity_reconciler", "emulator", "serve", "--host", host],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert "loopback" in proc.stderr
    assert "Traceback" not in proc.stderr
