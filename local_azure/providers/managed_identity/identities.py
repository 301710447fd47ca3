"""Microsoft.ManagedIdentity: user-assigned identities.

Shapes follow the 2024-11-30 examples: ids carry a lower-case `resourcegroups` segment, and
`properties` holds tenantId, principalId, clientId and isolationScope. The SDK validates
nothing (client-side validation is off), so names, locations and resource groups are checked
here, with ARM's error codes.

Creating an identity creates its service principal in the directory at the emulator's clock,
which is what the replication window of role assignments measures from; deleting the identity
deletes the principal and leaves role assignments orphaned, as Azure does.
"""

from __future__ import annotations

import re

from local_azure.kernel import (
    JSON,
    ArmError,
    Context,
    Request,
    Response,
    Router,
)
from local_azure.providers import regions, scopes
from local_azure.providers.listing import public, seek_page
from local_azure.providers.versions import ResourceType, gate
from local_azure.store import Principal

NAMESPACE = "Microsoft.ManagedIdentity"
IDENTITY_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"

# Every version in azure-rest-api-specs/specification/msi (stable and preview).
API_VERSIONS = (
    "2015-08-31-preview", "2018-11-30", "2021-09-30-preview", "2022-01-31-preview",
    "2023-01-31", "2023-07-31-preview", "2024-11-30", "2025-01-31-preview",
    "2025-05-31-preview", "2026-04-30", "2026-05-31",
)  # fmt: skip
LOCATIONS = tuple(r.display_name for r in regions.REGIONS)

USER_ASSIGNED = ResourceType("userAssignedIdentities", API_VERSIONS, LOCATIONS)

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,127}$")
ISOLATION_SCOPES = ("None", "Regional")

_RG = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity"


def register(router: Router, p: int) -> None:
    router.add(
        "GET", "/subscriptions/{sub}/providers/Microsoft.ManagedIdentity/userAssignedIdentities",
        list_by_subscription, priority=p, name="msi.identities.listBySubscription",
    )  # fmt: skip
    router.add(
        "GET", _RG + "/userAssignedIdentities", list_by_resource_group, priority=p,
        name="msi.identities.listByResourceGroup",
    )  # fmt: skip
    one = _RG + "/userAssignedIdentities/{name}"
    router.add("GET", one, get_identity, priority=p, name="msi.identities.get")
    router.add("PUT", one, put_identity, priority=p, name="msi.identities.createOrUpdate")
    router.add("PATCH", one, patch_identity, priority=p, name="msi.identities.update")
    router.add("DELETE", one, delete_identity, priority=p, name="msi.identities.delete")


# ---------------------------------------------------------------------- ids and lookups


def identity_id(subscription_id: str, rg: str, name: str) -> str:
    """The canonical id, with the lower-case `resourcegroups` segment ARM answers with here."""
    return (
        f"/subscriptions/{subscription_id}/resourcegroups/{rg}"
        f"/providers/{NAMESPACE}/userAssignedIdentities/{name}"
    )


def identity_principal(ctx: Context, identity_id: str) -> tuple[str, str] | None:
    """(principalId, clientId) of a user-assigned identity, or None when it does not exist."""
    doc = ctx.store.get(identity_id)
    if doc is None or str(doc.get("type", "")).lower() != IDENTITY_TYPE.lower():
        return None
    props = doc.get("properties") or {}
    return str(props["principalId"]), str(props["clientId"])


def rg_location(ctx: Context, _req: Request, params: dict[str, str]) -> str:
    doc = ctx.store.get(f"/subscriptions/{params['sub']}/resourceGroups/{params['rg']}") or {}
    return str(doc.get("location") or "global")


def _body_or_rg_location(ctx: Context, req: Request, params: dict[str, str]) -> str:
    try:
        location = req.json().get("location")
    except ArmError:
        location = None
    return str(location) if location else rg_location(ctx, req, params)


