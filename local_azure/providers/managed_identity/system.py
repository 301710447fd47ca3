"""Microsoft.ManagedIdentity's read-only views: system-assigned identities and operations.

`GET {resource}/providers/Microsoft.ManagedIdentity/identities/default` shows a resource's
system-assigned identity from its identity block and its principal in the directory. The
2024-11-30 example answers the type as the placeholder "ResourceProvider"; Azure answers
`Microsoft.ManagedIdentity/Identities`, which is what clients see and what is served here.
"""

from __future__ import annotations

from local_azure.kernel import JSON, ArmError, Context, Request, Response, Router
from local_azure.providers.listing import page
from local_azure.providers.managed_identity.identities import API_VERSIONS, LOCATIONS, NAMESPACE
from local_azure.providers.versions import ResourceType, gate

SYSTEM_IDENTITY_TYPE = "Microsoft.ManagedIdentity/Identities"
IDENTITIES = ResourceType("identities", API_VERSIONS, LOCATIONS)
OPERATIONS = ResourceType("operations", API_VERSIONS)


def register(router: Router, priority: int) -> None:
    router.add(
        "GET", "/{scope*}/providers/Microsoft.ManagedIdentity/identities/default",
        get_system_assigned, priority=priority, name="msi.systemAssigned.get",
    )  # fmt: skip
    router.add(
        "GET", "/providers/Microsoft.ManagedIdentity/operations", list_operations,
        priority=priority, name="msi.operations.list",
    )  # fmt: skip


@gate(IDENTITIES)
def get_system_assigned(ctx: Context, req: Request, params: dict[str, str]) -> Response:
    """The system-assigned identity of a resource, from its identity block and principal."""
    scope = "/" + params["scope"].strip("/")
    resource = ctx.store.get(scope)
    block = (resource or {}).get("identity") or {}
    kind = str(block.get("type", "")).replace(" ", "").lower()
    if resource is None or "systemassigned" not in kind.split(","):
        raise ArmError(
            404,
            "ResourceNotFound",
            f"The system assigned identity of resource '{scope}' was not found.",
        )
    principal = ctx.store.principal_by_resource(scope)
    principal_id = str(block.get("principalId") or (principal.object_id if principal else ""))
    client_id = principal.app_id if principal and principal.app_id else None
    tenant = str(block.get("tenantId") or ctx.tenant_id)
    ident = f"{resource.get('id', scope)}/providers/{NAMESPACE}/identities/default"
    secret_url = (
        f"{req.base_url}{ident}/credentials/v2/identities"
        f"?tid={tenant}&oid={principal_id}&aid={client_id or ''}"
    )
    return Response(
        200,
        {
            "id": ident,
            "location": resource.get("location"),
            "name": resource.get("name"),
            "properties": {
                "clientId": client_id,
                "clientSecretUrl": secret_url,
                "principalId": principal_id,
                "tenantId": tenant,
            },
            "type": SYSTEM_IDENTITY_TYPE,
        },
    )


_OPERATIONS: tuple[tuple[str, str, str, str], ...] = (
    (
        "userAssignedIdentities/read",
        "Get User Assigned Identity",
        "Gets an existing user assigned identity",
        "User Assigned Identities",
    ),
    (
        "userAssignedIdentities/write",
        "Create/Update User Assigned Identity",
        (
            "Creates a new user assigned identity or updates the tags associated with an "
            "existing user assigned identity"
        ),
        "User Assigned Identities",
    ),
    (
        "userAssignedIdentities/delete",
        "Delete User Assigned Identity",
        "Deletes an existing user assigned identity",
        "User Assigned Identities",
    ),
    (
        "userAssignedIdentities/assign/action",
        "Assign User Assigned Identity",
        "RBAC action for assigning an existing user assigned identity to a resource",
        "User Assigned Identities",
    ),
    (
        "userAssignedIdentities/federatedIdentityCredentials/read",
        "Get Federated Identity Credential",
        "Get or list Federated Identity Credentials",
        "Federated Identity Credentials",
    ),
    (
        "userAssignedIdentities/federatedIdentityCredentials/write",
        "Create/Update Federated Identity Credential",
        "Add or update a Federated Identity Credential",
        "Federated Identity Credentials",
    ),
    (
        "userAssignedIdentities/federatedIdentityCredentials/delete",
        "Delete Federated Identity Credential",
        "Delete a Federated Identity Credential",
        "Federated Identity Credentials",
    ),
    (
        "identities/read",
        "Get System Assigned Identity",
        "Gets an existing system assigned identity",
        "Managed Identities",
    ),
    (
        "operations/read",
        "List Operations",
        "Lists operations available on Microsoft.ManagedIdentity resource provider",
        "Operations",
    ),
)


@gate(OPERATIONS)
def list_operations(ctx: Context, req: Request, _params: dict[str, str]) -> Response:
    ops: list[JSON] = [
        {
            "display": {
                "description": description,
                "operation": operation,
                "resource": resource,
                "provider": "Managed Service Identity",
            },
            "name": f"{NAMESPACE}/{action}",
        }
        for action, operation, description, resource in _OPERATIONS
    ]
    return page(req, ops, ctx.settings.page_size)
