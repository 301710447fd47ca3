"""What the spec builder learned, kept with its locations for policy lint and cross-checks.

DesiredState is what the planner needs; these facts add what only messages need: the resolved
role (with its permissions), the parsed scope, who owns a grant, and where things were written.
"""

from __future__ import annotations

from dataclasses import dataclass

from identity_reconciler.core import armid, roles
from identity_reconciler.core.state import (
    DesiredGrant,
    DesiredIdentity,
    PrivilegeAllowance,
    SourceRef,
)


@dataclass(frozen=True)
class GrantFact:
    grant: DesiredGrant
    role: roles.RoleRef
    scope: armid.Scope
    owner: str  # "identity 'id-x'" or "resource 'app-x'", for messages
    role_source: SourceRef


@dataclass(frozen=True)
class IdentityFact:
    identity: DesiredIdentity
    name_source: SourceRef


@dataclass(frozen=True)
class SystemFact:
    """A resource whose system-assigned identity the specs switch on."""

    resource_id: str
    name: str
    environment: str | None
    source: SourceRef


@dataclass(frozen=True)
class AllowanceFact:
    allowance: PrivilegeAllowance
    role: roles.RoleRef
    scope: armid.Scope
    source: SourceRef
