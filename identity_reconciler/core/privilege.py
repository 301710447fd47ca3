"""Which roles are privileged, judged from what their permissions allow, never from names.

A role is privileged when its `actions` (or `dataActions`), with wildcards, grant any operation
below that its `notActions` (`notDataActions`) do not take away:

- a write, delete or action under `Microsoft.Authorization` (role assignments and definitions,
  elevateAccess, PIM requests, deny assignments, locks, and policy: a policy assignment can
  carry a remediation identity that is then granted roles) — whoever holds one can change who
  may do what;
- a write to a user-assigned managed identity or to its federated credentials — a federated
  credential trusting an outside issuer lets its author sign in as the identity, so writing
  one takes the identity over, with every role it holds.

`*` grants all of these. Reads are never privileged. `*/assign/action` on identities (Managed
Identity Operator) is not: attaching an identity to a resource also needs write access to that
resource, which is judged where that resource's role is granted.

A role id that is not in the catalog cannot be judged offline, so at a subscription or
management group it counts as privileged (`of_guid`). This one classification serves the plan
gate, spec lint, audit, and `docs/permissions.md`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from identity_reconciler.core import armid, roles

AUTHORIZATION = "Microsoft.Authorization/"
# Concrete operations whose grant makes a role privileged, with the words that say why.
SENSITIVE: dict[str, str] = {
    "Microsoft.Authorization/roleAssignments/write": "can grant any role (roleAssignments/write)",
    "Microsoft.Authorization/roleAssignments/delete": "can remove role assignments",
    "Microsoft.Authorization/roleDefinitions/write": "can write role definitions",
    "Microsoft.Authorization/roleDefinitions/delete": "can delete role definitions",
    "Microsoft.Authorization/elevateAccess/action": "can elevate to User Access Administrator",
    "Microsoft.Authorization/denyAssignments/write": "can write deny assignments",
    "Microsoft.Authorization/roleAssignmentScheduleRequests/write": "can request roles (PIM)",
    "Microsoft.Authorization/roleEligibilityScheduleRequests/write": "can make roles eligible",
    "Microsoft.Authorization/roleManagementPolicies/write": "can change role policies (PIM)",
    "Microsoft.Authorization/policyAssignments/write": "can assign policies (remediation "
    "identities are granted roles)",
    "Microsoft.Authorization/policyDefinitions/write": "can write policy definitions",
    "Microsoft.Authorization/policySetDefinitions/write": "can write policy initiatives",
    "Microsoft.Authorization/policyExemptions/write": "can exempt from policy",
    "Microsoft.Authorization/locks/write": "can write resource locks",
    "Microsoft.Authorization/locks/delete": "can remove resource locks",
    "Microsoft.ManagedIdentity/userAssignedIdentities/write": "can write managed identities",
    "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write": (
        "can add federated credentials to managed identities (sign in as them)"
    ),
}


@dataclass(frozen=True)
class Privilege:
    """The verdict on one role: `reasons` are the sensitive operations it grants."""

    privileged: bool
    reasons: tuple[str, ...] = ()
    known: bool = True

    @property
    def why(self) -> str:
        if not self.known:
            return "its permissions are unknown (not a built-in role)"
        words = [SENSITIVE.get(r, f"can perform {r}") for r in self.reasons[:2]]
        more = f" and {len(self.reasons) - 2} more" if len(self.reasons) > 2 else ""
        return "; ".join(words) + more



# equivalent mutant: the cache size bounds memory, never a verdict
@functools.lru_cache(maxsize=4096)
def _regex(pattern: str) -> re.Pattern[str]:
    """An action pattern as ARM matches it: `*` anywhere, case-insensitive, whole string."""
    return re.compile(".*".join(re.escape(p) for p in pattern.split("*")), re.IGNORECASE)


def grants(allowed: Iterable[str], denied: Iterable[str], operation: str) -> bool:
    """True when an allowed pattern matches `operation` and no denied pattern does."""
    if not any(_regex(a).fullmatch(operation) for a in allowed):
        return False
    return not any(_regex(n).fullmatch(operation) for n in denied)


def _authorization_patterns(patterns: Iterable[str]) -> list[tuple[str, str]]:
    """(pattern, concrete operation) for each non-read Authorization pattern a role names
    (`Microsoft.Authorization/policyenrollments/*` -> `.../policyenrollments/x/write`), so an
    Authorization write that SENSITIVE does not list is still caught."""
    out = []
    for pattern in patterns:
        concrete = pattern.replace("*", "x/write")
        if concrete.lower().startswith(AUTHORIZATION.lower()) and not _is_read(concrete):
            out.append((pattern, concrete))
    return out


def _is_read(operation: str) -> bool:
    return operation.lower().endswith("/read")


def classify(permissions: Iterable[roles.Permission]) -> Privilege:
    """The verdict on a set of permission blocks (a role's `permissions`)."""
    reasons: list[str] = []
    for perm in permissions:
        for allowed, denied in (
            (perm.actions, perm.not_actions),
            (perm.data_actions, perm.not_data_actions),
        ):
            for op in SENSITIVE:
                if grants(allowed, denied, op) and op not in reasons:
                    reasons.append(op)
            for pattern, concrete in _authorization_patterns(allowed):
                covered = any(_regex(pattern).fullmatch(r) for r in reasons)
                if not covered and grants(allowed, denied, concrete):
                    reasons.append(pattern)
    return Privilege(bool(reasons), tuple(reasons))


@functools.cache
def of_role(guid: str) -> Privilege | None:
    """The verdict on a catalog role, None when the GUID is not in the catalog."""
    role = roles.catalog().by_guid(guid)
    return classify(role.permissions) if role is not None else None


def of_guid(guid: str) -> Privilege:
    """The verdict on any role id; one not in the catalog counts as privileged."""
    # equivalent mutant: the catalog lower-cases too; this keeps one cache entry a role
    found = of_role(guid.lower())
    return found if found is not None else Privilege(True, known=False)


def is_broad(kind: armid.ScopeKind | None) -> bool:
    """Subscription or management group (None: a scope that did not parse counts as broad)."""
    return kind is None or kind.breadth >= armid.ScopeKind.SUBSCRIPTION.breadth


def forced_at(guid: str, kind: armid.ScopeKind | None) -> Privilege | None:
    """The verdict when granting `guid` at a scope of `kind` needs consent, else None."""
    if not is_broad(kind):
        return None
    verdict = of_guid(guid)
    return verdict if verdict.privileged else None


def warned_at(guid: str, kind: armid.ScopeKind | None) -> Privilege | None:
    """A known privileged role below subscription scope: worth a warning that says why."""
    if is_broad(kind):
        return None
    # equivalent mutant: the catalog lower-cases too; this keeps one cache entry a role
    verdict = of_role(guid.lower())
    return verdict if verdict is not None and verdict.privileged else None


def privileged_roles() -> list[tuple[roles.BuiltinRole, Privilege]]:
    """Every privileged built-in role with its verdict, by name."""
    out = []
    for role in roles.catalog().roles():
        verdict = of_role(role.guid)
        if verdict is not None and verdict.privileged:
            out.append((role, verdict))
    # equivalent mutant [.strip()]: built-in role names carry no outer whitespace
    return sorted(out, key=lambda item: item[0].name.strip().lower())
