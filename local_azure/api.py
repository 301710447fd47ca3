"""The public API of the local Azure: the only module other packages import.

Run the emulator from Python: `with running() as emu:` gives an HTTPS endpoint, a CA bundle
and a managed-identity endpoint that unmodified Azure SDK clients can use.

    with running() as emu:
        os.environ.update(emu.environ())      # IDENTITY_ENDPOINT / IDENTITY_HEADER
        credential = ManagedIdentityCredential(connection_verify=emu.info.ca_bundle)
        client = ManagedServiceIdentityClient(
            credential, emu.info.subscription_ids[0], base_url=emu.info.endpoint,
            credential_scopes=["https://management.azure.com/.default"],
            connection_verify=emu.info.ca_bundle)

MSAL reads IDENTITY_ENDPOINT and IDENTITY_HEADER when it fetches a token, not when the
credential is built, so they must stay set while the credential is in use.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local_azure.app import (
    App,
    EmulatorError,
    WorldSource,
    check_loopback,
    open_app,
    subscription_ids,
)
from local_azure.faults import FaultKnobs
from local_azure.kernel import Context, Router, Settings
from local_azure.server import HttpsServer
from local_azure.tls import server_context
from local_azure.tokens import TOKEN_LIFETIME_S, TOKEN_PATH
from local_azure.world import WorldError

__all__ = [
    "TOKEN_PATH",
    "EmulatorError",
    "EmulatorInfo",
    "FaultKnobs",
    "RunningEmulator",
    "Settings",
    "WorldError",
    "check_loopback",
    "running",
    "start",
]

ARM_RESOURCE = "https://management.azure.com/"


@dataclass(frozen=True)
class EmulatorInfo:
    endpoint: str  # "https://127.0.0.1:PORT"
    ca_bundle: str  # absolute path to the CA PEM
    identity_endpoint: str  # App Service-style MI endpoint URL
    identity_header: str  # secret for X-IDENTITY-HEADER
    tenant_id: str
    subscription_ids: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {
            "endpoint": self.endpoint,
            "ca_bundle": self.ca_bundle,
            "identity_endpoint": self.identity_endpoint,
            "identity_header": self.identity_header,
            "tenant_id": self.tenant_id,
            "subscription_ids": list(self.subscription_ids),
        }


class RunningEmulator:
    """A started emulator: its connection facts, its Context, and admin helpers."""

    def __init__(self, app: App, server: HttpsServer) -> None:
        self._app = app
        self._server = server
        self._stopped = False
        self._lock = threading.Lock()
        self.context: Context = app.ctx
        self.info = EmulatorInfo(
            endpoint=server.base_url,
            # Absolute: clients started elsewhere (another shell, a CI step) must find it.
            ca_bundle=str(Path(app.tls.ca).resolve()),
            identity_endpoint=server.base_url + TOKEN_PATH,
            identity_header=app.identity_secret,
            tenant_id=app.ctx.tenant_id,
            subscription_ids=subscription_ids(app.ctx.store),
        )

    @property
    def router(self) -> Router:
        """The live router (tests may add routes of their own)."""
        return self._app.router

    @property
    def settings(self) -> Settings:
        return self._app.ctx.settings

    def stats(self) -> dict[str, Any]:
        return self._app.faults.stats.snapshot()

    def reset_stats(self) -> None:
        self._app.faults.stats.reset()

    def configure(self, **changes: Any) -> dict[str, Any]:
        """Change knobs at run time, exactly as `PATCH /_emulator/settings` does."""
        from local_azure.admin import apply_settings

        return apply_settings(self._app.ctx, self._app.faults, changes)

    def issue_token(
        self,
        object_id: str | None = None,
        resource: str = ARM_RESOURCE,
        *,
        lifetime_s: int = TOKEN_LIFETIME_S,
    ) -> str:
        """A token for a principal (default: the operator), e.g. to test expiry or RBAC."""
        store = self._app.ctx.store
        oid = object_id or store.meta_get("operator_object_id") or ""
        principal = store.get_principal(oid)
        if principal is None:
            raise KeyError(f"no principal with object id {oid!r}")
        return self._app.issuer.issue(principal, resource, lifetime_s=lifetime_s)[0]

    def environ(self) -> dict[str, str]:
        """Variables that point azure-identity's ManagedIdentityCredential here."""
        return {
            "IDENTITY_ENDPOINT": self.info.identity_endpoint,
            "IDENTITY_HEADER": self.info.identity_header,
        }

    def sdk_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for any azure-mgmt client to talk to this emulator."""
        return {
            "base_url": self.info.endpoint,
            "credential_scopes": [ARM_RESOURCE + ".default"],
            "connection_verify": self.info.ca_bundle,
        }

    def stop(self) -> None:
        """Stop serving, finish answers in flight, and close the state (idempotent)."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        try:
            self._server.stop()
        finally:
            self._app.close()


def start(
    *,
    state_dir: str | Path | None = None,
    world: WorldSource = None,
    settings: Settings | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    knobs: FaultKnobs | None = None,
) -> RunningEmulator:
    """Start an emulator serving in a background thread; call `.stop()` when done."""
    bind = check_loopback(host)
    app = open_app(state_dir=state_dir, world=world, settings=settings, knobs=knobs, host=bind)
    try:
        ssl_context = server_context(app.tls)
        server = HttpsServer(app.gateway, ssl_context, bind, port)
    except BaseException:
        app.close()
        raise
    server.start()
    return RunningEmulator(app, server)


@contextmanager
def running(
    *,
    state_dir: str | Path | None = None,
    world: str | Path | dict[str, Any] | None = None,
    settings: Settings | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
) -> Iterator[RunningEmulator]:
    """An emulator on an ephemeral loopback port for the duration of the block."""
    emu = start(state_dir=state_dir, world=world, settings=settings, host=host, port=port)
    try:
        yield emu
    finally:
        emu.stop()
