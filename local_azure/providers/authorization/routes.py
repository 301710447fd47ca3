"""Microsoft.Authorization: routes for role assignments, role definitions and permissions.

Role assignments and definitions live in their own modules; this one assembles the routes,
answers `.../providers/Microsoft.Authorization/permissions` from the caller's assignments, and
re-exports the seeding functions world loading uses.

Every route is registered both under `/{scope}` (any subscription, resource group, resource or
management group) and at the tenant root, because the SDK's `*_by_id` operations send a full
id as the path.
"""

from __future__ import annotations

from local_azure.kernel import JSON, Context, Request, Response, Router
from local_azure.providers.authorization import rbac_scopes, role_assignment_lists, role_definitions
from local_azure.providers.authorization.role_assignments import (
    delete_assignment,
    get_assignment,
    put_assignment,
    seed_assignment,
)
from local_azure.providers.authorization.role_definitions import seed_builtin_roles
from local_azure.providers.listing import page
from local_azure.providers.versions import ResourceType, gate

__all__ = ["register", "seed_assignment", "seed_builtin_roles"]

PROVIDER = "/providers/Microsoft.Authorization"
PERMISSIONS = ResourceType(
    "permissions", ("2015-07-01", "2018-01-01-preview", "2022-04-01", "2022-05-01-preview")
)


def register(router: Router) -> None:
    p = 10  # above any catch-all of generic resources
    for base in ("/{scope*}" + PROVIDER, PROVIDER):
        router.add("GET", base + "/roleAssignments", role_assignment_lists.list_assignments,
                   priority=p, name="authorization.roleAssignments.list")  # fmt: skip
        one = base + "/roleAssignments/{name}"
        router.add("GET", one, get_assignment, priority=p,
                   name="authorization.roleAssignments.get")  # fmt: skip
        router.add("PUT", one, put_assignment, priority=p,
                   name="authorization.roleAssignments.create")  # fmt: skip
        router.add("DELETE", one, delete_assignment, priority=p,
                   name="authorization.roleAssignments.delete")  # fmt: skip
    router.add("GET", "/{scope*}" + PROVIDER + "/permissions", list_permissions, priority=p,
               name="authorization.permissions.list")  # fmt: skip
    role_definitions.register(router, p)


@gate(PERMISSIONS)
def list_permissions(ctx: Context, req: Request, params: dict[str, str]) -> Response:
    """The caller's effective permission blocks at a resource group or resource.

    One entry per permission block of each role assigned to the caller at or above the scope,
    as Azure answers; callers without a token (direct handler use) have none.
    """
    scope = rbac_scopes.parse(params["scope"])
    rbac_scopes.require_scope(ctx, scope)
    entries: list[JSON] = []
    if req.caller is not None:
        for assignment in role_assignment_lists.covering(ctx, scope, req.caller.object_id.lower()):
            role = role_definitions.find(ctx, str(assignment["_roleDefinitionGuid"]))
            for block in (role or {}).get("properties", {}).get("permissions", []):
                entry: JSON = {
                    k: list(block.get(k, []))
                    for k in ("actions", "notActions", "dataActions", "notDataActions")
                }
                condition = assignment["properties"].get("condition")
                if condition:
                    entry["condition"] = condition
                    entry["conditionVersion"] = assignment["properties"].get("conditionVersion")
                entries.append(entry)
    return page(req, entries, ctx.settings.page_size)
