"""The spec format as Pydantic models: one `SpecDocument` per YAML document.

Models check shape and single values (names, URLs, GUIDs, lengths). Everything that needs more
than one value to decide (defaults, ARM ids, role names, cross-file references) happens in
`build.py`, where the finding can carry its own rule id and both locations.

Models are strict: a string field takes only a string, so `tags: {cost-center: 0042}` is an
error that says to quote the value instead of silently becoming 42.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    model_validator,
)

from identity_reconciler.spec.credential_models import FederatedCredentialSpec, SpecModel
from identity_reconciler.spec.values import (
    DEFAULT_AUDIENCE,
    DEFAULT_NAMING,
    IDENTITY_HOST_TYPES,
    MAX_CONDITION,
    MAX_DESCRIPTION,
    MAX_FEDERATED_CREDENTIALS,
    MAX_TAGS,
    Guid,
    HostType,
    IdentityName,
    IsoDate,
    Location,
    NonBlank,
    ResourceGroupName,
    ResourceName,
    ResourceType,
    RuleId,
    RuleSetting,
    SpecValueError,
    SqlDatabaseName,
    SqlRoleName,
    SqlServerName,
    Tags,
)

__all__ = [
    "DEFAULT_AUDIENCE",
    "DEFAULT_NAMING",
    "IDENTITY_HOST_TYPES",
    "MAX_DESCRIPTION",
    "MAX_TAGS",
    "SpecValueError",
]


# --------------------------------------------------------------------------- scopes


class StructuredScope(SpecModel):
    """A scope by its parts; what is left out comes from the entry the scope belongs to."""

    management_group: str | None = Field(None, description="a management group id (its name)")
    subscription: Guid | None = Field(None, description="defaults to the entry's subscription")
    resource_group: ResourceGroupName | None = Field(
        None, description="defaults to the entry's resource group when type and name are given"
    )
    type: ResourceType | None = Field(
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
    prevent_destroy: bool = Field(
        False, description="a plan that deletes or re-creates this grant is an error"
    )
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


class ResourceRef(SpecModel):
    """A resource that holds identities: any type in docs/identity-hosts.md."""

    subscription: Guid | None = None
    resource_group: ResourceGroupName | None = None
    type: HostType
    name: ResourceName = Field(description="resource name (a deployment slot: app/slot)")


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
    prevent_destroy: bool = Field(
        False, description="a plan that deletes or re-creates this identity is an error"
    )
    subscription: Guid | None = None
    resource_group: ResourceGroupName | None = None
    location: Location | None = None
    tags: Tags = Field(default_factory=dict)
    isolation_scope: Literal["None", "Regional"] | None = None
    # Absent: credentials are not managed here. A list (even empty) is the whole set.
    federated_credentials: (
        Annotated[list[FederatedCredentialSpec], Field(max_length=MAX_FEDERATED_CREDENTIALS)]
        | None
    ) = None
    assigned_to: list[AttachmentSpec] = Field(default_factory=list)
    roles: list[RoleGrant] = Field(default_factory=list)


class ResourceSpec(SpecModel):
    """A resource whose system-assigned identity the specs manage."""

    subscription: Guid | None = None
    resource_group: ResourceGroupName | None = None
    type: HostType
    name: ResourceName = Field(description="resource name (a deployment slot: app/slot)")
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
    roles: list[SqlRoleName] = Field(default_factory=list)
    resolve_by: Literal["object_id", "display_name"] = Field(
        "object_id",
        description="how the server finds the identity in Microsoft Entra: by its object id "
        "(CREATE USER ... WITH OBJECT_ID, immune to duplicate display names) or by display name "
        "alone (fails with Msg 33131 when two principals share the name)",
    )


class SqlDatabaseSpec(SpecModel):
    server: SqlServerName
    database: SqlDatabaseName
    subscription: Guid | None = None
    resource_group: ResourceGroupName | None = None
    users: list[SqlUserSpec] = Field(default_factory=list)
    prune: bool = Field(
        False,
        description="drop the role memberships and users identity-reconciler created in this "
        "database (marked managed-by) that the specs no longer list",
    )
    transfer_schemas_to_dbo: bool = Field(
        False,
        description="when a user to be dropped owns schemas, make dbo their owner first "
        "(ALTER AUTHORIZATION); without it such a drop is a plan error",
    )


# --------------------------------------------------------------------------- policy


class PrivilegedAllowanceSpec(SpecModel):
    role: NonBlank
    scope: ScopeSpec
    justification: NonBlank = Field(description="why this broad grant is needed (required)")


Percent = Annotated[float, Field(ge=0, le=100)]


class SafetySpec(SpecModel):
    """Plan safety: above these shares of changed objects a plan needs forcing."""

    max_delete_percent: Percent | None = Field(None, description="default 30")
    max_update_percent: Percent | None = Field(None, description="default 30")
    min_existing: Annotated[int, Field(ge=0)] | None = Field(
        None, description="thresholds apply only from this many existing objects (default 10)"
    )


class PolicySpec(SafetySpec):
    """Global policy; the safety thresholds may also be grouped under `safety:`."""

    naming: NonBlank | None = Field(None, description=f"default {DEFAULT_NAMING!r}")
    allow_privileged: list[PrivilegedAllowanceSpec] = Field(default_factory=list)
    rules: dict[RuleId, RuleSetting] = Field(default_factory=dict)
    safety: SafetySpec | None = None


class Defaults(SpecModel):
    location: Location | None = None
    resource_group: ResourceGroupName | None = None
    tags: Tags = Field(default_factory=dict)


# --------------------------------------------------------------------------- acknowledged drift


class AcknowledgedGrantSpec(SpecModel):
    """A role assignment made outside git that drift reports as acknowledged, not as drift,
    until it expires; after `expires` it counts as drift again."""

    principal: NonBlank = Field(
        description="an identity (or system-assigned resource) name the specs declare, or a "
        "principal object id"
    )
    role: NonBlank = Field(description="built-in role name, or role definition id / GUID")
    scope: ScopeSpec
    reason: NonBlank = Field(description="why the grant is kept (required)")
    expires: IsoDate = Field(description="YYYY-MM-DD: drift reports it again after this day")


# --------------------------------------------------------------------------- managed scope


class ManagedGroupSpec(SpecModel):
    subscription: Guid | None = Field(None, description="defaults to the file's subscription")
    name: ResourceGroupName


ManagedGroupEntry = Annotated[
    Annotated[ResourceGroupName, Tag("id")] | Annotated[ManagedGroupSpec, Tag("structured")],
    Discriminator(
        _ref_kind,
        custom_error_type="managed_group_type",
        custom_error_message="a resource group is a name or a mapping {subscription, name}",
    ),
]


class ManagedSpec(SpecModel):
    """What the repository owns, whichever spec files exist today; declared once, in one file.

    Owned identities inside these scopes that no spec declares are deleted by plan (with their
    owned grants), and so are owned grants inside them whose principal no longer exists.
    """

    subscriptions: list[Guid] = Field(
        default_factory=list, description="whole subscriptions: every resource group in them"
    )
    resource_groups: list[ManagedGroupEntry] = Field(
        default_factory=list,
        description="resource groups: a name (in the file's subscription) or "
        "{subscription, name}",
    )


class SpecDocument(SpecModel):
    """One YAML document of a spec file."""

    model_config = ConfigDict(title="identity-reconciler spec")

    subscription: Guid | None = Field(None, description="default subscription of this file")
    defaults: Defaults = Field(default_factory=Defaults)
    identities: list[IdentitySpec] = Field(default_factory=list)
    resources: list[ResourceSpec] = Field(default_factory=list)
    sql: list[SqlDatabaseSpec] = Field(default_factory=list)
    policy: PolicySpec | None = None
    acknowledged: list[AcknowledgedGrantSpec] = Field(
        default_factory=list,
        description="role assignments made outside git that drift accepts until they expire",
    )
    managed: ManagedSpec | None = Field(
        None, description="the subscriptions and resource groups this repository manages"
    )
