"""Microsoft.Authorization role definitions: the built-in catalog and custom roles.

Built-in definitions are tenant-level documents (`/providers/Microsoft.Authorization/
roleDefinitions/{guid}`); ARM shows them, like every definition, with an id qualified by the
subscription of the scope they are read at. Custom roles live at the subscription (or
management group) of the scope they were written at and are visible wherever one of their
assignable scopes is at or above the scope asked about.
"""

from __future__ import annotations

import functools
import json
import re
from importlib import resources as package_data
from typing import Any
from urllib.parse import unquote

from local_azure.kernel import JSON, ArmError, Context, Request, Response, Router
from local_azure.providers.authorization import rbac_scopes
from local_azure.providers.listing import page, public
from local_azure.providers.versions import ResourceType, gate

RD_TYPE = "Microsoft.Authorization/roleDefinitions"
RA_TYPE = "Microsoft.Authorization/roleAssignments"
PROVIDER = "/providers/Microsoft.Authorization"
BUILTIN_CREATED_ON = "2015-02-02T21:55:09.8806423Z"
SEEDED_META = "builtin_roles_seeded"
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_ID = re.compile(r"/providers/Microsoft\.Authorization/roleDefinitions/([^/]+)/?$", re.IGNORECASE)

ROLE_DEFINITIONS = ResourceType(
    "roleDefinitions", ("2015-07-01", "2018-01-01-preview", "2022-04-01", "2022-05-01-preview")
)

# Built-in roles whose assignable scope is not "/" (the catalog omits assignableScopes).
_ASSIGNABLE: dict[str, str] = {
    "a8889054-8d42-49c9-bc1c-52486c10e7cd": "/providers/Microsoft.Capacity",
    "582fc458-8989-419f-a480-75249bc5db7e": "/providers/Microsoft.Capacity",
    "4e50c84c-c78e-4e37-b47e-e60ffea0a775": "/providers/Microsoft.Management/serviceGroups",
    "32e6a4ec-6095-4e37-b54b-12aa350ba81f": "/providers/Microsoft.Management/serviceGroups",
    "de754d53-652d-4c75-a67f-1e48d8b49c97": "/providers/Microsoft.Management/serviceGroups",
    "182a574c-b3c6-4acc-b019-48ae44cd4677": "/providers/Microsoft.BillingBenefits",
    "d534ad90-4ac5-4815-a178-b2e47397baab": "/providers/Microsoft.BillingBenefits",
}


def register(router: Router, priority: int) -> None:
    for base in ("/{scope*}" + PROVIDER, PROVIDER):
        router.add("GET", base + "/roleDefinitions", list_definitions, priority=priority,
                   name="authorization.roleDefinitions.list")  # fmt: skip
        one = base + "/roleDefinitions/{rd}"
        router.add("GET", one, get_definition, priority=priority,
                   name="authorization.roleDefinitions.get")  # fmt: skip
        router.add("PUT", one, put_definition, priority=priority,
                   name="authorization.roleDefinitions.createOrUpdate")  # fmt: skip
        router.add("DELETE", one, delete_definition, priority=priority,
                   name="authorization.roleDefinitions.delete")  # fmt: skip


# ---------------------------------------------------------------------- catalog


@functools.cache
def builtin_catalog() -> tuple[JSON, ...]:
    """The packaged built-in roles (roleName, id, description, permissions), read once."""
    text = (package_data.files("identity_reconciler.data") / "builtin-roles.json").read_text()
    return tuple(json.loads(text))


def builtin_id(guid: str) -> str:
    return f"{PROVIDER}/roleDefinitions/{guid}"


def seed_builtin_roles(ctx: Context) -> None:
    """Store every built-in role definition once (idempotent; one transaction)."""
    catalog = builtin_catalog()
    if ctx.store.meta_get(SEEDED_META) == str(len(catalog)):
        return
    with ctx.store.transaction():
        for role in catalog:
            guid = str(role["id"]).lower()
            doc: JSON = {
                "properties": {
                    "roleName": role["roleName"],
                    "type": "BuiltInRole",
                    "description": role.get("description", ""),
                    "assignableScopes": [_ASSIGNABLE.get(guid, "/")],
                    "permissions": [_permission(p) for p in role.get("permissions", [])],
                    "createdOn": BUILTIN_CREATED_ON,
                    "updatedOn": BUILTIN_CREATED_ON,
                    "createdBy": None,
                    "updatedBy": None,
                },
                "id": builtin_id(guid),
                "type": RD_TYPE,
                "name": guid,
            }
            ctx.store.put(builtin_id(guid), RD_TYPE, "/", doc)
        ctx.store.meta_set(SEEDED_META, str(len(catalog)))


