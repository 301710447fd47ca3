"""Microsoft.Authorization role assignments: create, read and delete, with ARM's rules.

Assignments are immutable apart from description and condition: a PUT on an existing name that
changes principal, role or scope fails (RoleAssignmentUpdateNotPermitted), and names are
unique in the whole tenant, so reusing one at another scope fails the same way. The same
scope, role and principal under another name is 409 RoleAssignmentExists, whose message
carries the existing name without dashes, as Azure's does.

The directory is consulted as Azure's is: an unknown principal is PrincipalNotFound, and so is
one created less than `Settings.replication_window_s` ago unless the request names its
principalType (which is then trusted without a lookup, the documented way around replication
delay). The principalType stored is the directory's when the request leaves it out.
"""

from __future__ import annotations

from local_azure import rbac_conditions
from local_azure.kernel import JSON, ArmError, Context, Request, Response
from local_azure.providers.authorization import rbac_scopes, role_definitions
from local_azure.providers.authorization import role_assignment_index as index
from local_azure.providers.authorization.role_definitions import GUID, RA_TYPE
from local_azure.providers.listing import public
from local_azure.providers.versions import ResourceType, gate
from local_azure.store import Principal

PROVIDER = "/providers/Microsoft.Authorization"
PRINCIPAL_TYPES = ("User", "Group", "ServicePrincipal", "ForeignGroup", "Device")
MAX_DESCRIPTION = 2048
MAX_CONDITION = 8192

ROLE_ASSIGNMENTS = ResourceType(
    "roleAssignments",
    (
        "2015-07-01", "2017-10-01-preview", "2018-01-01-preview", "2018-09-01-preview",
        "2018-12-01-preview", "2019-04-01-preview", "2020-03-01-preview", "2020-04-01-preview",
        "2020-08-01-preview", "2020-10-01-preview", "2021-04-01-preview", "2022-01-01-preview",
        "2022-04-01",
    ),
)  # fmt: skip
# Versions whose REST spec lists only 201 for a PUT (RoleAssignments_Create and _CreateById):
# an update there answers 201 too, or clients pinned to them raise "invalid status 'OK'".
# 2015-07-01, 2017-10-01-preview, 2018-01-01-preview, 2018-09-01-preview and 2020-04-01-preview
# list only 201 (azure-rest-api-specs); 2018-12-01-preview and 2019-04-01-preview have no
# spec of their own and answer as the versions around them. 2020-03-01-preview, 2020-08-01-preview
# and later list 201 and 200.
CREATED_ONLY_VERSIONS = frozenset(
    {
        "2015-07-01", "2017-10-01-preview", "2018-01-01-preview", "2018-09-01-preview",
        "2018-12-01-preview", "2019-04-01-preview", "2020-04-01-preview",
    }
)  # fmt: skip


def assignment_id(scope: rbac_scopes.Scope, name: str) -> str:
    base = "" if scope.is_root else scope.path
    return f"{base}{PROVIDER}/roleAssignments/{name}"


def _name(raw: str) -> str:
    if not GUID.match(raw):
        raise ArmError(
            400,
            "InvalidRoleAssignmentId",
            f"The role assignment ID '{raw}' is not valid. The role assignment ID must be a GUID.",
        )
    return raw.lower()


def build(
    scope: rbac_scopes.Scope,
    name: str,
    role_guid: str,
    *,
    principal_id: str,
    principal_type: str,
    description: str | None = None,
    condition: str | None = None,
    condition_version: str | None = None,
    delegated: str | None = None,
    created_on: str,
    updated_on: str,
    created_by: str | None = None,
    updated_by: str | None = None,
) -> JSON:
    """An assignment document in the 2022-04-01 shape, plus internal lookup keys."""
    return {
        "properties": {
            "roleDefinitionId": role_definitions.qualified_id(role_guid, scope),
            "principalId": principal_id.lower(),
            "principalType": principal_type,
            "scope": scope.path,
            "condition": condition,
            "conditionVersion": condition_version,
            "createdOn": created_on,
            "updatedOn": updated_on,
            "createdBy": created_by,
            "updatedBy": updated_by,
            "delegatedManagedIdentityResourceId": delegated,
            "description": description,
        },
        "id": assignment_id(scope, name),
        "type": RA_TYPE,
        "name": name,
        "_roleDefinitionGuid": role_guid,
        "_principalId": principal_id.lower(),
    }


