"""Shared fixtures: the embedded local Azure, and what SDK clients need to talk to it.

- `emulator` (session): one RunningEmulator on the default world, state in memory.
- `credential`: azure-identity's ManagedIdentityCredential pointed at the emulator's
  App Service-style endpoint. MSAL reads IDENTITY_ENDPOINT / IDENTITY_HEADER when it fetches
  a token, not when the credential is built, so both stay set in os.environ for the test's
  duration (restored afterwards). The emulator's CA is trusted through the credential's
  `connection_verify=` keyword, which azure-identity passes to its transport; REQUESTS_CA_BUNDLE
  would work too but would redirect every other HTTPS client in the process.
- `sdk_kwargs`: `base_url`, `credential_scopes` and `connection_verify` for any mgmt client.
- `identity_env`: `identity_env(emu)` points the variables at another emulator (one at a time).
- `fresh_emulator`: a factory for tests that need their own state or knobs; everything it
  starts is stopped after the test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.identity import ManagedIdentityCredential

from local_azure.api import RunningEmulator, running, start
from local_azure.kernel import Settings

ARM_SCOPE = "https://management.azure.com/.default"


@pytest.fixture(scope="session")
def emulator() -> Iterator[RunningEmulator]:
    with running() as emu:
        yield emu


def _point_credential_env(monkeypatch: pytest.MonkeyPatch, emu: RunningEmulator) -> None:
    for name in ("IDENTITY_SERVER_THUMBPRINT", "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in emu.environ().items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def identity_env(monkeypatch: pytest.MonkeyPatch) -> Callable[[RunningEmulator], None]:
    """`identity_env(emu)`: point ManagedIdentityCredential at `emu` for this test.

    One emulator at a time: MSAL reads the variables on every token fetch.
    """
    return lambda emu: _point_credential_env(monkeypatch, emu)


@pytest.fixture
def credential(
    emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ManagedIdentityCredential]:
    _point_credential_env(monkeypatch, emulator)
    cred = ManagedIdentityCredential(connection_verify=emulator.info.ca_bundle)
    try:
        yield cred
    finally:
        cred.close()


@pytest.fixture
def sdk_kwargs(emulator: RunningEmulator) -> dict[str, Any]:
    return {
        "base_url": emulator.info.endpoint,
        "credential_scopes": [ARM_SCOPE],
        "connection_verify": emulator.info.ca_bundle,
    }


@pytest.fixture
def fresh_emulator() -> Iterator[Callable[..., RunningEmulator]]:
    """`fresh_emulator(world=..., settings=Settings(...), state_dir=...)` -> RunningEmulator."""
    started: list[RunningEmulator] = []

    def make(
        *,
        world: str | Path | dict[str, Any] | None = None,
        settings: Settings | None = None,
        state_dir: str | Path | None = None,
    ) -> RunningEmulator:
        emu = start(state_dir=state_dir, world=world, settings=settings)
        started.append(emu)
        return emu

    try:
        yield make
    finally:
        for emu in reversed(started):
            emu.stop()
