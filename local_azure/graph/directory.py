"""Microsoft Graph v1.0 for the emulator's directory: service principals, users and groups.

Clients that resolve principal ids to names (azure-cli's `role assignment` commands among them)
call Graph at the `microsoftGraphResourceId` that `/metadata/endpoints` advertises. The
emulator advertises its own Graph, served here under `/graph/v1.0/`, so no emulator token is
ever sent to the real Microsoft Graph. Objects are read from the principals the world seeded
and the managed identities created since; shapes follow the Graph v1.0 resource types
(`servicePrincipal`, `user`, `group`), with the properties clients read.
"""

from __future__ import annotations

from typing import Any

from local_azure.graph.query import (
    JSON,
    GraphError,
    bad_request,
    next_link,
    page_size,
    parse_filter,
    project,
    select,
    skip,
)
from local_azure.kernel import Context, Request, Response, Router
from local_azure.store import Principal

PREFIX = "/graph"
V1 = f"{PREFIX}/v1.0"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
MAX_IDS = 1000
_ODATA_TYPES = {
    "ServicePrincipal": "#microsoft.graph.servicePrincipal",
    "User": "#microsoft.graph.user",
    "Group": "#microsoft.graph.group",
}
_TYPE_NAMES = {"serviceprincipal": "ServicePrincipal", "user": "User", "group": "Group"}
# Other directory object types getByIds accepts (azure-cli asks for some); none is stored here.
_OTHER_TYPES = frozenset(
    {
        "application", "device", "orgcontact", "directoryrole", "directoryroletemplate",
        "directoryobjectpartnerreference", "administrativeunit", "contract",
    }
)  # fmt: skip
_COLLECTIONS = {"ServicePrincipal": "servicePrincipals", "User": "users", "Group": "groups"}
_FILTERS: dict[str, dict[str, str]] = {
    "ServicePrincipal": {
        "id": "string",
        "appId": "string",
        "displayName": "string",
        "servicePrincipalType": "string",
        "servicePrincipalNames": "list",
        "alternativeNames": "list",
    },
    "User": {
        "id": "string",
        "displayName": "string",
        "userPrincipalName": "string",
        "mail": "string",
    },
    "Group": {"id": "string", "displayName": "string", "mailNickname": "string"},
}


def graph_root(base_url: str) -> str:
    """The Graph endpoint clients are given: `https://127.0.0.1:PORT/graph/`."""
    return base_url.rstrip("/") + PREFIX + "/"


def _tenant_domain(ctx: Context) -> str:
    doc = ctx.store.get(f"/tenants/{ctx.tenant_id}")
    domain = doc.get("defaultDomain") if doc else None
    return str(domain or "localemulator.onmicrosoft.com")


def _service_principal(ctx: Context, p: Principal) -> JSON:
    app_id = p.app_id or p.object_id
    managed = p.resource_id is not None
    alternative: list[str] = []
    if p.resource_id:
        explicit = "/microsoft.managedidentity/userassignedidentities/" in p.resource_id.lower()
        doc = ctx.store.get(p.resource_id)
        resource_id = str(doc["id"]) if doc and "id" in doc else p.resource_id
        alternative = [f"isExplicit={explicit}", resource_id]
    return {
        "id": p.object_id,
        "deletedDateTime": None,
        "accountEnabled": True,
        "alternativeNames": alternative,
        "appDisplayName": None if managed else p.display_name,
        "appId": app_id,
        "appOwnerOrganizationId": None if managed else ctx.tenant_id,
        "appRoleAssignmentRequired": False,
        "displayName": p.display_name,
        "servicePrincipalNames": [app_id],
        "servicePrincipalType": "ManagedIdentity" if managed else "Application",
        "signInAudience": None if managed else "AzureADMyOrg",
        "tags": [],
        "keyCredentials": [],
        "passwordCredentials": [],
    }


def _user(ctx: Context, p: Principal) -> JSON:
    upn = (
        p.display_name
        if "@" in p.display_name
        else ("".join(ch for ch in p.display_name if ch.isalnum() or ch in "._-") or p.object_id)
        + "@"
        + _tenant_domain(ctx)
    )
    return {
        "id": p.object_id,
        "businessPhones": [],
        "displayName": p.display_name,
        "givenName": None,
        "jobTitle": None,
        "mail": upn,
        "mobilePhone": None,
        "officeLocation": None,
        "preferredLanguage": None,
        "surname": None,
        "userPrincipalName": upn,
    }


def _group(_ctx: Context, p: Principal) -> JSON:
    nickname = "".join(ch for ch in p.display_name if ch.isalnum() or ch in "._-") or "group"
    return {
        "id": p.object_id,
        "deletedDateTime": None,
        "description": None,
        "displayName": p.display_name,
        "groupTypes": [],
        "mail": None,
        "mailEnabled": False,
        "mailNickname": nickname,
        "securityEnabled": True,
        "visibility": None,
    }


_SHAPES = {"ServicePrincipal": _service_principal, "User": _user, "Group": _group}


def graph_object(ctx: Context, p: Principal) -> JSON:
    return _SHAPES[p.kind](ctx, p)


def _context_url(req: Request, fragment: str) -> str:
    return f"{graph_root(req.base_url)}v1.0/$metadata#{fragment}"