def seed_assignment(  # noqa: PLR0917 - the signature world seeding calls
    ctx: Context,
    scope: str,
    role_definition_guid: str,
    principal_id: str,
    principal_type: str,
    name: str | None = None,
    description: str | None = None,
) -> JSON:
    """Create (or return the existing) assignment without directory, replication or limit checks."""
    role_definitions.seed_builtin_roles(ctx)
    parsed = rbac_scopes.parse(scope)
    guid = role_definition_guid.lower()
    with ctx.store.transaction():
        existing = index.by_grant(ctx, parsed.path, guid, principal_id)
        if existing is not None:
            return public(existing)
        now = ctx.now_iso()
        doc = build(
            parsed, (name or ctx.new_guid()).lower(), guid,
            principal_id=principal_id, principal_type=principal_type,
            description=description, created_on=now, updated_on=now,
        )  # fmt: skip
        index.save(ctx, parsed.path, doc)
    return public(doc)


# ---------------------------------------------------------------------- handlers


def _scope(params: dict[str, str]) -> rbac_scopes.Scope:
    return rbac_scopes.parse(params.get("scope", ""))


def not_found(name: str) -> ArmError:
    return ArmError(404, "RoleAssignmentNotFound", f"The role assignment '{name}' is not found.")


@gate(ROLE_ASSIGNMENTS)
def get_assignment(ctx: Context, _req: Request, params: dict[str, str]) -> Response:
    scope, name = _scope(params), _name(params["name"])
    doc = ctx.store.get(assignment_id(scope, name))
    if doc is None:
        raise not_found(name)
    return Response(200, public(doc))


@gate(ROLE_ASSIGNMENTS)
def delete_assignment(ctx: Context, _req: Request, params: dict[str, str]) -> Response:
    scope, name = _scope(params), _name(params["name"])
    with ctx.store.transaction():
        doc = ctx.store.get(assignment_id(scope, name))
        if doc is None:
            return Response(204)
        index.remove(ctx, doc)
    return Response(200, public(doc))


@gate(ROLE_ASSIGNMENTS)
def put_assignment(ctx: Context, req: Request, params: dict[str, str]) -> Response:
    scope, name = _scope(params), _name(params["name"])
    wanted = _read_properties(req)
    role_guid = wanted.role_guid
    caller = req.caller.object_id if req.caller else None
    with ctx.store.transaction():
        rbac_scopes.require_scope(ctx, scope)
        if role_definitions.find(ctx, role_guid) is None:
            raise ArmError(
                400,
                "RoleDefinitionDoesNotExist",
                f"The specified role definition with ID '{role_guid.replace('-', '')}' does not "
                "exist.",
            )
        now = ctx.now_iso()
        existing = index.by_name(ctx, name)
        if existing is not None:
            updated = _update(ctx, scope, existing, wanted, now=now, caller=caller)
            if req.api_version in CREATED_ONLY_VERSIONS:
                updated.status = 201
            return updated
        principal_type = _check_principal(ctx, wanted.principal_id, wanted.principal_type)
        duplicate = index.by_grant(ctx, scope.path, role_guid, wanted.principal_id)
        if duplicate is not None:
            raise ArmError(
                409,
                "RoleAssignmentExists",
                "The role assignment already exists. The ID of the existing role assignment "
                f"is {str(duplicate['name']).replace('-', '')}.",
            )
        if scope.subscription is not None:
            count = ctx.store.count(RA_TYPE, under=f"/subscriptions/{scope.subscription}")
            if count >= ctx.settings.role_assignment_limit:
                raise ArmError(
                    400, "RoleAssignmentLimitExceeded", "No more role assignments can be created."
                )
        doc = build(
            scope, name, role_guid,
            principal_id=wanted.principal_id, principal_type=principal_type,
            description=wanted.description, condition=wanted.condition,
            condition_version=wanted.condition_version, delegated=wanted.delegated,
            created_on=now, updated_on=now, created_by=caller, updated_by=caller,
        )  # fmt: skip
        index.save(ctx, scope.path, doc)
    return Response(201, public(doc))


def _update(
    ctx: Context,
    scope: rbac_scopes.Scope,
    existing: JSON,
    wanted: _Wanted,
    *,
    now: str,
    caller: str | None,
) -> Response:
    props = existing["properties"]
    if (
        str(props["scope"]).lower() != scope.key
        or existing["_principalId"] != wanted.principal_id
        or existing["_roleDefinitionGuid"] != wanted.role_guid
    ):
        raise ArmError(
            400,
            "RoleAssignmentUpdateNotPermitted",
            "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
        )
    updated = dict(existing)
    updated["properties"] = {
        **props,
        "principalType": wanted.principal_type or props["principalType"],
        "description": wanted.description,
        "condition": wanted.condition,
        "conditionVersion": wanted.condition_version,
        "updatedOn": now,
        "updatedBy": caller,
    }
    index.save(ctx, scope.path, updated)
    return Response(200, public(updated))


