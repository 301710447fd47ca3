"""The two states the planner compares: what the specs want (here), and what Azure has
(`live.py`).

`spec/` builds a DesiredState, `azure/` reads a LiveState, `plan/` diffs them. Both are plain
frozen dataclasses keyed by `armid.key()` so that casing quirks never reach the diff. Live
objects carry a `fingerprint` derived from their own fields (`fingerprint` below): the plan
records it, and apply re-reads the object and refuses to write when it changed ("plan is
stale").
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

# --------------------------------------------------------------------------- shared


@dataclass(frozen=True)
class SourceRef:
    """Where a thing was declared: shown in every message about it."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


def _canonical(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _canonical(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.compare
        }
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, frozenset | set):
        return sorted(_canonical(v) for v in value)
    return value


def fingerprint(obj: object) -> str:
    """sha256 over the canonical JSON of a live object's compared fields (16 hex chars shown)."""
    text = json.dumps(_canonical(obj), sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


# --------------------------------------------------------------------------- desired


class PrincipalKind(StrEnum):
    USER_ASSIGNED = "user_assigned"
    SYSTEM_ASSIGNED = "system_assigned"


@dataclass(frozen=True)
class PrincipalRef:
    """Who a grant is for: a user-assigned identity (its id) or a resource's system identity."""

    kind: PrincipalKind
    id: str

    @property
    def key(self) -> str:
        return f"{self.kind.value}:{self.id.rstrip('/').lower()}"


@dataclass(frozen=True)
class ClaimsExpression:
    """A flexible credential's `claimsMatchingExpression`: Entra matches the token's claims
    against `value`, an expression in the language of `language_version` (only 1 exists)."""

    value: str
    language_version: int = 1


@dataclass(frozen=True)
class FederatedCredential:
    """A trusted token: by its exact `subject`, or (a flexible credential) by a
    `claims_matching_expression`; exactly one of the two is set."""

    name: str
    issuer: str
    subject: str | None
    audiences: tuple[str, ...] = ("api://AzureADTokenExchange",)
    source: SourceRef | None = field(default=None, compare=False)
    claims_matching_expression: ClaimsExpression | None = None

    @property
    def match(self) -> tuple[str, str]:
        """What, with the issuer, Azure keeps unique per identity: the subject or the
        expression (tagged, so that a subject never equals an expression's text)."""
        return match_key(self.subject, self.claims_matching_expression)


def match_key(subject: str | None, expression: ClaimsExpression | None) -> tuple[str, str]:
    if expression is not None:
        return ("expression", expression.value)
    return ("subject", subject or "")


@dataclass(frozen=True)
class DesiredIdentity:
    """A user-assigned identity. `tags` already include the ownership tag."""

    id: str
    subscription_id: str
    resource_group: str
    name: str
    location: str
    tags: Mapping[str, str]
    isolation_scope: str | None = None
    # None: the specs do not manage this identity's credentials (the key is absent), so they
    # are neither read nor compared; () manages them and deletes every live one.
    federated_credentials: tuple[FederatedCredential, ...] | None = None
    source: SourceRef | None = field(default=None, compare=False)


@dataclass(frozen=True)
class DesiredResourceIdentity:
    """The identity block the specs want on one resource.

    `system_assigned` is None when the specs do not manage the switch. `user_assigned` holds the
    ids of the identities the specs attach; identities attached by others are left alone.
    """

    resource_id: str
    resource_type: str
    system_assigned: bool | None = None
    user_assigned: tuple[str, ...] = ()
    source: SourceRef | None = field(default=None, compare=False)


@dataclass(frozen=True)
class DesiredGrant:
    principal: PrincipalRef
    scope: str
    role_definition_guid: str
    role_name: str
    condition: str | None = None
    condition_version: str | None = None
    description: str | None = None
    source: SourceRef | None = field(default=None, compare=False)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.principal.key, self.scope.rstrip("/").lower(), self.role_definition_guid)


@dataclass(frozen=True)
class DesiredSqlUser:
    """An identity as a contained database user (`CREATE USER [name] FROM EXTERNAL PROVIDER`)."""

    principal: PrincipalRef
    user_name: str
    roles: tuple[str, ...] = ()
    source: SourceRef | None = field(default=None, compare=False)
    # CREATE USER ... WITH OBJECT_ID (the default), or by display name alone.
    by_object_id: bool = True


@dataclass(frozen=True)
class DesiredSqlDatabase:
    server_id: str
    database: str
    users: tuple[DesiredSqlUser, ...] = ()
    prune: bool = False
    source: SourceRef | None = field(default=None, compare=False)
    # User names a destroy plan drops (when marked as ours), whatever `prune` says.
    retire: tuple[str, ...] = ()
    # Privileged database roles (folded) a justified policy.allow_privileged entry allows here.
    privileged_allowed: frozenset[str] = frozenset()
    # A user to drop that owns schemas: hand them to dbo first (else the plan refuses).
    transfer_schemas_to_dbo: bool = False


@dataclass(frozen=True)
class AcknowledgedGrant:
    """A role assignment made outside git that drift accepts, with a reason, until `expires`.

    The principal is an identity or resource the specs declare (`principal`), or a principal
    object id (`principal_id`); exactly one is set.
    """

    scope: str
    role_definition_guid: str
    role_name: str
    reason: str
    expires: str  # YYYY-MM-DD, inclusive
    principal: PrincipalRef | None = None
    principal_id: str | None = None
    source: SourceRef | None = field(default=None, compare=False)


@dataclass(frozen=True)
class PrivilegeAllowance:
    """An explicit, justified allowance for a privileged role at a broad scope."""

    role_definition_guid: str
    scope: str
    justification: str


@dataclass(frozen=True)
class SafetyPolicy:
    """octoDNS-style thresholds: above these a plan is unsafe unless forced."""

    max_delete_percent: float = 30.0
    max_update_percent: float = 30.0
    min_existing: int = 10


@dataclass
class DesiredState:
    subscriptions: tuple[str, ...] = ()
    identities: dict[str, DesiredIdentity] = field(default_factory=dict)
    resources: dict[str, DesiredResourceIdentity] = field(default_factory=dict)
    grants: dict[tuple[str, str, str], DesiredGrant] = field(default_factory=dict)
    sql: tuple[DesiredSqlDatabase, ...] = ()
    safety: SafetyPolicy = field(default_factory=SafetyPolicy)
    allow_privileged: tuple[PrivilegeAllowance, ...] = ()
    acknowledged: tuple[AcknowledgedGrant, ...] = ()
    # The managed scope: owned objects inside it that the specs do not declare are deletion
    # candidates. Resource group ids (armid.key form) and subscription ids (lower case); from
    # the specs' `managed:` block when there is one (`managed_declared`), else the groups of
    # the declared identities.
    managed_resource_groups: frozenset[str] = frozenset()
    managed_subscriptions: frozenset[str] = frozenset()
    managed_declared: bool = False
    # Identity keys a destroy plan removes (whatever the managed scope says).
    retiring: frozenset[str] = frozenset()
    # prevent_destroy: identity keys and grant keys (DesiredGrant.key) -> where it was set.
    protected_identities: Mapping[str, SourceRef] = field(default_factory=dict)
    protected_grants: Mapping[tuple[str, str, str], SourceRef] = field(default_factory=dict)
    # sha256 over the spec files, so apply can tell that the specs changed since the plan.
    digest: str = ""
