"""A small emulated cloud for handler-level tests of the identity and authorization providers.

Documents are written straight into the store (the shapes the resources provider and world
seeding produce), so these tests need neither sockets nor the resources provider.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from local_azure.kernel import Caller, Context, Request, Response, Router, Settings
from local_azure.providers import authorization, managed_identity
from local_azure.store import Principal, Store

TENANT = "22222222-2222-2222-2222-222222222222"
SUB = "11111111-1111-1111-1111-111111111111"
SUB2 = "33333333-3333-3333-3333-333333333333"
RG = "rg-app"
RG2 = "rg-other"
MG_ROOT = "mg-root"
MG = "mg-platform"
MG_PREFIX = "/providers/Microsoft.Management/managementGroups/"
SITE = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Web/sites/app-1"
VAULT = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.KeyVault/vaults/kv-1"
BASE = "https://127.0.0.1:8443"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
RBAC_ADMIN = "f58310d9-a9f6-439a-9e8d-f62e7b41a168"
KV_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
BLOB_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
MSI_VERSION = "2024-11-30"
AUTHZ_VERSION = "2022-04-01"


@dataclass
class Clock:
    now: float = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class World:
    ctx: Context
    router: Router
    clock: Clock
    user: str
    group: str
    operator: str
    calls: list[tuple[str, str]] = field(default_factory=list)

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: dict[str, str] | None = None,
        api_version: str | None = None,
        caller: str | None = None,
        raw: bytes | None = None,
    ) -> Response:
        """Dispatch one request; `path` may carry a query string (a nextLink, say)."""
        parts = urlsplit(path)
        q = dict(parse_qsl(parts.query, keep_blank_values=True))
        q.update(query or {})
        if api_version is not None:
            q["api-version"] = api_version
        elif "api-version" not in q:
            q["api-version"] = AUTHZ_VERSION if "Microsoft.Authorization" in path else MSI_VERSION
        data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        req = Request(
            method,
            parts.path,
            q,
            {"content-type": "application/json"},
            data,
            BASE,
            Caller(caller, TENANT) if caller else None,
        )
        self.calls.append((method, path))
        response, _ = self.router.dispatch(self.ctx, req)
        return response

    def follow(
        self, path: str, *, query: dict[str, str] | None = None, caller: str | None = None
    ) -> list[dict[str, Any]]:
        """Every item of a paged list, following absolute nextLinks as the SDK does."""
        items: list[dict[str, Any]] = []
        response = self.call("GET", path, query=query, caller=caller)
        while True:
            assert response.status == 200, response.body
            assert isinstance(response.body, dict)
            items += response.body["value"]
            link = response.body.get("nextLink")
            if not link:
                return items
            assert link.startswith(BASE + "/"), link
            response = self.call("GET", link[len(BASE) :], caller=caller)

    def principal(self, kind: str = "ServicePrincipal", *, age_s: float = 3600.0) -> str:
        object_id = self.ctx.new_guid()
        self.ctx.store.add_principal(
            Principal(
                object_id,
                kind,
                f"{kind}-{object_id[:8]}",
                None,
                None,
                TENANT,
                self.clock.now - age_s,
            )
        )
        return object_id

    def assign(self, scope: str, role: str, principal: str, **props: Any) -> Response:
        name = props.pop("name", None) or self.ctx.new_guid()
        body = {
            "properties": {
                "roleDefinitionId": f"/providers/Microsoft.Authorization/roleDefinitions/{role}",
                "principalId": principal,
                **props,
            }
        }
        return self.call(
            "PUT", f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}", body
        )


def _doc(store: Store, arm_id: str, type_: str, parent: str, **body: Any) -> None:
    store.put(arm_id, type_, parent, {"id": arm_id, "type": type_, **body})


def make_world(
    settings: Settings | None = None,
    *,
    extra: Callable[[Context], None] | None = None,
) -> World:
    clock = Clock()
    settings = settings or Settings()
    if not hasattr(settings, "fic_write_hold_s"):
        setattr(settings, "fic_write_hold_s", 0.0)  # noqa: B010 - a knob Settings may lack
    ctx = Context(
        store=Store(),
        settings=settings,
        tenant_id=TENANT,
        clock=clock,
        rng=random.Random(7),
    )
    router = Router()
    managed_identity.register(router)
    authorization.register(router)
    s = ctx.store
    mg_type = "Microsoft.Management/managementGroups"
    _doc(s, MG_PREFIX + MG_ROOT, mg_type, "/", name=MG_ROOT, _parent=None)
    _doc(s, MG_PREFIX + MG, mg_type, "/", name=MG, _parent=MG_PREFIX + MG_ROOT)
    for sub in (SUB, SUB2):
        _doc(s, f"/subscriptions/{sub}", "subscription", "/", subscriptionId=sub,
             _managementGroups=[MG_PREFIX + MG, MG_PREFIX + MG_ROOT])  # fmt: skip
    for sub, rg in ((SUB, RG), (SUB, RG2), (SUB2, RG)):
        rg_id = f"/subscriptions/{sub}/resourceGroups/{rg}"
        _doc(s, rg_id, "Microsoft.Resources/resourceGroups", f"/subscriptions/{sub}",
             name=rg, location="uksouth")  # fmt: skip
    world = World(ctx, router, clock, "", "", "")
    world.user = world.principal("User")
    world.group = world.principal("Group")
    world.operator = world.principal("ServicePrincipal")
    site_principal = world.principal("ServicePrincipal")
    block = {"type": "SystemAssigned", "principalId": site_principal, "tenantId": TENANT}
    _doc(s, SITE, "Microsoft.Web/sites", f"/subscriptions/{SUB}/resourceGroups/{RG}",
         name="app-1", location="uksouth", identity=block)  # fmt: skip
    s.add_principal(
        Principal(site_principal, "ServicePrincipal", "app-1", ctx.new_guid(), SITE, TENANT, 0.0)
    )
    _doc(s, VAULT, "Microsoft.KeyVault/vaults", f"/subscriptions/{SUB}/resourceGroups/{RG}",
         name="kv-1", location="uksouth")  # fmt: skip
    authorization.seed_builtin_roles(ctx)
    if extra is not None:
        extra(ctx)
    return world


def body(response: Response) -> dict[str, Any]:
    assert isinstance(response.body, dict), response
    return response.body


def error_code(response: Response) -> str:
    return str(body(response)["error"]["code"])