def not_found(name: str, rg: str) -> ArmError:
    return ArmError(
        404,
        "ResourceNotFound",
        f"The Resource '{IDENTITY_TYPE}/{name}' under resource group '{rg}' was not found. "
        "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
    )


def require_identity(ctx: Context, params: dict[str, str]) -> tuple[JSON, str]:
    """The identity document and its resource group's canonical name, or 404."""
    sub = params["sub"].lower()
    rg_doc = scopes.require_resource_group(ctx, sub, params["rg"])
    rg = str(rg_doc.get("name") or params["rg"])
    doc = ctx.store.get(identity_id(sub, rg, params["name"]))
    if doc is None:
        raise not_found(params["name"], params["rg"])
    return doc, rg


# ---------------------------------------------------------------------- handlers


@gate(USER_ASSIGNED)
def list_by_subscription(ctx: Context, req: Request, params: dict[str, str]) -> Response:
    sub = params["sub"].lower()
    scopes.require_subscription(ctx, sub)
    under = (f"/subscriptions/{sub}",)

    def seek(after: int, limit: int) -> list[tuple[int, JSON]]:
        return ctx.store.seek(IDENTITY_TYPE, under=under, after=after, limit=limit)

    return seek_page(req, seek, ctx.settings.page_size)


@gate(USER_ASSIGNED, rg_location)
def list_by_resource_group(ctx: Context, req: Request, params: dict[str, str]) -> Response:
    sub = params["sub"].lower()
    rg_doc = scopes.require_resource_group(ctx, sub, params["rg"])
    rg_id = str(rg_doc.get("id") or f"/subscriptions/{sub}/resourceGroups/{params['rg']}")

    def seek(after: int, limit: int) -> list[tuple[int, JSON]]:
        return ctx.store.seek(IDENTITY_TYPE, parents=(rg_id,), after=after, limit=limit)

    return seek_page(req, seek, ctx.settings.page_size)


@gate(USER_ASSIGNED, rg_location)
def get_identity(ctx: Context, _req: Request, params: dict[str, str]) -> Response:
    doc, _ = require_identity(ctx, params)
    return Response(200, public(doc))


@gate(USER_ASSIGNED, _body_or_rg_location)
def put_identity(ctx: Context, req: Request, params: dict[str, str]) -> Response:
    sub, name = params["sub"].lower(), params["name"]
    rg_doc = scopes.require_resource_group(ctx, sub, params["rg"])
    rg = str(rg_doc.get("name") or params["rg"])
    _check_name(name)
    body = req.json()
    raw_location = body.get("location")
    if not isinstance(raw_location, str) or not raw_location.strip():
        raise ArmError(
            400, "LocationRequired", "The location property is required for this definition."
        )
    location = _location(raw_location)
    tags = _tags(body.get("tags"))
    isolation = _isolation_scope(body.get("properties"))
    with ctx.store.transaction():
        existing = ctx.store.get(identity_id(sub, rg, name))
        if existing is not None:
            _check_same_location(existing, location, rg)
            props = dict(existing["properties"])
            if isolation is not None:
                props["isolationScope"] = isolation
            updated = {**existing, "location": location, "tags": tags, "properties": props}
            ctx.store.put(str(existing["id"]), IDENTITY_TYPE, str(rg_doc["id"]), updated)
            return Response(200, public(updated))
        doc = _new_identity(
            ctx, sub, rg, name, location=location, tags=tags, isolation=isolation or "None"
        )
        ctx.store.put(str(doc["id"]), IDENTITY_TYPE, str(rg_doc["id"]), doc)
    return Response(201, public(doc))


