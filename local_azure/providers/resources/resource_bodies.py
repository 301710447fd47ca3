"""Composing resource bodies for writes: names, locations, properties, systemData.

ARM rules applied on every PUT and PATCH of a seeded type: a provider's own name rules (fixed
names spelled canonically), location required and immutable (reported the provider's way),
read-only properties kept from the stored body, and `systemData` naming who wrote last.
"""

from __future__ import annotations

from typing import Any

from local_azure.kernel import JSON, ArmError, Context, Request
from local_azure.providers import regions
from local_azure.providers.resources import catalog, sql
from local_azure.providers.resources.catalog import Kind, Ref


def checked_name(kind: Kind, ref: Ref) -> Ref:
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


def with_stored_name(ref: Ref, existing: JSON | None, parent: JSON | None = None) -> Ref:
    """The ref with names spelled as stored: the resource's own, else its parent's.

    Names are case-insensitive; ids and `name` keep the spelling of the first write.
    """
    source = existing or parent
    if source is None:
        return ref
    stored = _names(str(source["id"]))
    names = stored if existing is not None else (*stored, ref.name)
    if len(names) != len(ref.names):
        return ref
    return Ref(ref.subscription_id, ref.resource_group, ref.namespace, ref.types, tuple(names))


def _names(arm_id: str) -> tuple[str, ...]:
    """The resource names in an id below its namespace (`sites/a/slots/b` -> (a, b))."""
    below = arm_id.rsplit("/providers/", maxsplit=1)[-1].split("/")[1:]
    return tuple(below[1::2])


def location(
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


def put_properties(
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


def compose(
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
    name = "/".join(ref.names) if kind.qualified_name else ref.name
    doc: JSON = {"id": ref.id, "name": name, "type": kind.type}
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


def system_data(ctx: Context, req: Request, existing: JSON | None) -> JSON | None:
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
