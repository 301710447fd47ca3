"""The world file's shape: strict models, cross-references checked, errors naming the field.

A world describes the directory and estate an emulator starts with: tenant, operator,
management groups, subscriptions with resource groups and resources, users and groups, and
role assignments. Unknown keys, unknown regions, resource types or roles, and references to
subscriptions, management groups or principals the world does not define are errors.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources as package_files
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from local_azure.providers import regions
from local_azure.providers.resources import catalog

_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_MG_NAME = re.compile(r"^[-\w.()]{1,90}$")
_RG_NAME = re.compile(r"^[-\w.()]{1,90}(?<!\.)$")
_SCOPE = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)(/resourceGroups/(?P<rg>[^/]+)(/providers/.+)?)?$"
    r"|^/providers/Microsoft\.Management/managementGroups/(?P<mg>[^/]+)$",
    re.IGNORECASE,
)
PRINCIPAL_TYPES = {"User": "User", "Group": "Group", "ServicePrincipal": "ServicePrincipal"}


def _guid(value: str) -> str:
    if not _GUID.match(value):
        raise ValueError(f"'{value}' is not a GUID")
    return value.lower()


def _region(value: str) -> str:
    region = regions.find(value)
    if region is None:
        raise ValueError(f"'{value}' is not a known region (known: {', '.join(regions.names())})")
    return region.name


def _pattern(regex: re.Pattern[str], what: str) -> AfterValidator:
    def check(value: str) -> str:
        if not regex.match(value):
            raise ValueError(f"'{value}' is not a valid {what}")
        return value

    return AfterValidator(check)


Guid = Annotated[str, AfterValidator(_guid)]
Region = Annotated[str, AfterValidator(_region)]
Tags = dict[str, str]


@cache
def builtin_roles() -> dict[str, str]:
    """Lower-case role name and lower-case id -> role-definition GUID, from the package data."""
    text = (
        package_files.files("identity_reconciler.data").joinpath("builtin-roles.json").read_text()
    )
    out: dict[str, str] = {}
    for role in json.loads(text):
        out[str(role["roleName"]).lower()] = str(role["id"]).lower()
        out[str(role["id"]).lower()] = str(role["id"]).lower()
    return out


def role_guid(role: str) -> str:
    """A built-in role by name or GUID (or a role-definition id ending in one)."""
    key = role.strip().rstrip("/").split("/")[-1].lower()
    found = builtin_roles().get(key) or builtin_roles().get(role.strip().lower())
    if found is None:
        raise ValueError(f"'{role}' is not a built-in role name or id")
    return found


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RoleGrant(_Strict):
    role: str
    scope: str


class Operator(_Strict):
    object_id: Guid | None = None
    app_id: Guid | None = None
    display_name: str = "identity-reconciler-operator"
    roles: list[RoleGrant] = Field(default_factory=list)


class ManagementGroup(_Strict):
    name: Annotated[str, _pattern(_MG_NAME, "management group name")]
    display_name: str | None = None
    parent: str | None = None
    subscriptions: list[Guid] = Field(default_factory=list)


class EntraAdmin(_Strict):
    login: str = Field(min_length=1)
    object_id: Guid
    azure_ad_only: bool = True


class Resource(_Strict):
    type: str
    name: str = Field(min_length=1)
    kind: str | None = None
    location: Region | None = None
    tags: Tags | None = None
    properties: dict[str, Any] | None = None
    system_assigned: bool = False
    entra_admin: EntraAdmin | None = None
    databases: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _known_type(self) -> Resource:
        found = catalog.kind_of(self.type)
        if found is None or not found.tracked:
            raise ValueError(
                f"type '{self.type}' is not a resource type (Namespace/type[/child...], "
                "e.g. Microsoft.ContainerRegistry/registries)"
            )
        depth = found.type.count("/")
        if len(self.name.split("/")) != depth:
            raise ValueError(
                f"'{self.name}' names {len(self.name.split('/'))} level(s) but type "
                f"'{found.type}' has {depth} (a child is named parent/child)"
            )
        is_sql = found.type == "Microsoft.Sql/servers"
        if (self.entra_admin is not None or self.databases) and not is_sql:
            raise ValueError("entra_admin and databases are only allowed on Microsoft.Sql/servers")
        if self.system_assigned and (found.identity is None or not found.system_assigned):
            raise ValueError(f"type '{found.type}' has no system-assigned identity")
        if not found.name_pattern.match(self.name.split("/")[-1]):
            raise ValueError(f"'{self.name}' is not a valid name for {found.type}")
        return self


class ResourceGroup(_Strict):
    name: Annotated[str, _pattern(_RG_NAME, "resource group name")]
    location: Region
    tags: Tags = Field(default_factory=dict)
    resources: list[Resource] = Field(default_factory=list)


class Subscription(_Strict):
    id: Guid
    display_name: str = Field(min_length=1)
    state: Literal["Enabled", "Warned", "PastDue", "Disabled"] = "Enabled"
    tags: Tags = Field(default_factory=dict)
    resource_groups: list[ResourceGroup] = Field(default_factory=list)


class DirectoryPrincipal(_Strict):
    object_id: Guid
    kind: Literal["User", "Group", "ServicePrincipal"]
    display_name: str = Field(min_length=1)
    app_id: Guid | None = None


class Assignment(_Strict):
    scope: str
    role: str
    principal_id: Guid
    principal_type: Literal["User", "Group", "ServicePrincipal", "ForeignGroup"] | None = None
    name: Guid | None = None
    description: str | None = None


class World(_Strict):
    tenant_id: Guid
    tenant_display_name: str = "Local Emulator"
    tenant_domain: str | None = None
    operator: Operator | None = None
    management_groups: list[ManagementGroup] = Field(default_factory=list)
    subscriptions: list[Subscription] = Field(default_factory=list)
    principals: list[DirectoryPrincipal] = Field(default_factory=list)
    role_assignments: list[Assignment] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references(self) -> World:
        _check_unique([s.id for s in self.subscriptions], "subscriptions", "id")
        _check_unique([m.name.lower() for m in self.management_groups], "management_groups", "name")
        _check_unique([p.object_id for p in self.principals], "principals", "object_id")
        _check_management_groups(self)
        subs = {s.id for s in self.subscriptions}
        groups = {m.name.lower() for m in self.management_groups}
        for i, s in enumerate(self.subscriptions):
            _check_unique(
                [g.name.lower() for g in s.resource_groups],
                f"subscriptions[{i}].resource_groups",
                "name",
            )
        known = {p.object_id for p in self.principals}
        for i, a in enumerate(self.role_assignments):
            where = f"role_assignments[{i}]"
            _check_scope(a.scope, subs, groups, f"{where}.scope")
            _role(a.role, f"{where}.role")
            if a.principal_id not in known | self._operator_ids():
                raise ValueError(
                    f"{where}.principal_id: '{a.principal_id}' is not among principals"
                )
        for i, grant in enumerate(self.operator.roles if self.operator else []):
            _check_scope(grant.scope, subs, groups, f"operator.roles[{i}].scope")
            _role(grant.role, f"operator.roles[{i}].role")
        for s in self.subscriptions:
            for g in s.resource_groups:
                for r in g.resources:
                    if r.entra_admin and r.entra_admin.object_id not in known:
                        raise ValueError(
                            f"entra_admin of '{r.name}': object_id '{r.entra_admin.object_id}' "
                            "is not among principals"
                        )
        return self

    def _operator_ids(self) -> set[str]:
        return {self.operator.object_id} if self.operator and self.operator.object_id else set()


def _role(role: str, where: str) -> str:
    try:
        return role_guid(role)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def _check_unique(values: list[str], where: str, field: str) -> None:
    seen: set[str] = set()
    for i, v in enumerate(values):
        if v in seen:
            raise ValueError(f"{where}[{i}].{field}: '{v}' appears more than once")
        seen.add(v)


def _check_scope(scope: str, subs: set[str], groups: set[str], where: str) -> None:
    m = _SCOPE.match(scope)
    if m is None:
        raise ValueError(
            f"{where}: '{scope}' is not a scope (expected /subscriptions/{{id}}[/resourceGroups/"
            "{name}[/providers/...]] or /providers/Microsoft.Management/managementGroups/{name})"
        )
    if m.group("sub") and m.group("sub").lower() not in subs:
        raise ValueError(f"{where}: subscription '{m.group('sub')}' is not among subscriptions")
    if m.group("mg") and m.group("mg").lower() not in groups:
        raise ValueError(
            f"{where}: management group '{m.group('mg')}' is not among management_groups"
        )


def _check_management_groups(world: World) -> None:
    by_name = {m.name.lower(): m for m in world.management_groups}
    subs = {s.id for s in world.subscriptions}
    owner: dict[str, str] = {}
    for i, m in enumerate(world.management_groups):
        if m.parent is not None and m.parent.lower() not in by_name:
            raise ValueError(
                f"management_groups[{i}].parent: '{m.parent}' is not among management_groups"
            )
        seen, current = {m.name.lower()}, m.parent
        while current is not None:
            if current.lower() in seen:
                raise ValueError(f"management_groups[{i}].parent: '{m.name}' is its own ancestor")
            seen.add(current.lower())
            current = by_name[current.lower()].parent
        for sub in m.subscriptions:
            if sub not in subs:
                raise ValueError(
                    f"management_groups[{i}].subscriptions: '{sub}' is not among subscriptions"
                )
            if sub in owner:
                raise ValueError(
                    f"management_groups[{i}].subscriptions: '{sub}' is already in '{owner[sub]}'"
                )
            owner[sub] = m.name
