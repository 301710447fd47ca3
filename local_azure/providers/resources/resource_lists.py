"""Resource lists: everything in a subscription or group, and one type across a subscription.

`GET /subscriptions/{s}[/resourceGroups/{rg}]/resources` answers GenericResourceExpanded
items: top-level fields and never `properties`, locations as region names, `$expand` adding
createdTime, changedTime and provisioningState, and `$filter` on resourceType, name, location,
resourceGroup, tags (`tagName eq 'a' and tagValue eq 'b'`) and `substringof('x', name)`.
User-assigned identities are resources too, so they are listed with the seeded types.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from local_azure.kernel import (
    JSON,
    ArmError,
    Context,
    Request,
    Response,
    no_api_version,
)
from local_azure.providers import regions
from local_azure.providers.listing import matches, page, parse_filter
from local_azure.providers.resources import catalog
from local_azure.providers.scopes import (
    require_resource_group,
    require_subscription,
)

UAMI_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"
LIST_FIELDS = (
    "resourceType",
    "name",
    "location",
    "resourceGroup",
    "tagName",
    "tagValue",
    "substringof",
)


def list_type_in_subscription(ctx: Context, req: Request, params: dict[str, str]) -> Response:
    """`GET /subscriptions/{s}/providers/{ns}/{type}`: one top-level type across groups."""
    sub = require_subscription(ctx, params["sub"])
    version = req.api_version
    if not version:
        raise no_api_version()
    kind = catalog.kind_of(f"{params['ns']}/{params['rest']}")
    if kind is None or "/" in params["rest"]:
        raise ArmError(
            400,
            "InvalidResourceType",
            f"The resource type '{params['rest']}' could not be found in the namespace "
            f"'{params['ns']}' for api version '{version}'.",
        )
    if not kind.accepts(version):
        raise ArmError(
            400,
            "NoRegisteredProviderFound",
            f"No registered resource provider found for API version '{version}' for type "
            f"'{params['rest']}'. The supported api-versions are '{', '.join(kind.api_versions)}'.",
        )
    return page(req, ctx.store.by_type(kind.type, under=sub["id"]), ctx.settings.page_size)


def list_in_subscription(ctx: Context, req: Request, params: dict[str, str]) -> Response:
    sub = require_subscription(ctx, params["sub"])
    return _list_resources(ctx, req, sub["id"])


def list_in_group(ctx: Context, req: Request, params: dict[str, str]) -> Response:
    group = require_resource_group(ctx, params["sub"], params["rg"])
    return _list_resources(ctx, req, group["id"])


def _list_resources(ctx: Context, req: Request, scope: str) -> Response:
    types = [k.type for k in catalog.KINDS.values() if k.tracked] + [UAMI_TYPE]
    docs = [d for t in types for d in ctx.store.by_type(t, under=scope)]
    items = sorted(
        (_expanded(d, req.q("$expand")) for d in docs), key=lambda d: str(d["id"]).lower()
    )
    if (text := req.q("$filter")) is not None:
        clauses = parse_filter(text, LIST_FIELDS)
        items = [i for i in items if matches(clauses, _getter(i))]
    return page(req, items, ctx.settings.page_size)


def _getter(item: JSON) -> Callable[[str], Any]:
    return lambda name: _field(item, name)


def _field(item: JSON, name: str) -> Any:
    if name == "resourcetype":
        return item.get("type")
    if name == "resourcegroup":
        return str(item["id"]).split("/")[4]
    return item.get(name)


def _expanded(doc: JSON, expand: str | None) -> JSON:
    """A GenericResourceExpanded: the top-level fields, never `properties`."""
    out: JSON = {"id": doc["id"], "name": doc["name"], "type": doc["type"]}
    for key in ("kind", "managedBy", "sku", "identity", "tags"):
        if doc.get(key) is not None:
            out[key] = doc[key]
    region = regions.find(str(doc.get("location", "")))
    out["location"] = region.name if region else doc.get("location")
    wanted = {e.strip().lower() for e in (expand or "").split(",")}
    system = doc.get("systemData") or {}
    if "createdtime" in wanted and system.get("createdAt"):
        out["createdTime"] = system["createdAt"]
    if "changedtime" in wanted and system.get("lastModifiedAt"):
        out["changedTime"] = system["lastModifiedAt"]
    if "provisioningstate" in wanted:
        out["provisioningState"] = (doc.get("properties") or {}).get(
            "provisioningState", "Succeeded"
        )
    return out
