"""World seeding: the tenant, directory and estate an emulator starts with.

`load(ctx, source)` reads a world (a YAML or JSON file, a dict, or None for the packaged
default), validates it (`world_schema`), and seeds the store. Seeding is idempotent: anything
already present is left as it is, so re-running on a persistent store changes nothing, and a
world always yields the same ids (system-assigned principals and generated names are uuid5
of the tenant and the object they belong to). The world's tenant becomes the emulator's.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from importlib import resources as package_files
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from local_azure.kernel import JSON, Context
from local_azure.providers import authorization
from local_azure.providers.resources import catalog, generic
from local_azure.providers.resources.discovery import MANAGEMENT_GROUP_TYPE
from local_azure.providers.resources.groups import GROUP_TYPE
from local_azure.providers.scopes import Ref, group_id
from local_azure.store import Principal
from local_azure.world_schema import (
    PRINCIPAL_TYPES,
    ResourceGroup,
    World,
    role_guid,
)

__all__ = ["World", "WorldError", "load", "read"]

_NS = uuid.UUID("9a1d2c8e-5b7f-4e36-a0c4-1f2e3d4c5b6a")
SOURCE = str | Path | dict[str, Any] | World | None


class WorldError(ValueError):
    """A world file that cannot be used; the message names the file and the field."""


def read(source: SOURCE) -> World:
    """Parse and validate a world without touching any store."""
    if isinstance(source, World):
        return source
    label, data = _raw(source)
    if not isinstance(data, dict):
        raise WorldError(f"{label}: the top level must be a mapping of world settings")
    try:
        return World.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = _location(first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise WorldError(f"{label}: {where + ': ' if where else ''}{message}{more}") from None


def load(ctx: Context, source: SOURCE) -> World:
    """Seed the store from a world (idempotently) and make its tenant the emulator's."""
    world = read(source)
    ctx.tenant_id = world.tenant_id
    with ctx.store.transaction():
        ctx.store.meta_set("tenant_id", world.tenant_id)
        _seed_directory(ctx, world)
        _seed_estate(ctx, world)
        _seed_assignments(ctx, world)
    return world


# ---------------------------------------------------------------------- reading


def _raw(source: str | Path | dict[str, Any] | None) -> tuple[str, Any]:
    if isinstance(source, dict):
        return "world", source
    if source is None:
        packaged = package_files.files("identity_reconciler.data") / "default-world.yaml"
        return "default world", yaml.safe_load(packaged.read_text(encoding="utf-8"))
    path = Path(source)
    label = f"world file '{path}'"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise WorldError(f"{label}: no such file") from None
    except OSError as exc:
        raise WorldError(f"{label}: cannot be read ({exc.strerror})") from None
    try:
        return label, yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise WorldError(f"{label}: {where}not valid YAML or JSON ({problem})") from None


def _location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not str(part).startswith("function-after"):
            out += f".{part}" if out else str(part)
    return out


# ---------------------------------------------------------------------- seeding


def _guid(*parts: str) -> str:
    return str(uuid.uuid5(_NS, "|".join(p.lower() for p in parts)))


def _put_absent(ctx: Context, arm_id: str, type_: str, parent: str, body: JSON) -> None:
    if ctx.store.get(arm_id) is None:
        ctx.store.put(arm_id, type_, parent, body)


def _add_principal(ctx: Context, object_id: str, kind: str, name: str, app_id: str | None) -> None:
    """Directory objects from the world existed long before the emulator started."""
    if ctx.store.get_principal(object_id) is None:
        ctx.store.add_principal(
            Principal(object_id, kind, name, app_id, None, ctx.tenant_id, created_at=0.0)
        )


def _seed_directory(ctx: Context, world: World) -> None:
    tid = world.tenant_id
    domain = world.tenant_domain or "localemulator.onmicrosoft.com"
    tenant: JSON = {
        "id": f"/tenants/{tid}",
        "tenantId": tid,
        "countryCode": "GB",
        "displayName": world.tenant_display_name,
        "domains": [domain],
        "tenantCategory": "Home",
        "defaultDomain": domain,
        "tenantType": "AAD",
    }
    _put_absent(ctx, tenant["id"], "tenant", "/", tenant)
    for p in world.principals:
        _add_principal(ctx, p.object_id, p.kind, p.display_name, p.app_id)
    if world.operator is not None:
        op = world.operator
        object_id = (
            op.object_id or ctx.store.meta_get("operator_object_id") or _guid(tid, "operator")
        )
        app_id = op.app_id or ctx.store.meta_get("operator_app_id") or _guid(tid, "operator-app")
        _add_principal(ctx, object_id, "ServicePrincipal", op.display_name, app_id)
        ctx.store.meta_set("operator_object_id", object_id)
        ctx.store.meta_set("operator_app_id", app_id)
    for mg in world.management_groups:
        mg_id = f"/providers/{MANAGEMENT_GROUP_TYPE}/{mg.name}"
        parent = f"/providers/{MANAGEMENT_GROUP_TYPE}/{mg.parent}" if mg.parent else None
        body: JSON = {
            "id": mg_id,
            "type": MANAGEMENT_GROUP_TYPE,
            "name": mg.name,
            "properties": {
                "tenantId": tid,
                "displayName": mg.display_name or mg.name,
                "details": {
                    "parent": {"id": parent or f"/providers/{MANAGEMENT_GROUP_TYPE}/{tid}"}
                },
            },
            "_parent": parent,
        }
        _put_absent(ctx, mg_id, MANAGEMENT_GROUP_TYPE, "/", body)


