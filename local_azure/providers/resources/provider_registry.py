"""Resource provider discovery: `GET /subscriptions/{s}/providers[/{namespace}]` and register.

Tools pick api-versions from here (azure-cli's `az resource show --ids`, the reconciler for a
type it has no pinned version for), and azure-mgmt-core's registration policy POSTs
`.../register` when ARM says a namespace is not registered. Every namespace the emulator serves
is always registered; its resource types list the api-versions the routes really accept,
newest first, and locations as display names, as ARM shows them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from local_azure.kernel import JSON, ArmError, Context, Request, Response, Router
from local_azure.providers import authorization, managed_identity, regions
from local_azure.providers.listing import page
from local_azure.providers.resources import catalog
from local_azure.providers.resources.discovery import (
    MANAGEMENT_GROUP_API_VERSIONS,
    RESOURCES_API_VERSIONS,
)
from local_azure.providers.scopes import require_subscription
from local_azure.providers.versions import ResourceType

# The resource types the identity and authorization providers declare, namespace first.
_FOREIGN: tuple[tuple[str, tuple[ResourceType, ...]], ...] = (
    (managed_identity.NAMESPACE, managed_identity.RESOURCE_TYPES),
    (authorization.NAMESPACE, authorization.RESOURCE_TYPES),
)


def register(router: Router) -> None:
    v = RESOURCES_API_VERSIONS
    sub = "/subscriptions/{sub}/providers"
    router.add("GET", sub, list_providers, api_versions=v, name="providers.list")
    router.add("GET", sub + "/{ns}", get_provider, api_versions=v, name="providers.get")
    router.add(
        "POST", sub + "/{ns}/register", register_provider, api_versions=v, name="providers.register"
    )
    router.add(
        "GET", "/providers", list_providers, api_versions=v, name="providers.listAtTenantScope"
    )
    router.add(
        "GET", "/providers/{ns}", get_provider, api_versions=v, name="providers.getAtTenantScope"
    )


_RESOURCES_TYPES = (
    "resourceGroups",
    "subscriptions",
    "tenants",
    "locations",
    "resources",
    "operationresults",
    "providers",
)


def _types() -> dict[str, list[tuple[str, Sequence[str], Iterable[str]]]]:
    """namespace -> [(resource type below the namespace, api-versions, region names)]."""
    names = regions.names()
    out: dict[str, list[tuple[str, Sequence[str], Iterable[str]]]] = {}
    for kind in catalog.KINDS.values():
        namespace, rest = kind.type.split("/", 1)
        out.setdefault(namespace, []).append((rest, kind.api_versions, names))
    for namespace, declared in _FOREIGN:
        for rtype in declared:
            out.setdefault(namespace, []).append(
                (rtype.name, tuple(rtype.api_versions), list(rtype.locations or ()))
            )
    out["Microsoft.Resources"] = [(t, RESOURCES_API_VERSIONS, []) for t in _RESOURCES_TYPES]
    out["Microsoft.Management"] = [("managementGroups", MANAGEMENT_GROUP_API_VERSIONS, [])]
    return out


def _provider(
    namespace: str,
    entries: list[tuple[str, Sequence[str], Iterable[str]]],
    subscription: str | None,
) -> JSON:
    prefix = f"/subscriptions/{subscription}" if subscription else ""
    body: JSON = {"id": f"{prefix}/providers/{namespace}", "namespace": namespace}
    if subscription:
        body["registrationState"] = "Registered"
        body["registrationPolicy"] = "RegistrationRequired"
    body["resourceTypes"] = [
        {
            "resourceType": rtype,
            "locations": [_display(loc) for loc in locations],
            "apiVersions": sorted(versions, reverse=True),
            "capabilities": "None",
        }
        for rtype, versions, locations in entries
    ]
    return body


def _display(location: str) -> str:
    region = regions.find(location)
    return region.display_name if region else location


def _subscription(ctx: Context, params: dict[str, str]) -> str | None:
    if "sub" not in params:
        return None
    return str(require_subscription(ctx, params["sub"])["subscriptionId"])


def list_providers(ctx: Context, req: Request, params: dict[str, str]) -> Response:
    sub = _subscription(ctx, params)
    items = [_provider(ns, entries, sub) for ns, entries in sorted(_types().items())]
    return page(req, items, ctx.settings.page_size)


def _find(ctx: Context, params: dict[str, str]) -> JSON:
    sub = _subscription(ctx, params)
    for namespace, entries in _types().items():
        if namespace.lower() == params["ns"].lower():
            return _provider(namespace, entries, sub)
    raise ArmError(
        404, "InvalidResourceNamespace", f"The resource namespace '{params['ns']}' is invalid."
    )


def get_provider(ctx: Context, req: Request, params: dict[str, str]) -> Response:
    return Response(200, _find(ctx, params))


def register_provider(ctx: Context, req: Request, params: dict[str, str]) -> Response:
    """Registration is a no-op: every namespace served here is registered already."""
    return Response(200, _find(ctx, params))
