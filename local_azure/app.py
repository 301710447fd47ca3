"""Assembly of one emulator: state, keys, seeded world, routes and the request pipeline.

Everything here is socket-free, so the same App serves the CLI, the in-process API and
tests that dispatch requests directly. A state directory keeps the SQLite store, the CA and
the token-signing key together, so a restart is the same cloud with the same trust anchor;
without one, all of it lives in a temporary directory removed at close.
"""

from __future__ import annotations

import ipaddress
import random
import secrets
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local_azure import admin, graph, tokens
from local_azure.access import Access
from local_azure.faults import FaultKnobs, Faults
from local_azure.gateway import Gateway
from local_azure.kernel import Context, Router, Settings
from local_azure.providers import authorization, managed_identity, resources
from local_azure.store import Principal, Store
from local_azure.tls import TlsFiles, ensure_material
from local_azure.world import load as load_world

STATE_FILE = "state.sqlite"
DEFAULT_TENANT = "22222222-2222-2222-2222-222222222222"
# The ARM resource providers served, in the order their routes are added.
PROVIDERS = (resources, managed_identity, authorization)

WorldSource = str | Path | dict[str, Any] | None


class EmulatorError(Exception):
    """A configuration the emulator refuses (reported to users without a traceback)."""


def check_loopback(host: str) -> str:
    """The address to bind: loopback only (`localhost` means 127.0.0.1)."""
    if host.strip().lower() == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host.strip().strip("[]"))
    except ValueError:
        raise EmulatorError(
            f"refusing to listen on '{host}': the emulator binds loopback addresses only "
            "(use 127.0.0.1 or ::1)"
        ) from None
    if not address.is_loopback:
        raise EmulatorError(
            f"refusing to listen on '{host}': not a loopback address; the emulator serves "
            "this machine only (use 127.0.0.1 or ::1)"
        )
    return str(address)


def _ensure_operator(ctx: Context) -> None:
    """Worlds name an operator; when one does not, mint one so tokens have a default subject."""
    store = ctx.store
    existing = store.meta_get("operator_object_id")
    if existing and store.get_principal(existing):
        return
    object_id = existing or ctx.new_guid()
    app_id = store.meta_get("operator_app_id") or ctx.new_guid()
    store.add_principal(
        Principal(
            object_id=object_id,
            kind="ServicePrincipal",
            display_name="identity-reconciler-operator",
            app_id=app_id,
            resource_id=None,
            tenant_id=ctx.tenant_id,
            created_at=ctx.clock(),
        )
    )
    store.meta_set("operator_object_id", object_id)
    store.meta_set("operator_app_id", app_id)


def next_boot(store: Store) -> int:
    """Count starts on this state: each start draws from its own reproducible random stream.

    Seeding every start identically would hand out the same GUIDs again on a persistent state
    (a new identity's principal id colliding with one created by an earlier run).
    """
    boot = int(store.meta_get("boot_count") or "0") + 1
    store.meta_set("boot_count", str(boot))
    return boot


def seed(ctx: Context, world: WorldSource) -> None:
    """Built-in roles, then the world (both idempotent), then a default operator if needed."""
    authorization.seed_builtin_roles(ctx)
    load_world(ctx, world)
    ctx.tenant_id = ctx.store.meta_get("tenant_id") or ctx.tenant_id
    if ctx.store.meta_get("tenant_id") is None:
        ctx.store.meta_set("tenant_id", ctx.tenant_id)
    _ensure_operator(ctx)


def subscription_ids(store: Store) -> list[str]:
    out = []
    for doc in store.by_type("subscription"):
        sid = doc.get("subscriptionId") or str(doc.get("id", "")).rstrip("/").split("/")[-1]
        if sid:
            out.append(str(sid))
    return out


@dataclass
class App:
    """One assembled emulator; `close()` releases the store and any temporary files."""

    ctx: Context
    router: Router
    gateway: Gateway
    faults: Faults
    issuer: tokens.TokenIssuer
    identity_secret: str
    tls: TlsFiles
    files_dir: Path
    _cleanup: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        self.ctx.store.close()
        for fn in reversed(self._cleanup):
            fn()
        self._cleanup.clear()


def build_router(faults: Faults, issuer: tokens.TokenIssuer, secret: str) -> Router:
    router = Router()
    for provider in PROVIDERS:
        provider.register(router)
    graph.register(router)
    tokens.register(router, issuer, secret)
    admin.register(router, faults, issuer)
    return router


def open_app(
    *,
    state_dir: str | Path | None = None,
    world: WorldSource = None,
    settings: Settings | None = None,
    knobs: FaultKnobs | None = None,
    host: str = "127.0.0.1",
) -> App:
    """Open (or create) the state, seed it, and assemble the routes and pipeline."""
    cleanup: list[Callable[[], None]] = []
    if state_dir is None:
        tmp = Path(tempfile.mkdtemp(prefix="identity-reconciler-emulator-"))
        cleanup.append(lambda: shutil.rmtree(tmp, ignore_errors=True))
        files_dir, store = tmp, Store()
    else:
        files_dir = Path(state_dir)
        files_dir.mkdir(parents=True, exist_ok=True)
        store = Store(files_dir / STATE_FILE)
    try:
        settings = settings or Settings()
        ctx = Context(
            store=store,
            settings=settings,
            tenant_id=store.meta_get("tenant_id") or DEFAULT_TENANT,
            rng=random.Random(f"{settings.seed}:{next_boot(store)}"),  # noqa: S311 - reproducible
        )
        seed(ctx, world)
        extra_host = host if host not in ("127.0.0.1", "::1", "localhost") else None
        tls = ensure_material(files_dir, extra_host)
        issuer = tokens.TokenIssuer(tokens.load_or_create_key(files_dir), ctx)
        secret = secrets.token_urlsafe(32)
        faults = Faults(settings, knobs)
        router = build_router(faults, issuer, secret)
        gateway = Gateway(ctx, router, Access(issuer, secret), faults)
    except BaseException:
        store.close()
        for fn in cleanup:
            fn()
        raise
    return App(ctx, router, gateway, faults, issuer, secret, tls, files_dir, cleanup)
