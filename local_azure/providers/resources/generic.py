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

from local_azure.kernel import (
    JSON,
    ArmError,
    Context,
    Request,
    Response,
    Router,
    no_api_version,
)
from local_azure.providers import regions
from local_azure.providers.listing import (
    merge_patch,
    page,
    parse_tags,
    public,
)
from local_azure.providers.resources import (
    catalog,
    identity_blocks,
    resource_bodies,
    resource_lists,
    sql,
)
from local_azure.providers.resources.catalog import Kind, Ref, Seed
from local_azure.providers.scopes import (
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
    if not kind.accepts(version):
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
        system_data=lambda existing: resource_bodies.system_data(ctx, req, existing),
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
    ref = resource_bodies.checked_name(kind, ref)
    with ctx.store.transaction():
        parent = _require_parent(ctx, ref)
        existing = ctx.store.get(ref.id)
        ref = resource_bodies.with_stored_name(ref, existing, parent)
        location = resource_bodies.location(kind, ref, body, existing, parent)
        seed = Seed(ref, location or str(group["location"]), ctx.tenant_id, ctx.now_iso())
        defaults = kind.defaults(seed)
        props = resource_bodies.put_properties(
            ctx, kind, defaults, existing, body.get("properties")
        )
        old = existing or {}
        doc = resource_bodies.compose(
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
    if kind.tags_only_patch:  # the provider's PATCH is "update tags": the rest is ignored
        body = {"tags": body["tags"]} if "tags" in body else {}
    with ctx.store.transaction():
        existing = _existing(ctx, target)
        ref = resource_bodies.with_stored_name(target.ref, existing)
        props = existing.get("properties") or {}
        if isinstance(body.get("properties"), dict):
            writable = {k: v for k, v in body["properties"].items() if k not in kind.readonly}
            props = merge_patch(props, writable)
        if kind.type == sql.ADMIN_TYPE:
            props = sql.admin_properties(ctx, props)
        tags = parse_tags(body.get("tags"))
        doc = resource_bodies.compose(
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
            system_data=resource_bodies.system_data(ctx, req, existing),
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