# ---------------------------------------------------------------------- request validation


class _Wanted:
    def __init__(self, props: JSON) -> None:
        self.role_guid = ""
        self.principal_id = ""
        self.principal_type: str | None = None
        self.description: str | None = props.get("description")
        self.condition: str | None = props.get("condition") or None
        self.condition_version: str | None = props.get("conditionVersion") or None
        self.delegated: str | None = props.get("delegatedManagedIdentityResourceId")


def _invalid_content(detail: str) -> ArmError:
    return ArmError(
        400,
        "InvalidRequestContent",
        f"The request content was invalid and could not be deserialized: '{detail}'",
    )


def _read_properties(req: Request) -> _Wanted:
    props = req.json().get("properties")
    if not isinstance(props, dict):
        raise _invalid_content("Required property 'properties' not found in JSON.")
    wanted = _Wanted(props)
    rd, pid = props.get("roleDefinitionId"), props.get("principalId")
    if not isinstance(rd, str) or not rd:
        raise _invalid_content("Required property 'roleDefinitionId' not found in JSON.")
    if not isinstance(pid, str) or not pid:
        raise _invalid_content("Required property 'principalId' not found in JSON.")
    guid = role_definitions.guid_of(rd)
    if guid is None:
        raise ArmError(
            400, "InvalidRoleDefinitionId", f"The role definition ID '{rd}' is not valid."
        )
    if not GUID.match(pid):
        raise ArmError(
            400, "InvalidPrincipalId", f"The principal ID '{pid}' is not valid. It must be a GUID."
        )
    wanted.role_guid, wanted.principal_id = guid, pid.lower()
    raw_type = props.get("principalType")
    if raw_type is not None:
        match = next((t for t in PRINCIPAL_TYPES if t.lower() == str(raw_type).lower()), None)
        if match is None:
            raise _invalid_content(
                f"Error converting value \"{raw_type}\" to type 'PrincipalType'."
            )
        wanted.principal_type = match
    if wanted.description is not None and len(str(wanted.description)) > MAX_DESCRIPTION:
        raise ArmError(
            400,
            "InvalidRoleAssignmentDescription",
            f"The role assignment description exceeds the maximum length of {MAX_DESCRIPTION} "
            "characters.",
        )
    _check_condition(wanted)
    return wanted


def _check_condition(wanted: _Wanted) -> None:
    if wanted.condition is None:
        return
    wanted.condition_version = wanted.condition_version or "2.0"
    invalid = ArmError(
        400, "InvalidRoleAssignmentCondition", "The given role assignment condition is invalid."
    )
    if wanted.condition_version != "2.0" or len(wanted.condition) > MAX_CONDITION:
        raise invalid
    try:
        rbac_conditions.parse(wanted.condition)
    except rbac_conditions.ConditionSyntaxError:
        raise invalid from None


def _check_principal(ctx: Context, principal_id: str, principal_type: str | None) -> str:
    """The principalType to store, or PrincipalNotFound / UnmatchedPrincipalType."""
    principal: Principal | None = ctx.store.get_principal(principal_id)
    young = principal is not None and (
        ctx.clock() - principal.created_at < ctx.settings.replication_window_s
    )
    if principal is None or (young and principal_type is None):
        raise ArmError(
            400,
            "PrincipalNotFound",
            f"Principal {principal_id.replace('-', '')} does not exist in the directory "
            f"{ctx.tenant_id}. Check that you have the correct principal ID. If you are creating "
            "this principal and then immediately assigning a role, this error might be related "
            "to a replication delay. In this case, set the role assignment principalType "
            "property to a value, such as ServicePrincipal, User, or Group.  See "
            "https://aka.ms/docs-principaltype",
        )
    if young:
        assert principal_type is not None
        return principal_type
    if principal_type is None:
        return principal.kind
    if principal_type in ("User", "Group", "ServicePrincipal") and principal_type != principal.kind:
        raise ArmError(
            400,
            "UnmatchedPrincipalType",
            f"The PrincipalId '{principal_id.replace('-', '')}' has type '{principal.kind}' , "
            f"which is different from specified PrincipalType '{principal_type}'.",
        )
    return principal_type
