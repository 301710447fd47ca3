"""ARM resource ids and RBAC scopes: parse, validate, normalise, build.

ARM ids are case-insensitive, and Azure itself is inconsistent about casing (it answers with
`resourcegroups` where the docs say `resourceGroups`). Everything that compares ids goes through
`key()`; everything that shows an id to a person uses the canonical spelling from `Scope.id`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

GUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
# Resource group names: 1-90 of letters, digits, underscores, parentheses, hyphens, periods
# (unicode letters allowed), not ending in a period.
RESOURCE_GROUP_RE = re.compile(r"^[-\w._()]{1,90}(?<!\.)$")
MANAGEMENT_GROUP_RE = re.compile(r"^[-\w._()]{1,90}$")
NAMESPACE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)+$")
SEGMENT_RE = re.compile(r"^[^/?#\s][^/?#]*$")

USER_ASSIGNED_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"
ROLE_DEFINITION_PREFIX = "/providers/Microsoft.Authorization/roleDefinitions/"


class ArmIdError(ValueError):
    """An ARM id or scope that cannot be parsed; the message says what was expected."""


class ScopeKind(StrEnum):
    MANAGEMENT_GROUP = "management_group"
    SUBSCRIPTION = "subscription"
    RESOURCE_GROUP = "resource_group"
    RESOURCE = "resource"

    @property
    def breadth(self) -> int:
        """Larger is broader: management group > subscription > resource group > resource."""
        return _BREADTH[self]


_BREADTH = {
    ScopeKind.RESOURCE: 0,
    ScopeKind.RESOURCE_GROUP: 1,
    ScopeKind.SUBSCRIPTION: 2,
    ScopeKind.MANAGEMENT_GROUP: 3,
}


def key(arm_id: str) -> str:
    """The comparison key of an ARM id: lower case, no trailing slash."""
    return arm_id.rstrip("/").lower()


@dataclass(frozen=True)
class Scope:
    """A parsed RBAC scope or resource id.

    `types` and `names` hold the resource type path below the provider namespace, e.g.
    `("vaults",)` / `("kv-1",)`, or `("servers", "databases")` / `("sql-1", "appdb")`.
    """

    kind: ScopeKind
    management_group: str | None = None
    subscription_id: str | None = None
    resource_group: str | None = None
    namespace: str | None = None
    types: tuple[str, ...] = ()
    names: tuple[str, ...] = ()

    @property
    def resource_type(self) -> str | None:
        """`Namespace/type[/subtype]`, e.g. `Microsoft.KeyVault/vaults`."""
        if self.namespace is None:
            return None
        return "/".join((self.namespace, *self.types))

    @property
    def name(self) -> str | None:
        return self.names[-1] if self.names else None

    @property
    def id(self) -> str:
        """The canonical ARM id (docs casing: `resourceGroups`, lower-case subscription)."""
        if self.kind is ScopeKind.MANAGEMENT_GROUP:
            return f"/providers/Microsoft.Management/managementGroups/{self.management_group}"
        out = f"/subscriptions/{self.subscription_id}"
        if self.kind is ScopeKind.SUBSCRIPTION:
            return out
        out += f"/resourceGroups/{self.resource_group}"
        if self.kind is ScopeKind.RESOURCE_GROUP:
            return out
        out += f"/providers/{self.namespace}"
        for t, n in zip(self.types, self.names, strict=True):
            out += f"/{t}/{n}"
        return out

    @property
    def key(self) -> str:
        return key(self.id)


def parse_scope(value: str) -> Scope:
    """Parse an ARM id used as an RBAC scope or a resource id.

    Accepts management group, subscription, resource group and resource ids (nested child
    resources included). Raises ArmIdError with the expected shape when it does not fit.
    """
    if not isinstance(value, str) or not value.strip():
        raise ArmIdError("a scope must be a non-empty ARM id such as /subscriptions/<guid>")
    text = value.strip()
    if not text.startswith("/"):
        raise ArmIdError(f"scope {text!r} must start with '/'")
    parts = text.rstrip("/").split("/")[1:]
    if any(p == "" for p in parts):
        raise ArmIdError(f"scope {text!r} contains an empty segment ('//')")
    if not parts:
        raise ArmIdError("the root scope '/' cannot be managed; name a management group instead")
    lower = [p.lower() for p in parts]
    if lower[0] == "providers":
        is_mg = lower[1:3] == ["microsoft.management", "managementgroups"]
        if len(parts) == 4 and is_mg:
            if not MANAGEMENT_GROUP_RE.match(parts[3]):
                raise ArmIdError(f"management group name {parts[3]!r} is not valid")
            return Scope(ScopeKind.MANAGEMENT_GROUP, management_group=parts[3])
        raise ArmIdError(
            f"scope {text!r} is not a management group id "
            "(/providers/Microsoft.Management/managementGroups/<name>)"
        )
    if lower[0] != "subscriptions" or len(parts) < 2:
        raise ArmIdError(f"scope {text!r} must start with /subscriptions/<guid> or /providers/")
    sub = parts[1]
    if not GUID_RE.match(sub):
        raise ArmIdError(f"subscription id {sub!r} in {text!r} is not a GUID")
    sub = sub.lower()
    if len(parts) == 2:
        return Scope(ScopeKind.SUBSCRIPTION, subscription_id=sub)
    if lower[2] != "resourcegroups" or len(parts) < 4:
        raise ArmIdError(f"scope {text!r}: expected /resourceGroups/<name> after the subscription")
    rg = parts[3]
    if not RESOURCE_GROUP_RE.match(rg):
        raise ArmIdError(
            f"resource group name {rg!r} is not valid (1-90 of letters, digits, -_.())"
        )
    if len(parts) == 4:
        return Scope(ScopeKind.RESOURCE_GROUP, subscription_id=sub, resource_group=rg)
    rest = parts[4:]
    if rest[0].lower() != "providers" or len(rest) < 4 or len(rest) % 2 != 0:
        raise ArmIdError(
            f"scope {text!r}: expected /providers/<Namespace>/<type>/<name>[/<type>/<name>...] "
            "after the resource group"
        )
    namespace = rest[1]
    if not NAMESPACE_RE.match(namespace):
        raise ArmIdError(f"provider namespace {namespace!r} is not valid (e.g. Microsoft.KeyVault)")
    pairs = rest[2:]
    types = tuple(pairs[0::2])
    names = tuple(pairs[1::2])
    for segment in (*types, *names):
        if not SEGMENT_RE.match(segment):
            raise ArmIdError(f"segment {segment!r} in {text!r} is not valid")
    return Scope(
        ScopeKind.RESOURCE,
        subscription_id=sub,
        resource_group=rg,
        namespace=namespace,
        types=types,
        names=names,
    )


def resource_id(subscription_id: str, resource_group: str, resource_type: str, name: str) -> str:
    """Build a top-level resource id from `Namespace/type` and a name."""
    namespace, _, type_path = resource_type.partition("/")
    if not type_path or "/" in type_path:
        raise ArmIdError(f"resource type {resource_type!r} must be <Namespace>/<type>")
    return parse_scope(
        f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"
        f"/providers/{namespace}/{type_path}/{name}"
    ).id


def identity_id(subscription_id: str, resource_group: str, name: str) -> str:
    return resource_id(subscription_id, resource_group, USER_ASSIGNED_TYPE, name)


def role_definition_guid(value: str) -> str:
    """The GUID of a role definition from any of its id forms, lower case.

    Accepts a bare GUID, `/providers/Microsoft.Authorization/roleDefinitions/<guid>` (tenant
    form) and `/subscriptions/<s>/providers/Microsoft.Authorization/roleDefinitions/<guid>`
    (subscription form, as ARM returns it), and any other scope-prefixed form.
    """
    text = value.strip().rstrip("/")
    guid = text.rsplit("/", 1)[-1]
    if "/" in text and "/providers/microsoft.authorization/roledefinitions/" not in text.lower():
        raise ArmIdError(f"{value!r} is not a role definition id")
    if not GUID_RE.match(guid):
        raise ArmIdError(f"role definition id {value!r} does not end in a GUID")
    return guid.lower()


def role_definition_id(guid: str, subscription_id: str | None = None) -> str:
    """The role definition id ARM expects in a PUT (subscription form when one is known)."""
    prefix = f"/subscriptions/{subscription_id}" if subscription_id else ""
    return f"{prefix}{ROLE_DEFINITION_PREFIX}{guid.lower()}"


def normalise_identity_type(value: str | None) -> frozenset[str]:
    """`"SystemAssigned, UserAssigned"` (Web, Compute) == `"SystemAssigned,UserAssigned"` (App)."""
    if not value:
        return frozenset()
    parts = {p.strip().lower() for p in value.split(",")}
    parts.discard("none")
    parts.discard("")
    return frozenset(parts)
