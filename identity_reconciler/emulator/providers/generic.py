"""Generic ARM resources: the seeded types by id (GET/HEAD/PUT/PATCH/DELETE) and resource lists.

One catch-all route per method serves every type in `catalog` under
`/subscriptions/{s}/resourceGroups/{rg}/providers/{namespace}/{type}/{name}[/{child}/{name}]`,
with each provider's own api-versions, which is also what `ResourceManagementClient`'s
`*_by_id` operations send. The routes have a negative priority so the identity and
authorization providers' own routes win.

Writes answer synchronously with a terminal `provisioningState`, so the SDK's long-running
operation pollers finish on the first response. PUT replaces (read-only properties are kept,
omitted ones fall back to defaults); PATCH merges (RFC 7396); an absent `identity` leaves the
identity block unchanged in both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from identity_reconciler.emulator.kernel import (
    JSON,
    ArmError,
    Context,
    Request,
    Response,
    Router,
    no_api_version,
)
from identity_reconciler.emulator.providers import (
    catalog,
    identity_blocks,
    regions,
    resource_lists,
    sql,
)
from identity_reconciler.emulator.providers.catalog import Kind, Ref, Seed
from identity_reconciler.emulator.providers.listing import (
    merge_patch,
    page,
    parse_tags,
    public,
)
from identity_reconciler.emulator.providers.scopes import (
    group_id,
    require_resource_group,
    require_subscription,
)


def register(router: Router, resources_api_versions: Sequence[str]) -> None:
    v = resources_api_versions
    router.add(
        "GET",
        "/subscriptions/{sub}/resources",
        resource_lists.list_in_subscription,
        api_versions=v,
        name="resources.list",
    )
    router.add(
        "GET",
        "/subscriptions/{sub}/resourcegroups/{rg}/resources",
        resource_lists.list_in_group,
        api_versions=v,
        name="resources.listByResourceGroup",
    )
    by_id = "/subscriptions/{sub}/resourcegroups/{rg}/providers/{ns}/{rest*}"
    for method, handler in (
        ("GET", get),
        ("HEAD", head),
        ("PUT", put),
        ("PATCH", patch),
        ("DELETE", delete),
    ):
        router.add(method, by_id, handler, priority=-10, name=f"resources.{method.lower()}ById")
    router.add(
        "GET",
        "/subscriptions/{sub}/providers/{ns}/{rest*}",
        resource_lists.list_type_in_subscription,
        priority=-10,
        name="resources.listTypeBySubscription",
    )


# ---------------------------------------------------------------------- addressing


@dataclass(frozen=True)
class Target:
    kind: Kind
    ref: Ref  # for a collection, names has one entry fewer than types
    collection: bool
    group: JSON

    @property
    def parent_id(self) -> str:
        if not self.collection:
            return self.ref.parent_id
        if not self.ref.names:
            return self.ref.group_id
        r = self.ref
        return Ref(r.subscription_id, r.resource_group, r.namespace, r.types[:-1], r.names).id


def _resolve(ctx: Context, req: Request, params: dict[str, str]) -> Target:
    segments = _segments(params["rest"])
    types, names = tuple(segments[0::2]), tuple(segments[1::2])
    version = req.api_version
    if not version:
        raise no_api_version()
    kind = catalog.kind_of("/".join((params["ns"], *types)))
    if kind is None:
        raise ArmError(
            400,
            "InvalidResourceType",
            f"The resource type '{'/'.join(types)}' could not be found in the namespace "
            f"'{params['ns']}' for api version '{version}'.",
        )
    group = require_resource_group(ctx, params["sub"], params["rg"])
    if version not in kind.api_versions:
        raise ArmError(
            400,
            "NoRegisteredProviderFound",
            f"No registered resource provider found for location '{group['location']}' and API "
            f"version '{version}' for type '{'/'.join(types)}'. The supported api-versions are "
            f"'{', '.join(kind.api_versions)}'. The supported locations are "
            f"'{', '.join(r.display_name.lower() for r in regions.REGIONS)}'.",
        )
    namespace, *canonical_types = kind.type.split("/")
    ref = Ref(group["id"].split("/")[2], group["name"], namespace, tuple(canonical_types), names)
    return Target(kind, ref, len(segments) % 2 == 1, group)


def _segments(rest: str) -> list[str]:
    """Path segments below the namespace; empty ones (an SDK's empty parent path) collapse."""
    return [segment for segment in rest.split("/") if segment]


def _instance(ctx: Context, req: Request, params: dict[str, str]) -> Target:
    target = _resolve(ctx, req, params)
    if target.collection:
        raise ArmError(
            405,
            "MethodNotAllowed",
            f"The requested resource does not support http method '{req.method}'.",
        )
    return target


def _require_parent(ctx: Context, ref: Ref) -> JSON | None:
    if len(ref.names) < 2:
        return None
    parent = ctx.store.get(ref.parent_id)
    if parent is None:
        raise ArmError(
            404,
            "ParentResourceNotFound",
            "Can not perform requested operation on nested resource. Parent resource "
            f"'{'/'.join(ref.names[:-1])}' not found.",
        )
    return parent


def _not_found(ref: Ref) -> ArmError:
    return ArmError(
        404,
        "ResourceNotFound",
        f"The Resource '{ref.type_path()}' under resource group '{ref.resource_group}' was not "
        "found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
    )


def _existing(ctx: Context, target: Target) -> JSON:
    _require_parent(ctx, target.ref)
    doc = ctx.store.get(target.ref.id)
    if doc is None:
        raise _not_found(target.ref)
    return doc


# ---------------------------------------------------------------------- by id


def get(ctx: Context, req: Request, params: dict[str, str]) -> Response:
    target = _resolve(ctx, req, params)
    if target.collection:
        return _list_collection(ctx, req, target)
    return Response(200, public(_existing(ctx, target)))


def head(ctx: Context, req: Request, params: dict[str, str]) -> Response:
    """Existence of any document by id, whichever provider owns it (check_existence_by_id)."""
    require_subscription(ctx, params["sub"])
    rest = "/".join(_segments(params["rest"]))
    path = f"{group_id(params['sub'], params['rg'])}/providers/{params['ns']}/{rest}"
    return Response(204 if ctx.store.get(path) is not None else 404)


def put(ctx: Context, req: Request, params: dict[str, str]) -> Response:
    target = _instance(ctx, req, params)
    doc, created = write(
        ctx,
        target.kind,
        target.ref,
        target.group,
        req.json(),
        system_data=lambda existing: _system_data(ctx, req, existing),
    )
    return Response(target.kind.create_status if created else 200, public(doc))


def write(
    ctx: Context,
    kind: Kind,
    ref: Ref,
    group: JSON,
    body: JSON,
    *,
    system_data: Callable[[JSON | None], JSON | None] | None = None,
    new_guid: identity_blocks.GuidFactory | None = None,
) -> tuple[JSON, bool]:
    """Create or replace a resource (PUT semantics); returns the document and whether it is new.

    World seeding calls this too, with a deterministic `new_guid` for principals.
    """
    ref = _checked_name(kind, ref)
    with ctx.store.transaction():
        parent = _require_parent(ctx, ref)
        existing = ctx.store.get(ref.id)
        ref = _with_stored_name(ref, existing)
        location = _location(kind, ref, body, existing, parent)
        seed = Seed(ref, location or str(group["location"]), ctx.tenant_id, ctx.now_iso())
        defaults = kind.defaults(seed)
        props = _put_properties(ctx, kind, defaults, existing, body.get("properties"))
        old = existing or {}
        doc = _compose(
            kind,
            ref,
            location,
            kind_value=body.get("kind") or old.get("kind") or defaults.get("kind"),
            sku=body.get("sku") or old.get("sku") or defaults.get("sku"),
            tags=parse_tags(body.get("tags")),
            identity=identity_blocks.apply(
                ctx,
                kind,
                ref,
                old.get("identity"),
                body.get("identity"),
                patch=False,
                new_guid=new_guid,
            ),
            properties=props,
            system_data=system_data(existing) if system_data else old.get("systemData"),
        )
        created = ctx.store.put(ref.id, kind.type, ref.parent_id, doc)
        if kind.type == sql.ADMIN_TYPE:
            sql.sync_server(ctx, ref, props)
    return doc, created


def patch(ctx: Context, req: Request, params: dict[str, str]) -> Response:
    target = _instance(ctx, req, params)
    kind, body = target.kind, req.json()
    with ctx.store.transaction():
        existing = _existing(ctx, target)
        ref = _with_stored_name(target.ref, existing)
        props = existing.get("properties") or {}
        if isinstance(body.get("properties"), dict):
            writable = {k: v for k, v in body["properties"].items() if k not in kind.readonly}
            props = merge_patch(props, writable)
        if kind.type == sql.ADMIN_TYPE:
            props = sql.admin_properties(ctx, props)
        tags = parse_tags(body.get("tags"))
        doc = _compose(
            kind,
            ref,
            existing.get("location"),
            kind_value=existing.get("kind"),
            sku=merge_patch(existing.get("sku"), body["sku"])
            if body.get("sku")
            else existing.get("sku"),
            tags=tags if tags is not None else existing.get("tags"),
            identity=identity_blocks.apply(
                ctx, kind, ref, existing.get("identity"), body.get("identity"), patch=True
            ),
            properties=props,
            system_data=_system_data(ctx, req, existing),
        )
        ctx.store.put(ref.id, kind.type, ref.parent_id, doc)
        if kind.type == sql.ADMIN_TYPE:
            sql.sync_server(ctx, ref, props)
    return Response(200, public(doc))


def delete(ctx: Context, req: Request, params: dict[str, str]) -> Response:
    target = _instance(ctx, req, params)
    with ctx.store.transaction():
        existing = ctx.store.get(target.ref.id)
        if existing is None:
            return Response(204)
        ctx.store.delete_tree(target.ref.id)
        identity_blocks.remove_principals(ctx, target.ref.id)
        if target.kind.type == sql.ADMIN_TYPE:
            sql.sync_server(ctx, target.ref, None)
    return Response(200)


# ---------------------------------------------------------------------- composing bodies


def _checked_name(kind: Kind, ref: Ref) -> Ref:
    """The ref, its name validated (and spelled canonically where the name is fixed)."""
    name = ref.name
    if kind.fixed_names:
        fixed = next((n for n in kind.fixed_names if n.lower() == name.lower()), None)
        if fixed is None:
            raise ArmError(
                400,
                "InvalidParameterValue",
                "Invalid value given for parameter administratorName. "
                "Specify a valid parameter value.",
            )
        return Ref(
            ref.subscription_id,
            ref.resource_group,
            ref.namespace,
            ref.types,
            (*ref.names[:-1], fixed),
        )
    if kind.name_pattern.match(name):
        return ref
    code, message = kind.name_error
    raise ArmError(
        400,
        code,
        message.format(name=name)
        or f"Resource name {name} is invalid. The name can be up to 80 characters long. It must "
        "begin with a word character, and it must end with a word character or with '_'. The "
        "name may contain word characters or '.', '-', '_'.",
    )


def _with_stored_name(ref: Ref, existing: JSON | None) -> Ref:
    if existing is None:
        return ref
    return Ref(
        ref.subscription_id,
        ref.resource_group,
        ref.namespace,
        ref.types,
        (*ref.names[:-1], str(existing["name"])),
    )


def _location(
    kind: Kind, ref: Ref, body: JSON, existing: JSON | None, parent: JSON | None
) -> str | None:
    """The region name for a write, validated; None for proxy resources (no location)."""
    if not kind.tracked:
        return None
    raw = body.get("location") or (parent or {}).get("location")
    if not isinstance(raw, str) or not raw:
        raise ArmError(
            400, "LocationRequired", "The location property is required for this definition."
        )
    region = regions.find(raw)
    if region is None:
        raise ArmError(
            400,
            "LocationNotAvailableForResourceType",
            f"The provided location '{raw}' is not available for resource type '{kind.type}'. "
            f"List of available regions for the resource type is '{','.join(regions.names())}'.",
        )
    old = regions.find(str(existing.get("location", ""))) if existing else None
    if old is not None and old.name != region.name:
        raise ArmError(
            400,
            "InvalidResourceLocation",
            f"The resource '{ref.name}' already exists in location '{old.name}' in resource group "
            f"'{ref.resource_group}'. A resource with the same name cannot be created in location "
            f"'{region.name}'. Please select a new resource name.",
        )
    return region.name


def _put_properties(
    ctx: Context, kind: Kind, defaults: JSON, existing: JSON | None, requested: Any
) -> JSON:
    if requested is not None and not isinstance(requested, dict):
        raise ArmError(400, "InvalidRequestContent", "The 'properties' property must be an object.")
    if kind.type == sql.ADMIN_TYPE:
        return sql.admin_properties(ctx, requested)
    props = dict(defaults.get("properties") or {})
    props.update({k: v for k, v in (requested or {}).items() if k not in kind.readonly})
    old = (existing or {}).get("properties") or {}
    props.update({k: v for k, v in old.items() if k in kind.readonly})
    return props


def _compose(
    kind: Kind,
    ref: Ref,
    location: str | None,
    *,
    kind_value: Any,
    sku: Any,
    tags: dict[str, str] | None,
    identity: JSON | None,
    properties: JSON,
    system_data: JSON | None,
) -> JSON:
    doc: JSON = {"id": ref.id, "name": ref.name, "type": kind.type}
    if kind_value:
        doc["kind"] = kind_value
    if location is not None:
        doc["location"] = catalog.display_location(kind, location)
    if tags is not None:
        doc["tags"] = tags
    if sku:
        doc["sku"] = sku
    if identity is not None:
        doc["identity"] = identity
    doc["properties"] = properties
    if system_data is not None:
        doc["systemData"] = system_data
    return doc


def _system_data(ctx: Context, req: Request, existing: JSON | None) -> JSON | None:
    previous = (existing or {}).get("systemData")
    caller = req.caller
    if caller is None:
        return previous if isinstance(previous, dict) else None
    principal = ctx.store.get_principal(caller.object_id)
    is_user = principal is not None and principal.kind == "User"
    who = (caller.display_name if is_user else caller.app_id) or caller.object_id
    who_type = "User" if is_user else "Application"
    now = ctx.now_iso()
    created = previous if isinstance(previous, dict) and previous.get("createdAt") else None
    return {
        "createdBy": created["createdBy"] if created else who,
        "createdByType": created["createdByType"] if created else who_type,
        "createdAt": created["createdAt"] if created else now,
        "lastModifiedBy": who,
        "lastModifiedByType": who_type,
        "lastModifiedAt": now,
    }


# ---------------------------------------------------------------------- lists


def _list_collection(ctx: Context, req: Request, target: Target) -> Response:
    if target.ref.names:
        _require_parent_of_collection(ctx, target)
    docs = ctx.store.children(target.parent_id, target.kind.type)
    return page(req, docs, ctx.settings.page_size)


def _require_parent_of_collection(ctx: Context, target: Target) -> None:
    r = target.ref
    parent = Ref(r.subscription_id, r.resource_group, r.namespace, r.types[:-1], r.names)
    if ctx.store.get(parent.id) is None:
        raise _not_found(parent)