@gate(USER_ASSIGNED, _body_or_rg_location)
def patch_identity(ctx: Context, req: Request, params: dict[str, str]) -> Response:
    body = req.json()
    with ctx.store.transaction():
        doc, rg = require_identity(ctx, params)
        updated = dict(doc)
        if body.get("location") is not None:
            _check_same_location(doc, _location(str(body["location"])), rg)
        if "tags" in body and body["tags"] is not None:
            updated["tags"] = _tags(body["tags"])
        isolation = _isolation_scope(body.get("properties"))
        if isolation is not None:
            updated["properties"] = {**doc["properties"], "isolationScope": isolation}
        parent = str(doc["id"]).rsplit("/providers/", 1)[0]
        ctx.store.put(str(doc["id"]), IDENTITY_TYPE, parent, updated)
    return Response(200, public(updated))


@gate(USER_ASSIGNED, rg_location)
def delete_identity(ctx: Context, _req: Request, params: dict[str, str]) -> Response:
    sub = params["sub"].lower()
    rg_doc = scopes.require_resource_group(ctx, sub, params["rg"])
    rg = str(rg_doc.get("name") or params["rg"])
    with ctx.store.transaction():
        doc = ctx.store.get(identity_id(sub, rg, params["name"]))
        if doc is None:
            return Response(204)
        ctx.store.delete_tree(str(doc["id"]))
        ctx.store.delete_principal(str(doc["properties"]["principalId"]))
    return Response(200)


# ---------------------------------------------------------------------- validation


def _new_identity(
    ctx: Context,
    sub: str,
    rg: str,
    name: str,
    *,
    location: str,
    tags: dict[str, str],
    isolation: str,
) -> JSON:
    principal_id, client_id = ctx.new_guid(), ctx.new_guid()
    doc: JSON = {
        "id": identity_id(sub, rg, name),
        "location": location,
        "name": name,
        "properties": {
            "clientId": client_id,
            "principalId": principal_id,
            "tenantId": ctx.tenant_id,
            "isolationScope": isolation,
        },
        "tags": tags,
        "type": IDENTITY_TYPE,
    }
    ctx.store.add_principal(
        Principal(
            object_id=principal_id,
            kind="ServicePrincipal",
            display_name=name,
            app_id=client_id,
            resource_id=str(doc["id"]),
            tenant_id=ctx.tenant_id,
            created_at=ctx.clock(),
        )
    )
    return doc


def _check_name(name: str) -> None:
    if not NAME_PATTERN.match(name):
        raise ArmError(
            400,
            "InvalidResourceName",
            f"Resource name '{name}' is invalid. The name can be between 3 and 128 characters "
            "long, can contain only letters, numbers, hyphens and underscores, and must start "
            "with a letter or number.",
            target="resourceName",
        )


def _location(raw: str) -> str:
    region = regions.find(raw)
    if region is None:
        raise ArmError(
            400,
            "LocationNotAvailableForResourceType",
            f"The provided location '{raw}' is not available for resource type "
            f"'{IDENTITY_TYPE}'. List of available regions for the resource type is "
            f"'{','.join(regions.names())}'.",
        )
    return region.name


def _check_same_location(existing: JSON, location: str, rg: str) -> None:
    if str(existing.get("location", "")).lower() != location.lower():
        raise ArmError(
            400,
            "InvalidResourceLocation",
            f"The resource '{existing['name']}' already exists in location "
            f"'{existing['location']}' in resource group '{rg}'. A resource with the same name "
            f"cannot be created in location '{location}'. Please select a new resource name.",
        )


def _tags(value: object) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ArmError(
            400,
            "InvalidRequestContent",
            "The request content was invalid and could not be deserialized: 'tags must be an "
            "object of string values.'",
        )
    return {str(k): v for k, v in value.items()}


def _isolation_scope(props: object) -> str | None:
    if not isinstance(props, dict) or props.get("isolationScope") is None:
        return None
    raw = str(props["isolationScope"])
    for allowed in ISOLATION_SCOPES:
        if raw.lower() == allowed.lower():
            return allowed
    raise ArmError(
        400,
        "BadRequest",
        f"The value '{raw}' is not valid for isolationScope. Allowed values are 'None' and "
        "'Regional'.",
        target="properties.isolationScope",
    )