def _permission(p: Any) -> JSON:
    src = p if isinstance(p, dict) else {}
    out: JSON = {
        k: [str(a) for a in src.get(k) or []]
        for k in ("actions", "notActions", "dataActions", "notDataActions")
    }
    if src.get("condition"):
        out["condition"] = src["condition"]
        out["conditionVersion"] = src.get("conditionVersion")
    return out


def custom_definitions(ctx: Context) -> list[JSON]:
    return ctx.store.by_type(RD_TYPE, under="/subscriptions") + ctx.store.by_type(
        RD_TYPE, under="/providers/Microsoft.Management"
    )


def find(ctx: Context, guid: str) -> JSON | None:
    """A role definition document by its GUID (built-in first), or None."""
    doc = ctx.store.get(builtin_id(guid))
    if doc is not None:
        return doc
    return next(
        (d for d in custom_definitions(ctx) if str(d["name"]).lower() == guid.lower()), None
    )


def guid_of(role_definition_id: str) -> str | None:
    """The GUID at the end of a role definition id (any qualification), or None."""
    m = _ID.search(role_definition_id.strip())
    return m.group(1).lower() if m and GUID.match(m.group(1)) else None


def qualified_id(guid: str, scope: rbac_scopes.Scope, doc: JSON | None = None) -> str:
    """A definition's id as ARM shows it at `scope`: subscription-qualified inside one."""
    if scope.subscription is not None:
        return f"/subscriptions/{scope.subscription}{PROVIDER}/roleDefinitions/{guid}"
    return str(doc["id"]) if doc is not None else builtin_id(guid)


def render(doc: JSON, scope: rbac_scopes.Scope) -> JSON:
    out = public(doc)
    out["id"] = qualified_id(str(doc["name"]), scope, doc)
    return out


def not_found(guid: str) -> ArmError:
    return ArmError(
        404,
        "RoleDefinitionDoesNotExist",
        f"The specified role definition with ID '{guid.replace('-', '')}' does not exist.",
    )


def visible_at(ctx: Context, doc: JSON, scope: rbac_scopes.Scope, below: bool = False) -> bool:
    """Whether an assignable scope of the definition is at or above (or below) `scope`."""
    for raw in doc["properties"].get("assignableScopes") or []:
        a = str(raw).rstrip("/").lower() or "/"
        if a == "/" or rbac_scopes.is_at_or_above(ctx.store, a, scope):
            return True
        if below and (scope.is_root or a.startswith(scope.key + "/")):
            return True
    return False


# ---------------------------------------------------------------------- handlers


def _scope(params: dict[str, str]) -> rbac_scopes.Scope:
    return rbac_scopes.parse(params.get("scope", ""))


@gate(ROLE_DEFINITIONS)
def list_definitions(ctx: Context, req: Request, params: dict[str, str]) -> Response:
    scope = _scope(params)
    rbac_scopes.require_scope(ctx, scope)
    name, kind, below = _parse_filter(req.q("$filter"))
    docs = ctx.store.children("/", RD_TYPE) + custom_definitions(ctx)
    out = []
    for doc in docs:
        props = doc["properties"]
        if name is not None and str(props["roleName"]).strip().lower() != name.strip().lower():
            continue
        if kind is not None and str(props["type"]).lower() != kind.lower():
            continue
        if props["type"] == "CustomRole" and not visible_at(ctx, doc, scope, below):
            continue
        out.append(render(doc, scope))
    return page(req, out, ctx.settings.page_size)


def _parse_filter(text: str | None) -> tuple[str | None, str | None, bool]:
    """(roleName, type, atScopeAndBelow) from `roleName eq '...'`, `type eq '...'` and ands.

    The SDK percent-encodes this filter completely, and documentation examples write spaces
    as `+`; both are undone here (a `+` only counts as a space outside quotes).
    """
    name = kind = None
    below = False
    if not text or not text.strip():
        return name, kind, below
    text = unquote(text).strip()
    for term in re.split(r"[\s+]+and[\s+]+", text, flags=re.IGNORECASE):
        if m := re.fullmatch(r"[\s+]*(roleName|type)[\s+]+eq[\s+]+'((?:[^']|'')*)'\s*", term, re.I):
            value = m.group(2).replace("''", "'")
            if m.group(1).lower() == "rolename":
                name = value
            else:
                kind = value
        elif re.fullmatch(r"\s*atScopeAndBelow\(\)\s*", term, re.I):
            below = True
        else:
            raise ArmError(400, "UnsupportedQuery", f"The filter '{text}' is not supported.")
    return name, kind, below