def _chain(world: World, subscription_id: str) -> list[str]:
    by_name = {m.name.lower(): m for m in world.management_groups}
    current = next((m for m in world.management_groups if subscription_id in m.subscriptions), None)
    chain: list[str] = []
    while current is not None:
        chain.append(f"/providers/{MANAGEMENT_GROUP_TYPE}/{current.name}")
        current = by_name[current.parent.lower()] if current.parent else None
    return chain


def _seed_estate(ctx: Context, world: World) -> None:
    for s in world.subscriptions:
        sub_id = f"/subscriptions/{s.id}"
        sub: JSON = {
            "id": sub_id,
            "subscriptionId": s.id,
            "tenantId": world.tenant_id,
            "displayName": s.display_name,
            "state": s.state,
            "subscriptionPolicies": {
                "locationPlacementId": "Public_2014-09-01",
                "quotaId": "PayAsYouGo_2014-09-01",
                "spendingLimit": "Off",
            },
            "authorizationSource": "RoleBased",
            "managedByTenants": [],
            "tags": dict(s.tags),
            "_managementGroups": _chain(world, s.id),
        }
        _put_absent(ctx, sub_id, "subscription", "/", sub)
        for g in s.resource_groups:
            _seed_group(ctx, s.id, g)


def _seed_group(ctx: Context, subscription_id: str, g: ResourceGroup) -> None:
    gid = group_id(subscription_id, g.name)
    doc = ctx.store.get(gid)
    if doc is None:
        doc = {"id": gid, "name": g.name, "type": GROUP_TYPE, "location": g.location}
        if g.tags:
            doc["tags"] = dict(g.tags)
        doc["properties"] = {"provisioningState": "Succeeded"}
        ctx.store.put(gid, GROUP_TYPE, f"/subscriptions/{subscription_id}", doc)
    for r in g.resources:
        kind = catalog.kind_of(r.type)
        assert kind is not None  # checked by the schema
        namespace, *types = kind.type.split("/")
        names = tuple(r.name.split("/"))
        location = r.location or g.location
        ref = Ref(subscription_id, doc["name"], namespace, tuple(types), names)
        _seed_parents(ctx, ref, doc, location)
        type_name = types[0]
        body: JSON = {
            "location": location,
            "kind": r.kind,
            "tags": r.tags,
            "properties": r.properties,
        }
        if r.system_assigned:
            body["identity"] = {"type": "SystemAssigned"}
        _write_absent(ctx, kind, ref, doc, body)
        for db in r.databases:
            child = Ref(
                ref.subscription_id,
                ref.resource_group,
                namespace,
                (type_name, "databases"),
                (r.name, db),
            )
            _write_absent(
                ctx,
                catalog.KINDS["microsoft.sql/servers/databases"],
                child,
                doc,
                {"location": location},
            )
        if r.entra_admin is not None:
            admin = Ref(
                ref.subscription_id,
                ref.resource_group,
                namespace,
                (type_name, "administrators"),
                (r.name, "ActiveDirectory"),
            )
            props = {
                "administratorType": "ActiveDirectory",
                "login": r.entra_admin.login,
                "sid": r.entra_admin.object_id,
                "tenantId": ctx.tenant_id,
                "azureADOnlyAuthentication": r.entra_admin.azure_ad_only,
            }
            _write_absent(
                ctx,
                catalog.KINDS["microsoft.sql/servers/administrators"],
                admin,
                doc,
                {"properties": props},
            )


def _seed_parents(ctx: Context, child: Ref, group: JSON, location: str) -> None:
    """A child resource (a queue, a blob container) needs its parents: seed absent ones."""
    for depth in range(1, len(child.types)):
        kind = catalog.kind_of("/".join((child.namespace, *child.types[:depth])))
        assert kind is not None  # a prefix of a well-formed type is well-formed
        ref = Ref(
            child.subscription_id,
            child.resource_group,
            child.namespace,
            child.types[:depth],
            child.names[:depth],
        )
        body: JSON = {"location": location} if depth == 1 else {}
        _write_absent(ctx, kind, ref, group, body)


def _write_absent(ctx: Context, kind: catalog.Kind, ref: Ref, group: JSON, body: JSON) -> None:
    if ctx.store.get(ref.id) is not None:
        return
    guids = _deterministic(ctx.tenant_id, ref.id)
    generic.write(
        ctx,
        kind,
        ref,
        group,
        {k: v for k, v in body.items() if v is not None},
        new_guid=lambda: next(guids),
    )


def _deterministic(tenant_id: str, resource_id: str) -> Iterator[str]:
    n = 0
    while True:
        n += 1
        yield _guid(tenant_id, resource_id, "system-assigned", str(n))


def _seed_assignments(ctx: Context, world: World) -> None:
    kinds = {p.object_id: PRINCIPAL_TYPES[p.kind] for p in world.principals}
    grants: list[tuple[str, str, str, str, str | None, str | None]] = []
    if world.operator is not None:
        operator = ctx.store.meta_get("operator_object_id") or ""
        for g in world.operator.roles:
            grants.append((g.scope, role_guid(g.role), operator, "ServicePrincipal", None, None))
    for a in world.role_assignments:
        principal_type = a.principal_type or kinds.get(a.principal_id, "ServicePrincipal")
        grants.append(
            (a.scope, role_guid(a.role), a.principal_id, principal_type, a.name, a.description)
        )
    for scope, role, principal, principal_type, name, description in grants:
        authorization.seed_assignment(
            ctx,
            scope,
            role,
            principal,
            principal_type,
            name=name or _guid(scope.rstrip("/"), role, principal),
            description=description,
        )
