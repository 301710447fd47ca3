"""Microsoft.Resources: resource groups and their deletion job.

Deleting a resource group is a long-running operation in Azure: 202 with a Location header
naming a deletion job under `/subscriptions/{s}/operationresults/{token}`. The emulator deletes
at once (everything below the group: resources, identities, federated credentials, role
assignments, and the principals of managed identities there) and answers the first poll of
the job with 200, so an SDK poller completes without waiting.
"""

from __future__ import annotations

import base64
import binascii
import json
import re

from local_azure.kernel import JSON, ArmError, Context, Request, Response, Router
from local_azure.providers import regions
from local_azure.providers.listing import (
    matches,
    page,
    parse_filter,
    parse_tags,
    public,
)
from local_azure.providers.resources import discovery
from local_azure.providers.resources.identity_blocks import remove_principals
from local_azure.providers.scopes import (
    group_id,
    require_resource_group,
    require_subscription,
)

__all__ = ["register", "require_resource_group"]

GROUP_TYPE = "Microsoft.Resources/resourceGroups"
MANAGEMENT_GROUP_PREFIX = "/providers/Microsoft.Management/managementGroups/"

API_VERSIONS = discovery.RESOURCES_API_VERSIONS

_NAME = re.compile(r"^[-\w._()]+$")


def register(router: Router) -> None:
    v = API_VERSIONS
    group = "/subscriptions/{sub}/resourcegroups/{rg}"
    router.add(
        "GET",
        "/subscriptions/{sub}/resourcegroups",
        list_groups,
        api_versions=v,
        name="resourceGroups.list",
    )
    router.add("GET", group, get_group, api_versions=v, name="resourceGroups.get")
    router.add("HEAD", group, check_group, api_versions=v, name="resourceGroups.checkExistence")
    router.add("PUT", group, put_group, api_versions=v, name="resourceGroups.createOrUpdate")
    router.add("PATCH", group, patch_group, api_versions=v, name="resourceGroups.update")
    router.add("DELETE", group, delete_group, api_versions=v, name="resourceGroups.delete")
    router.add(
        "GET",
        "/subscriptions/{sub}/operationresults/{token}",
        operation_result,
        api_versions=v,
        name="resourceGroups.operationResult",
    )


def validate_group_name(name: str) -> None:
    if not _NAME.match(name):
        bad = "".join(sorted({c for c in name if not re.match(r"[-\w._()]", c)}))
        raise ArmError(
            400,
            "InvalidResourceGroup",
            f"The provided resource group name '{name}' has these invalid characters: '{bad}'. "
            "The name can only be a letter, digit, '-', '.', '(', ')' or '_'.",
        )
    if len(name) > 90 or name.endswith("."):
        raise ArmError(
            400,
            "InvalidResourceGroup",
            f"The provided resource group name '{name}' is invalid. Resource group names can be "
            "up to 90 characters long and cannot end with a period.",
        )


# ---------------------------------------------------------------------- handlers


def list_groups(ctx: Context, req: Request, params: dict[str, str]) -> Response:
    sub = require_subscription(ctx, params["sub"])
    groups = ctx.store.children(sub["id"], GROUP_TYPE)
    if (text := req.q("$filter")) is not None:
        clauses = parse_filter(text, ("tagName", "tagValue"))
        groups = [g for g in groups if matches(clauses, g.get)]
    return page(req, groups, ctx.settings.page_size)


def get_group(ctx: Context, req: Request, params: dict[str, str]) -> Response:
    validate_group_name(params["rg"])
    return Response(200, public(require_resource_group(ctx, params["sub"], params["rg"])))


def check_group(ctx: Context, req: Request, params: dict[str, str]) -> Response:
    require_subscription(ctx, params["sub"])
    found = ctx.store.get(group_id(params["sub"], params["rg"])) is not None
    return Response(204 if found else 404)


def put_group(ctx: Context, req: Request, params: dict[str, str]) -> Response:
    sub = require_subscription(ctx, params["sub"])["subscriptionId"]
    name = params["rg"]
    validate_group_name(name)
    body = req.json()
    raw_location = body.get("location")
    if not isinstance(raw_location, str) or not raw_location:
        raise ArmError(
            400, "LocationRequired", "The location property is required for this definition."
        )
    region = regions.find(raw_location)
    if region is None:
        raise ArmError(
            400,
            "LocationNotAvailableForResourceGroup",
            f"The provided location '{raw_location}' is not available for resource group. "
            f"List of available regions is '{','.join(regions.names())}'.",
        )
    tags = parse_tags(body.get("tags"))
    with ctx.store.transaction():
        existing = ctx.store.get(group_id(sub, name))
        if existing is not None and existing["location"] != region.name:
            raise ArmError(
                409,
                "InvalidResourceGroupLocation",
                f"Invalid resource group location '{raw_location}'. The Resource group already "
                f"exists in location '{existing['location']}'.",
            )
        canonical = existing["name"] if existing else name
        doc: JSON = {
            "id": group_id(sub, canonical),
            "name": canonical,
            "type": GROUP_TYPE,
            "location": region.name,
        }
        if body.get("managedBy"):
            doc["managedBy"] = str(body["managedBy"])
        if tags is not None:
            doc["tags"] = tags
        doc["properties"] = {"provisioningState": "Succeeded"}
        created = ctx.store.put(doc["id"], GROUP_TYPE, f"/subscriptions/{sub}", doc)
    return Response(201 if created else 200, public(doc))


def patch_group(ctx: Context, req: Request, params: dict[str, str]) -> Response:
    validate_group_name(params["rg"])
    body = req.json()
    tags = parse_tags(body.get("tags"))
    with ctx.store.transaction():
        doc = require_resource_group(ctx, params["sub"], params["rg"])
        if tags is not None:
            doc["tags"] = tags
        if "managedBy" in body:
            if body["managedBy"]:
                doc["managedBy"] = str(body["managedBy"])
            else:
                doc.pop("managedBy", None)
        ctx.store.put(doc["id"], GROUP_TYPE, f"/subscriptions/{params['sub']}", doc)
    return Response(200, public(doc))


def delete_group(ctx: Context, req: Request, params: dict[str, str]) -> Response:
    validate_group_name(params["rg"])
    with ctx.store.transaction():
        doc = require_resource_group(ctx, params["sub"], params["rg"])
        ctx.store.delete_tree(doc["id"])
        remove_principals(ctx, doc["id"])
    job = {
        "jobId": f"ResourceGroupDeletionJob-{doc['name']}-{doc['location']}".upper(),
        "jobLocation": doc["location"],
    }
    token = base64.urlsafe_b64encode(json.dumps(job, separators=(",", ":")).encode()).decode()
    location = (
        f"{req.base_url}/subscriptions/{params['sub']}/operationresults/{token.rstrip('=')}"
        f"?api-version={req.api_version}"
    )
    return Response(202, None, {"Location": location, "Retry-After": "15"})


def operation_result(ctx: Context, req: Request, params: dict[str, str]) -> Response:
    """The deletion job: done as soon as it exists (deletion is synchronous here)."""
    require_subscription(ctx, params["sub"])
    token = params["token"]
    try:
        job = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        ok = isinstance(job, dict) and str(job.get("jobId", "")).startswith(
            "RESOURCEGROUPDELETIONJOB"
        )
    except (ValueError, binascii.Error):
        ok = False
    if not ok:
        raise ArmError(404, "NotFound", f"The operation result '{token}' could not be found.")
    return Response(200)