@gate(ROLE_DEFINITIONS)
def get_definition(ctx: Context, _req: Request, params: dict[str, str]) -> Response:
    scope = _scope(params)
    guid = params["rd"].lower()
    doc = find(ctx, guid) if GUID.match(guid) else None
    if doc is None:
        raise not_found(params["rd"])
    return Response(200, render(doc, scope))


@gate(ROLE_DEFINITIONS)
def put_definition(ctx: Context, req: Request, params: dict[str, str]) -> Response:
    scope = _scope(params)
    guid = params["rd"].lower()
    if not GUID.match(guid):
        raise ArmError(
            400,
            "InvalidRoleDefinitionId",
            f"The role definition ID '{params['rd']}' is not valid. The role definition ID "
            "must be a GUID.",
        )
    rbac_scopes.require_scope(ctx, scope)
    props = req.json().get("properties")
    if not isinstance(props, dict):
        raise ArmError(400, "InvalidRequestContent", "The request content is missing 'properties'.")
    role_name = str(props.get("roleName") or "").strip()
    if not role_name:
        raise ArmError(400, "InvalidRoleDefinitionName", "The role definition name is required.")
    assignable = props.get("assignableScopes")
    if not isinstance(assignable, list) or not assignable:
        raise ArmError(400, "InvalidAssignableScopes", "At least one assignable scope is required.")
    assignable_paths = [rbac_scopes.parse(str(a)).path for a in assignable]
    with ctx.store.transaction():
        existing = find(ctx, guid)
        if existing is not None and existing["properties"]["type"] == "BuiltInRole":
            raise ArmError(
                400,
                "RoleDefinitionUpdateNotPermitted",
                "Built-in role definitions cannot be modified.",
            )
        _check_unique_name(ctx, role_name, guid)
        home = _home(scope)
        now = ctx.now_iso()
        caller = req.caller.object_id if req.caller else None
        old = existing["properties"] if existing else {}
        doc: JSON = {
            "properties": {
                "roleName": role_name,
                "type": "CustomRole",
                "description": props.get("description") or "",
                "assignableScopes": assignable_paths,
                "permissions": [_permission(p) for p in props.get("permissions") or []],
                "createdOn": old.get("createdOn", now),
                "updatedOn": now,
                "createdBy": old.get("createdBy", caller),
                "updatedBy": caller,
            },
            "id": str(existing["id"]) if existing else f"{home}{PROVIDER}/roleDefinitions/{guid}",
            "type": RD_TYPE,
            "name": guid,
        }
        ctx.store.put(str(doc["id"]), RD_TYPE, str(doc["id"]).split(PROVIDER)[0] or "/", doc)
    return Response(201, render(doc, scope))


def _home(scope: rbac_scopes.Scope) -> str:
    if scope.subscription is not None:
        return f"/subscriptions/{scope.subscription}"
    if scope.management_group is not None:
        return rbac_scopes.MG_PREFIX + scope.management_group
    raise rbac_scopes.missing_subscription()


def _check_unique_name(ctx: Context, role_name: str, guid: str) -> None:
    wanted = role_name.strip().lower()
    names = [(str(r["id"]).lower(), str(r["roleName"])) for r in builtin_catalog()]
    names += [
        (str(d["name"]).lower(), str(d["properties"]["roleName"])) for d in custom_definitions(ctx)
    ]
    for other_guid, other_name in names:
        if other_guid != guid and other_name.strip().lower() == wanted:
            raise ArmError(
                409,
                "RoleDefinitionWithSameNameExists",
                "A custom role with the same name already exists in this directory. Use a "
                "different name.",
            )


@gate(ROLE_DEFINITIONS)
def delete_definition(ctx: Context, _req: Request, params: dict[str, str]) -> Response:
    scope = _scope(params)
    guid = params["rd"].lower()
    with ctx.store.transaction():
        doc = find(ctx, guid) if GUID.match(guid) else None
        if doc is None:
            return Response(204)
        if doc["properties"]["type"] == "BuiltInRole":
            raise ArmError(
                400,
                "RoleDefinitionUpdateNotPermitted",
                "Built-in role definitions cannot be deleted.",
            )
        if any(str(a.get("_roleDefinitionGuid")) == guid for a in ctx.store.by_type(RA_TYPE)):
            raise ArmError(
                409,
                "RoleDefinitionHasAssignments",
                "There are existing role assignments referencing role (code: "
                "RoleDefinitionHasAssignments).",
            )
        ctx.store.delete(str(doc["id"]))
    return Response(200, render(doc, scope))