def not_found(object_id: str) -> GraphError:
    return GraphError(
        404,
        "Request_ResourceNotFound",
        f"Resource '{object_id}' does not exist or one of its queried reference-property "
        "objects are not present.",
    )


def _one(kind: str) -> Any:
    def handler(ctx: Context, req: Request, params: dict[str, str]) -> Response:
        principal = ctx.store.get_principal(params["id"])
        if principal is None or principal.kind != kind:
            raise not_found(params["id"])
        body = {
            "@odata.context": _context_url(req, f"{_COLLECTIONS[kind]}/$entity"),
            **project(graph_object(ctx, principal), req.q("$select")),
        }
        return Response(200, body)

    return handler


def _list(kind: str) -> Any:
    def handler(ctx: Context, req: Request, _params: dict[str, str]) -> Response:
        objects = [graph_object(ctx, p) for p in ctx.store.principals() if p.kind == kind]
        text = req.q("$filter")
        if text:
            clauses, joiner = parse_filter(text, _FILTERS[kind], kind)
            objects = select(objects, clauses, joiner)
        size, offset = page_size(req.q("$top")), skip(req.q("$skiptoken"))
        page = objects[offset : offset + size]
        body: JSON = {
            "@odata.context": _context_url(req, _COLLECTIONS[kind]),
            "value": [project(o, req.q("$select")) for o in page],
        }
        if offset + size < len(objects):
            body["@odata.nextLink"] = next_link(req.base_url, req.path, req.query, offset + size)
        return Response(200, body)

    return handler


def _by_app_id(ctx: Context, req: Request, params: dict[str, str]) -> Response:
    principal = ctx.store.principal_by_app_id(params["app"].strip("'"))
    if principal is None or principal.kind != "ServicePrincipal":
        raise not_found(params["app"])
    body = {
        "@odata.context": _context_url(req, "servicePrincipals/$entity"),
        **project(graph_object(ctx, principal), req.q("$select")),
    }
    return Response(200, body)


def get_by_ids(ctx: Context, req: Request, _params: dict[str, str]) -> Response:
    """POST directoryObjects/getByIds: the objects found, in no promised order; unknown ids
    are left out, as Graph does."""
    body = req.json()
    ids = body.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise bad_request("The 'ids' property must be an array of strings.")
    if len(ids) > MAX_IDS:
        raise bad_request(f"The 'ids' property may hold at most {MAX_IDS} ids.")
    types = body.get("types")
    kinds: set[str] | None = None
    if types is not None:
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            raise bad_request("The 'types' property must be an array of strings.")
        kinds = set()
        for t in types:
            name = t.lower().removeprefix("#").removeprefix("microsoft.graph.")
            kind = _TYPE_NAMES.get(name)
            if kind is None and name not in _OTHER_TYPES:
                raise bad_request(f"Invalid type '{t}' specified in 'types'.")
            if kind is not None:
                kinds.add(kind)
    found = []
    seen: set[str] = set()
    for object_id in ids:
        principal = ctx.store.get_principal(object_id)
        if principal is None or principal.object_id in seen:
            continue
        if kinds is not None and principal.kind not in kinds:
            continue
        seen.add(principal.object_id)
        found.append({"@odata.type": _ODATA_TYPES[principal.kind], **graph_object(ctx, principal)})
    return Response(200, {"@odata.context": _context_url(req, "directoryObjects"), "value": found})


def get_directory_object(ctx: Context, req: Request, params: dict[str, str]) -> Response:
    principal = ctx.store.get_principal(params["id"])
    if principal is None:
        raise not_found(params["id"])
    body = {
        "@odata.context": _context_url(req, "directoryObjects/$entity"),
        "@odata.type": _ODATA_TYPES[principal.kind],
        **project(graph_object(ctx, principal), req.q("$select")),
    }
    return Response(200, body)


def _unknown(_ctx: Context, req: Request, _params: dict[str, str]) -> Response:
    segment = req.path[len(PREFIX) :].strip("/").split("/")
    if not segment or segment[0].lower() != "v1.0":
        raise GraphError(400, "BadRequest", f"Invalid version: {segment[0] if segment else ''}")
    name = segment[1] if len(segment) > 1 else ""
    raise GraphError(400, "BadRequest", f"Resource not found for the segment '{name}'.")


def register(router: Router) -> None:
    p = 90
    router.add(
        "POST", f"{V1}/directoryObjects/getByIds", get_by_ids, name="graph.getByIds", priority=p
    )
    router.add(
        "GET",
        f"{V1}/directoryObjects/{{id}}",
        get_directory_object,
        name="graph.directoryObject",
        priority=p,
    )
    router.add(
        "GET",
        f"{V1}/servicePrincipals(appId={{app}})",
        _by_app_id,
        name="graph.servicePrincipal",
        priority=p + 1,
    )
    for kind, collection in _COLLECTIONS.items():
        router.add(
            "GET", f"{V1}/{collection}", _list(kind), name=f"graph.{collection}.list", priority=p
        )
        router.add(
            "GET",
            f"{V1}/{collection}/{{id}}",
            _one(kind),
            name=f"graph.{collection}.get",
            priority=p,
        )
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        router.add(method, f"{PREFIX}/{{rest*}}", _unknown, name="graph.unknown", priority=p - 1)
