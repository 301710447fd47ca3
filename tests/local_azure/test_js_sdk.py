"""The Azure SDK for JavaScript against the local Azure, exactly as docs/local-azure.md says.

Optional: it runs when node is on PATH and `npm ci --prefix tests/js` has installed the pinned
packages, and skips otherwise (CI does not need node). It checks the three things a JavaScript
client must be told: the endpoint, `credentialScopes` (without them the SDK asks for
`${endpoint}/.default`, which the token endpoint refuses as Entra would), and the CA through
NODE_EXTRA_CA_CERTS.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from local_azure.api import RunningEmulator

JS = Path(__file__).parent.parent / "js"
SCRIPT = JS / "emulator_client.mjs"
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(
    NODE is None or not (JS / "node_modules" / "@azure" / "arm-msi").is_dir(),
    reason="node or the JavaScript SDK is absent (npm ci --prefix tests/js installs it)",
)


def test_javascript_sdk_talks_to_the_emulator(
    fresh_emulator: Callable[..., RunningEmulator],
) -> None:
    emu = fresh_emulator()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "NODE_EXTRA_CA_CERTS": emu.info.ca_bundle,
        "LOCAL_AZURE_ENDPOINT": emu.info.endpoint,
        "LOCAL_AZURE_SUBSCRIPTION": emu.info.subscription_ids[0],
        **emu.environ(),
    }
    assert NODE is not None
    done = subprocess.run(
        [NODE, str(SCRIPT)], env=env, cwd=JS, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert "id-from-js" in out["identities"]
    assert out["assignmentScope"].endswith("/resourceGroups/rg-myapp-prod-uks-01")
    assert "AADSTS500011" in out["withoutScopes"]
    stats = emu.stats()["by_route"]
    assert stats["msi.identities.createOrUpdate"] == 1
    assert stats["authorization.roleAssignments.create"] == 1
