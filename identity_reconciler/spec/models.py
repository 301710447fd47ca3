"""The spec format as Pydantic models: one `SpecDocument` per YAML document.

Models check shape and single values (names, URLs, GUIDs, lengths). Everything that needs more
than one value to decide (defaults, ARM ids, role names, cross-file references) happens in
`build.py`, where the finding can carry its own rule id and both locations.

Models are strict: a string field takes only a string, so `tags: {cost-center: 0042}` is an
error that says to quote the value instead of silently becoming 42.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    model_validator,
)

from identity_reconciler.core import armid
from identity_reconciler.core.ownership import OWNER_TAG, OWNER_TAG_VALUE
from identity_reconciler.spec.rules import CONFIGURABLE_RULES

IDENTITY_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,127}$")
FIC_NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9-_]{2,119}$")
LOCATION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ]{0,63}$")
RESOURCE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.()-]{0,259}$")
RESOURCE_TYPE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)+(/[A-Za-z0-9]+)+$")
SQL_SERVER_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
SQL_DATABASE_RE = re.compile(r"^[^<>*%&:\\/?\x00-\x1f]{1,128}(?<![. ])$")
SQL_ROLE_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_$#@ .-]{0,127}$")
TAG_KEY_FORBIDDEN = set("<>%&\\?/")

# Resource types whose identity block identity-reconciler manages, by their canonical casing.
IDENTITY_HOST_TYPES: dict[str, str] = {
    t.lower(): t
    for t in (
        "Microsoft.Web/sites",  # App Service and Function Apps
        "Microsoft.Compute/virtualMachines",
        "Microsoft.App/containerApps",
    )
}
DEFAULT_AUDIENCE = "api://AzureADTokenExchange"
MAX_FEDERATED_CREDENTIALS = 20
MAX_TAGS = 50
MAX_DESCRIPTION = 2048
MAX_CONDITION = 8192
DEFAULT_NAMING = "id-{app}-{env}-{location}-{instance}"


def _pattern(regex: re.Pattern[str]) -> dict[str, Any]:
    return {"pattern": regex.pattern}


# --------------------------------------------------------------------------- single values


class SpecValueError(ValueError):
    """A bad single value; `fix` says what to write instead (shown next to the message)."""

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.fix = fix


def _guid(value: str) -> str:
    if not armid.GUID_RE.match(value):
        raise SpecValueError(
            f"{value!r} is not a GUID", "write the id, e.g. 11111111-1111-1111-1111-111111111111"
        )
    return value.lower()


def _identity_name(value: str) -> str:
    if not IDENTITY_NAME_RE.match(value):
        raise SpecValueError(
            f"identity name {value!r} must be 3-128 letters, digits, '-' or '_', "
            "starting with a letter or digit",
            "rename it, e.g. id-myapp-prod-uks-01",
        )
    return value


def _fic_name(value: str) -> str:
    if not FIC_NAME_RE.match(value):
        raise SpecValueError(
            f"federated credential name {value!r} must be 3-120 letters, digits, '-' or '_', "
            "starting with a letter or digit",
            "rename it, e.g. github-production",
        )
    return value


def _resource_group(value: str) -> str:
    if not armid.RESOURCE_GROUP_RE.match(value):
        raise SpecValueError(
            f"resource group name {value!r} must be 1-90 letters, digits, '-', '_', '.', '(' "
            "or ')', not ending in '.'",
            "e.g. rg-myapp-prod-uks-01",
        )
    return value


def _location(value: str) -> str:
    if not LOCATION_RE.match(value):
        raise SpecValueError(
            f"location {value!r} is not an Azure region name", "write e.g. uksouth or westeurope"
        )
    return value.replace(" ", "").lower()


def _resource_name(value: str) -> str:
    if not RESOURCE_NAME_RE.match(value):
        raise SpecValueError(
            f"resource name {value!r} must start with a letter or digit and hold only "
            "letters, digits, '-', '_', '.', '(' or ')'",
            "write the resource's name as Azure shows it",
        )
    return value


def _host_type(value: str) -> str:
    canonical = IDENTITY_HOST_TYPES.get(value.lower())
    if canonical is None:
        allowed = ", ".join(IDENTITY_HOST_TYPES.values())
        raise SpecValueError(
            f"resource type {value!r} cannot hold managed identities here", f"use one of {allowed}"
        )
    return canonical


def _resource_type(value: str) -> str:
    if not RESOURCE_TYPE_RE.match(value):
        raise SpecValueError(
            f"resource type {value!r} is not of the form Namespace/type",
            "write e.g. Microsoft.KeyVault/vaults",
        )
    return value


def _https_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname or any(c.isspace() for c in value):
        raise SpecValueError(
            f"issuer {value!r} must be an https:// URL",
            "write e.g. https://token.actions.githubusercontent.com",
        )
    return value


def _non_blank(value: str) -> str:
    if not value.strip():
        raise SpecValueError("must not be blank", "write a value or remove the key")
    return value


def _sql_server(value: str) -> str:
    if not SQL_SERVER_RE.match(value):
        raise SpecValueError(
            f"SQL server name {value!r} must be 1-63 lower-case letters, digits or '-', "
            "not starting or ending with '-'",
            "write the server name without .database.windows.net, e.g. sql-myapp-prod-uks-01",
        )
    return value


def _sql_database(value: str) -> str:
    if not SQL_DATABASE_RE.match(value):
        raise SpecValueError(
            f"database name {value!r} is not a valid Azure SQL database name",
            "use at most 128 characters without <>*%&:\\/? and not ending in '.' or a space",
        )
    return value


def _sql_role(value: str) -> str:
    if not SQL_ROLE_RE.match(value):
        raise SpecValueError(
            f"database role {value!r} must be letters, digits, '_', '$', '#', '@', '.', '-' "
            "or spaces",
            "e.g. db_datareader",
        )
    return value


def _tags(value: dict[str, str]) -> dict[str, str]:
    if len(value) > MAX_TAGS:
        raise SpecValueError(f"{len(value)} tags; Azure allows {MAX_TAGS}", "drop some tags")
    for key, text in value.items():
        if not key or len(key) > 512 or TAG_KEY_FORBIDDEN & set(key):
            raise SpecValueError(
                f"tag name {key!r} is not allowed", "use 1-512 characters without <>%&\\?/"
            )
        if len(text) > 256:
            raise SpecValueError(f"tag {key!r}: value longer than 256 characters", "shorten it")
        if key.lower() == OWNER_TAG and text.lower() != OWNER_TAG_VALUE:
            raise SpecValueError(
                f"tag {key!r} is reserved: identity-reconciler sets it to {OWNER_TAG_VALUE!r}",
                "remove the tag",
            )
    return value


Guid = Annotated[str, AfterValidator(_guid), Field(json_schema_extra=_pattern(armid.GUID_RE))]
IdentityName = Annotated[
    str, AfterValidator(_identity_name), Field(json_schema_extra=_pattern(IDENTITY_NAME_RE))
]
ResourceGroupName = Annotated[
    str,
    AfterValidator(_resource_group),
    Field(json_schema_extra=_pattern(armid.RESOURCE_GROUP_RE)),
]
Location = Annotated[str, AfterValidator(_location), Field(examples=["uksouth"])]
Tags = Annotated[dict[str, str], AfterValidator(_tags)]
ResourceName = Annotated[str, AfterValidator(_resource_name)]
HostType = Annotated[
    str,
    AfterValidator(_host_type),
    Field(json_schema_extra={"enum": list(IDENTITY_HOST_TYPES.values())}),
]
NonBlank = Annotated[str, AfterValidator(_non_blank)]
RuleSetting = Literal["error", "warning", "info", "off"]
RuleId = Literal[CONFIGURABLE_RULES]  # type: ignore[valid-type]


class SpecModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# --------------------------------------------------------------------------- scopes


class StructuredScope(SpecModel):
    """A scope by its parts; what is left out comes from the entry the scope belongs to."""

    management_group: str | None = Field(None, description="a management group id (its name)")
    subscription: Guid | None = Field(None, description="defaults to the entry's subscription")
    resource_group: ResourceGroupName | None = Field(
        None, description="defaults to the entry's resource group when type and name are given"
    )
    type: Annotated[str, AfterValidator(_resource_type)] | None = Field(
        None, description="resource type, e.g. Microsoft.KeyVault/vaults"
    )
    name: NonBlank | None = Field(None, description="resource name (child: parent/child)")

    @model_validator(mode="after")
    def _one_shape(self) -> StructuredScope:
        if self.management_group is not None:
            others = (self.subscription, self.resource_group, self.type, self.name)
            if any(v is not None for v in others):
                raise SpecValueError(
                    "a management_group scope takes no other keys", "remove the other keys"
                )
            return self
        if (self.type is None) != (self.name is None):
            raise SpecValueError(
                "a resource scope needs both type and name", "add the missing one"
            )
        if self.type is None and self.resource_group is None and self.subscription is None:
            raise SpecValueError(
                "empty scope",
                "give {resource_group, type, name}, {resource_group}, {subscription} or "
                "{management_group}",
            )
        return self


def _scope_kind(value: Any) -> str | None:
    if isinstance(value, str):
        return "id"
    if isinstance(value, dict):
        return "structured"
    return None


ScopeSpec = Annotated[
    Annotated[NonBlank, Tag("id")] | Annotated[StructuredScope, Tag("structured")],
    Discriminator(
        _scope_kind,
        custom_error_type="scope_type",
        custom_error_message="a scope is an ARM id or a mapping {resource_group, type, name}",
    ),
]


class RoleGrant(SpecModel):
    role: NonBlank = Field(description="built-in role name, or role definition id / GUID")
    scope: ScopeSpec
    condition: Annotated[str, Field(max_length=MAX_CONDITION)] | None = Field(
        None, description="ABAC condition (condition_version 2.0)"
    )
    condition_version: Literal["2.0"] | None = None
    description: Annotated[str, Field(max_length=MAX_DESCRIPTION)] | None = None

    @model_validator(mode="after")
    def _condition(self) -> RoleGrant:
        if self.condition_version is not None and self.condition is None:
            raise SpecValueError(
                "condition_version is set but there is no condition",
                "add condition: or remove condition_version",
            )
        return self


# --------------------------------------------------------------------------- identities


class FederatedCredentialSpec(SpecModel):
    name: Annotated[str, AfterValidator(_fic_name), Field(json_schema_extra=_pattern(FIC_NAME_RE))]
    issuer: Annotated[str, Field(max_length=600), AfterValidator(_https_url)]
    subject: Annotated[NonBlank, Field(max_length=600)]
    audiences: Annotated[
        list[Annotated[NonBlank, Field(max_length=600)]], Field(min_length=1)
    ] = Field(
        default_factory=lambda: [DEFAULT_AUDIENCE],
        json_schema_extra={"default": [DEFAULT_AUDIENCE]},
    )


class ResourceRef(SpecModel):
    """A resource that holds identities (web app, VM, container app)."""

    subscription: Guid | None = None
    resource_group: ResourceGroupName | None = None
    type: HostType
    name: ResourceName


def _ref_kind(value: Any) -> str | None:
    return "id" if isinstance(value, str) else "structured" if isinstance(value, dict) else None


AttachmentSpec = Annotated[
    Annotated[NonBlank, Tag("id")] | Annotated[ResourceRef, Tag("structured")],
    Discriminator(
        _ref_kind,
        custom_error_type="resource_ref_type",
        custom_error_message="a resource is an ARM id or a mapping {resource_group, type, name}",
    ),
]


class IdentitySpec(SpecModel):
    name: IdentityName
    subscription: Guid | None = None
    resource_group: ResourceGroupName | None = None
    location: Location | None = None
    tags: Tags = Field(default_factory=dict)
    isolation_scope: Literal["None", "Regional"] | None = None
    federated_credentials: Annotated[
        list[FederatedCredentialSpec], Field(max_length=MAX_FEDERATED_CREDENTIALS)
    ] = Field(default_factory=list)
    assigned_to: list[AttachmentSpec] = Field(default_factory=list)
    roles: list[RoleGrant] = Field(default_factory=list)


class ResourceSpec(SpecModel):
    """A resource whose system-assigned identity the specs manage."""

    subscription: Guid | None = None
    resource_group: ResourceGroupName | None = None
    type: HostType
    name: ResourceName
    system_assigned: bool = True
    roles: list[RoleGrant] = Field(default_factory=list)

    @model_validator(mode="after")
    def _roles_need_identity(self) -> ResourceSpec:
        if self.roles and not self.system_assigned:
            raise SpecValueError(
                "roles need a system-assigned identity, but system_assigned is false",
                "set system_assigned: true or remove the roles",
            )
        return self


# --------------------------------------------------------------------------- SQL


class SqlUserSpec(SpecModel):
    identity: NonBlank = Field(description="identity name (or ARM id) declared in the specs")
    roles: list[Annotated[str, AfterValidator(_sql_role)]] = Field(default_factory=list)


class SqlDatabaseSpec(SpecModel):
    server: Annotated[str, AfterValidator(_sql_server)]
    database: Annotated[str, AfterValidator(_sql_database)]
    subscription: Guid | None = None
    resource_group: ResourceGroupName | None = None
    users: list[SqlUserSpec] = Field(default_factory=list)
    prune: bool = Field(False, description="drop external users the specs do not list")


# --------------------------------------------------------------------------- policy


class PrivilegedAllowanceSpec(SpecModel):
    role: NonBlank
    scope: ScopeSpec
    justification: NonBlank = Field(description="why this broad grant is needed (required)")


class SafetySpec(SpecModel):
    max_delete_percent: Annotated[float, Field(ge=0, le=100)] | None = None
    max_update_percent: Annotated[float, Field(ge=0, le=100)] | None = None
    min_existing: Annotated[int, Field(ge=0)] | None = None


class PolicySpec(SpecModel):
    naming: NonBlank | None = Field(None, description=f"default {DEFAULT_NAMING!r}")
    allow_privileged: list[PrivilegedAllowanceSpec] = Field(default_factory=list)
    rules: dict[RuleId, RuleSetting] = Field(default_factory=dict)
    safety: SafetySpec | None = None


class Defaults(SpecModel):
    location: Location | None = None
    resource_group: ResourceGroupName | None = None
    tags: Tags = Field(default_factory=dict)


class SpecDocument(SpecModel):
    """One YAML document of a spec file."""

    model_config = ConfigDict(title="identity-reconciler spec")

    subscription: Guid | None = Field(None, description="default subscription of this file")
    defaults: Defaults = Field(default_factory=Defaults)
    identities: list[IdentitySpec] = Field(default_factory=list)
    resources: list[ResourceSpec] = Field(default_factory=list)
    sql: list[SqlDatabaseSpec] = Field(default_factory=list)
    policy: PolicySpec | None = None
