"""What Azure has: the live side of the diff, as `azure/` reads it.

Plain frozen dataclasses keyed by `armid.key()`, like the desired side in `state.py`; each live
object carries a `fingerprint` of its own fields, which the plan records and apply checks
before it writes ("plan is stale"). Kept apart from the desired side so that commands which
never read Azure (`validate`) do not pay to define these classes at start-up.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

from identity_reconciler.core.state import ClaimsExpression, fingerprint, match_key


@dataclass(frozen=True)
class LiveFederatedCredential:
    id: str
    name: str
    issuer: str
    subject: str | None
    audiences: tuple[str, ...]
    claims_matching_expression: ClaimsExpression | None = None

    @property
    def match(self) -> tuple[str, str]:
        return match_key(self.subject, self.claims_matching_expression)

    @property
    def fingerprint(self) -> str:
        """Over every field; a credential without an expression is fingerprinted as before
        expressions existed, so plans saved earlier stay valid."""
        if self.claims_matching_expression is None:
            fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
            del fields["claims_matching_expression"]
            return fingerprint(fields)
        return fingerprint(self)


@dataclass(frozen=True)
class LiveIdentity:
    id: str
    subscription_id: str
    resource_group: str
    name: str
    location: str
    tags: Mapping[str, str]
    isolation_scope: str | None
    principal_id: str
    client_id: str
    tenant_id: str
    # None when not read (the reader reads credentials only for identities that matter).
    federated_credentials: tuple[LiveFederatedCredential, ...] | None = None

    @property
    def fingerprint(self) -> str:
        return fingerprint(dataclasses.replace(self, federated_credentials=None))


@dataclass(frozen=True)
class AttachedIdentity:
    id: str
    principal_id: str | None = None
    client_id: str | None = None


@dataclass(frozen=True)
class LiveResourceIdentity:
    """The identity block of one resource as ARM returns it (`exists=False`: no such resource)."""

    resource_id: str
    resource_type: str
    exists: bool = True
    identity_type: str | None = None
    system_principal_id: str | None = None
    user_assigned: Mapping[str, AttachedIdentity] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self)


@dataclass(frozen=True)
class LiveGrant:
    id: str
    name: str
    scope: str
    role_definition_id: str
    role_definition_guid: str
    principal_id: str
    principal_type: str | None = None
    condition: str | None = None
    condition_version: str | None = None
    description: str | None = None

    @property
    def fingerprint(self) -> str:
        return fingerprint(self)


@dataclass
class LiveState:
    tenant_id: str = ""
    identities: dict[str, LiveIdentity] = field(default_factory=dict)
    resources: dict[str, LiveResourceIdentity] = field(default_factory=dict)
    grants: dict[str, LiveGrant] = field(default_factory=dict)
    # principal ids known to exist (identities and system identities read); for orphan checks
    principals: frozenset[str] = frozenset()
    # True when `principals` holds every identity principal of the subscriptions read (every
    # user-assigned identity and every system-assigned one), so that an owned grant whose
    # principal is not in it provably lost its principal there.
    principals_complete: bool = False
    # Client ids and names (lower case) of every user-assigned identity listed: the evidence
    # that an owned SQL user's principal is gone.
    client_ids: frozenset[str] = frozenset()
    identity_names: frozenset[str] = frozenset()
    # ARM requests the read took: the plan's cost is part of its quality.
    requests: int = 0
    # Role assignments of every principal per subscription (lower-case id), at or below it:
    # for ARM's fixed per-subscription limit. Absent: not counted.
    assignment_counts: dict[str, int] = field(default_factory=dict)
