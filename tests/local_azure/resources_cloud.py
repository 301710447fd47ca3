"""A seeded emulated cloud for handler-level tests of the resources provider and world seeding.

Requests go through `Router.dispatch` with the resources, managed-identity and authorization
providers registered and the default world (or a given one) loaded: no sockets, no TLS.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from local_azure import world
from local_azure.kernel import Caller, Context, Request, Response, Router, Settings
from local_azure.providers import authorization, managed_identity, resources
from local_azure.store import Store

TENANT = "22222222-2222-2222-2222-222222222222"
SUB = "11111111-1111-1111-1111-111111111111"
SUB2 = "33333333-3333-3333-3333-333333333333"
RG = "rg-myapp-prod-uks-01"
RG_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}"
PROVIDERS = f"{RG_ID}/providers"
SITE = f"{PROVIDERS}/Microsoft.Web/sites/app-myapp-prod-uks-01"
FUNC = f"{PROVIDERS}/Microsoft.Web/sites/func-myapp-prod-uks-01"
VAULT = f"{PROVIDERS}/Microsoft.KeyVault/vaults/kv-myapp-prod-uks-01"
STORAGE = f"{PROVIDERS}/Microsoft.Storage/storageAccounts/stmyappproduks01"
VM = f"{PROVIDERS}/Microsoft.Compute/virtualMachines/vm-myapp-prod-uks-01"
APP = f"{PROVIDERS}/Microsoft.App/containerApps/ca-myapp-prod-uks-01"
SQL = f"{PROVIDERS}/Microsoft.Sql/servers/sql-myapp-prod-uks-01"
DB = f"{SQL}/databases/appdb"
ADMIN = f"{SQL}/administrators/ActiveDirectory"
USER = "a1f4c2d8-3e5b-4a79-8c61-0d2e9f7b4c13"
GROUP = "b7e2d9c4-1a6f-4e38-9b50-2c8d4f1e6a97"
OPERATOR = "5c0b2f9e-7d4a-4c61-9a8e-3f1d6b2e9a70"
BASE = "https://127.0.0.1:8443"
ROLE_DEFINITIONS = f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions"
ASSIGNMENTS = "providers/Microsoft.Authorization/roleAssignments"

# An api-version each type's provider accepts.
VERSIONS = {
    "Microsoft.Web": "2024-11-01",
    "Microsoft.Compute": "2024-11-01",
    "Microsoft.App": "2025-01-01",
    "Microsoft.KeyVault": "2023-07-01",
    "Microsoft.Storage": "2023-05-01",
    "Microsoft.Sql": "2023-08-01",
    "Microsoft.ManagedIdentity": "2024-11-30",
    "Microsoft.Authorization": "2022-04-01",
}


def api_for(path: str) -> str:
    """The api-version to send for a path: its last provider's, else Microsoft.Resources'."""
    lowered = path.lower()
    found = [(lowered.rfind(f"/providers/{ns.lower()}"), v) for ns, v in VERSIONS.items()]
    position, version = max(found)
    return version if position >= 0 else "2025-04-01"


@dataclass
class Cloud:
    ctx: Context
    router: Router

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        api: str | None = None,
        query: dict[str, str] | None = None,
        caller: Caller | None = None,
    ) -> Response:
        q = {"api-version": api or api_for(path), **(query or {})}
        if api == "":
            q.pop("api-version")
        raw = b"" if body is None else json.dumps(body).encode()
        req = Request(method, path, q, {}, raw, base_url=BASE, caller=caller)
        response, _route = self.router.dispatch(self.ctx, req)
        return response

    def ok(self, method: str, path: str, body: Any = None, **kw: Any) -> dict[str, Any]:
        response = self.call(method, path, body, **kw)
        assert 200 <= response.status < 300, (response.status, response.body)
        return response.body if isinstance(response.body, dict) else {}

    def follow(self, next_link: str) -> Response:
        """GET a nextLink as the SDK does: its own path and query."""
        parts = urlsplit(next_link)
        assert next_link.startswith(BASE)
        query = dict(parse_qsl(parts.query))
        req = Request("GET", parts.path, query, {}, b"", base_url=BASE)
        return self.router.dispatch(self.ctx, req)[0]

    def all_pages(self, path: str, **kw: Any) -> list[dict[str, Any]]:
        body = self.ok("GET", path, **kw)
        items = list(body["value"])
        while body.get("nextLink"):
            response = self.follow(body["nextLink"])
            assert response.status == 200, response.body
            assert isinstance(response.body, dict)
            body = response.body
            items += body["value"]
        return items


def make_cloud(source: Any = None, settings: Settings | None = None) -> Cloud:
    ctx = Context(
        store=Store(),
        settings=settings or Settings(),
        tenant_id=TENANT,
        rng=random.Random(7),
    )
    router = Router()
    for module in (resources, managed_identity, authorization):
        module.register(router)
    authorization.seed_builtin_roles(ctx)
    world.load(ctx, source)
    return Cloud(ctx, router)


def error_code(response: Response) -> str:
    assert isinstance(response.body, dict), response.body
    return str(response.body["error"]["code"])


def error_message(response: Response) -> str:
    assert isinstance(response.body, dict), response.body
    return str(response.body["error"]["message"])


def identity_id(name: str, rg: str = RG) -> str:
    namespace = "Microsoft.ManagedIdentity/userAssignedIdentities"
    return f"/subscriptions/{SUB}/resourceGroups/{rg}/providers/{namespace}/{name}"


def make_identity(cloud: Cloud, name: str, rg: str = RG) -> dict[str, Any]:
    """A user-assigned identity created through the managed-identity provider."""
    return cloud.ok("PUT", identity_id(name, rg), {"location": "uksouth"})
