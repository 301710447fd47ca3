"""The privilege classifier at its edges: wildcards, case, what a denial takes away, the words.

Each case is one the classifier could get wrong by a single character: a pattern that matches
only a prefix, a read among writes, a denial of exactly the allowed pattern, a reason counted
twice, the third reason in the summary, an upper-case role id.
"""

from __future__ import annotations

import dataclasses

import pytest

from identity_reconciler.core import privilege, roles
from identity_reconciler.core.armid import ScopeKind
from identity_reconciler.core.roles import Permission

ROLE_WRITE = "Microsoft.Authorization/roleAssignments/write"
FIC_WRITE = "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write"
UNKNOWN = "0badc0de-0000-4000-8000-000000000000"


@pytest.mark.parametrize(
    ("allowed", "denied", "expected"),
    [
        (["*"], [], True),
        (["Microsoft.Authorization/*"], [], True),
        (["microsoft.authorization/ROLEASSIGNMENTS/write"], [], True),
        (["Microsoft.*/roleAssignments/write"], [], True),
        (["Microsoft.Authorization/roleAssignments"], [], False),  # a prefix is not a match
        (["Microsoft.Authorization/roleAssignments/write/x"], [], False),
        (["x" + ROLE_WRITE], [], False),
        ([], [], False),
        (["*"], [ROLE_WRITE.upper()], False),
        (["*"], ["Microsoft.Authorization/*"], False),
        (["*"], ["Microsoft.Authorization/roleAssignments"], True),
        (["Microsoft.Compute/*", ROLE_WRITE], [], True),
    ],
)
def test_grants_matches_whole_operations_with_wildcards(
    allowed: list[str], denied: list[str], expected: bool
) -> None:
    assert privilege.grants(allowed, denied, ROLE_WRITE) is expected


def test_reasons_are_listed_once_in_the_order_found() -> None:
    perms = [
        Permission(actions=(ROLE_WRITE,)),
        Permission(actions=(ROLE_WRITE.lower(), FIC_WRITE)),
    ]
    verdict = privilege.classify(perms)
    assert verdict.privileged
    assert verdict.known
    assert verdict.reasons == (ROLE_WRITE, FIC_WRITE)


def test_data_actions_are_judged_with_their_own_denials() -> None:
    allowed = privilege.classify([Permission(data_actions=(ROLE_WRITE,))])
    assert allowed.reasons == (ROLE_WRITE,)
    denied = privilege.classify(
        [Permission(data_actions=(ROLE_WRITE,), not_data_actions=(ROLE_WRITE,))]
    )
    assert not denied.privileged
    # notActions do not take away dataActions, nor the other way round
    crossed = privilege.classify(
        [Permission(data_actions=(ROLE_WRITE,), not_actions=(ROLE_WRITE,))]
    )
    assert crossed.privileged


@pytest.mark.parametrize(
    ("actions", "reasons"),
    [
        (("Microsoft.Authorization/newThing/*",), ("Microsoft.Authorization/newThing/*",)),
        (("microsoft.authorization/newThing/write",), ("microsoft.authorization/newThing/write",)),
        (("Microsoft.Authorization/*/read",), ()),
        (("Microsoft.Authorization/newThing/read",), ()),
        (("Microsoft.Compute/*",), ()),
        (("*/read",), ()),
    ],
)
def test_an_authorization_write_not_listed_is_still_a_reason(
    actions: tuple[str, ...], reasons: tuple[str, ...]
) -> None:
    verdict = privilege.classify([Permission(actions=actions)])
    assert verdict.reasons == reasons
    assert verdict.privileged is bool(reasons)


def test_a_pattern_already_covered_by_listed_reasons_is_not_repeated() -> None:
    verdict = privilege.classify([Permission(actions=("Microsoft.Authorization/*",))])
    assert "Microsoft.Authorization/*" not in verdict.reasons
    assert ROLE_WRITE in verdict.reasons
    assert all(r in privilege.SENSITIVE for r in verdict.reasons)


def test_a_denied_pattern_is_not_a_reason() -> None:
    verdict = privilege.classify(
        [
            Permission(
                actions=("Microsoft.Authorization/newThing/*",),
                not_actions=("Microsoft.Authorization/newThing/*",),
            )
        ]
    )
    assert verdict.reasons == ()


@pytest.mark.parametrize(
    ("reasons", "why"),
    [
        ((ROLE_WRITE,), "can grant any role (roleAssignments/write)"),
        (
            (ROLE_WRITE, FIC_WRITE),
            "can grant any role (roleAssignments/write); can add federated credentials to "
            "managed identities (sign in as them)",
        ),
        (
            (ROLE_WRITE, "Microsoft.Authorization/newThing/*", FIC_WRITE),
            "can grant any role (roleAssignments/write); can perform "
            "Microsoft.Authorization/newThing/* and 1 more",
        ),
        (
            (ROLE_WRITE, FIC_WRITE, "a", "b"),
            "can grant any role (roleAssignments/write); can add federated credentials to "
            "managed identities (sign in as them) and 2 more",
        ),
    ],
)
def test_why_names_two_reasons_and_counts_the_rest(reasons: tuple[str, ...], why: str) -> None:
    assert privilege.Privilege(True, reasons).why == why


def test_an_unknown_role_says_so() -> None:
    verdict = privilege.of_guid(UNKNOWN)
    assert (verdict.privileged, verdict.known, verdict.reasons) == (True, False, ())
    assert verdict.why == "its permissions are unknown (not a built-in role)"
    assert privilege.of_role(UNKNOWN) is None


def test_a_catalog_role_is_found_in_any_casing() -> None:
    owner = privilege.of_guid(roles.OWNER.upper())
    assert owner.privileged
    assert owner.known
    assert owner == privilege.of_role(roles.OWNER)
    reader = privilege.of_guid(roles.READER.upper())
    assert (reader.privileged, reader.known) == (False, True)


@pytest.mark.parametrize(
    ("kind", "broad"),
    [
        (None, True),
        (ScopeKind.MANAGEMENT_GROUP, True),
        (ScopeKind.SUBSCRIPTION, True),
        (ScopeKind.RESOURCE_GROUP, False),
        (ScopeKind.RESOURCE, False),
    ],
)
def test_is_broad(kind: ScopeKind | None, broad: bool) -> None:
    assert privilege.is_broad(kind) is broad


@pytest.mark.parametrize(
    ("guid", "kind", "forced", "warned"),
    [
        (roles.OWNER, ScopeKind.SUBSCRIPTION, True, False),
        (roles.OWNER, None, True, False),
        (roles.OWNER, ScopeKind.RESOURCE_GROUP, False, True),
        (roles.OWNER.upper(), ScopeKind.RESOURCE, False, True),
        (roles.READER, ScopeKind.SUBSCRIPTION, False, False),
        (roles.READER, ScopeKind.RESOURCE_GROUP, False, False),
        (UNKNOWN, ScopeKind.MANAGEMENT_GROUP, True, False),
        (UNKNOWN, ScopeKind.RESOURCE_GROUP, False, False),
    ],
)
def test_forced_and_warned(guid: str, kind: ScopeKind | None, forced: bool, warned: bool) -> None:
    f = privilege.forced_at(guid, kind)
    w = privilege.warned_at(guid, kind)
    assert (f is not None, w is not None) == (forced, warned)
    for verdict in (f, w):
        assert verdict is None or verdict.privileged


def test_privileged_roles_lists_every_privileged_role_once_by_name() -> None:
    listed = privilege.privileged_roles()
    names = [role.name for role, _ in listed]
    assert names == sorted(names, key=lambda n: n.strip().lower())
    assert len(set(names)) == len(names)
    assert "Owner" in names
    assert "Reader" not in names
    assert all(verdict.privileged and verdict.known for _, verdict in listed)
    everyone = [r for r in roles.catalog().roles() if privilege.of_guid(r.guid).privileged]
    assert len(listed) == len(everyone)


def test_a_verdict_is_frozen_because_it_is_cached_and_shared() -> None:
    verdict = privilege.of_guid(roles.OWNER)
    with pytest.raises(dataclasses.FrozenInstanceError):
        verdict.privileged = False  # type: ignore[misc]
    assert privilege.of_guid(roles.OWNER).privileged


@pytest.mark.parametrize(
    "permission",
    [
        Permission(
            actions=("Microsoft.Authorization/*",),
            not_actions=(
                "Microsoft.Authorization/*/write",
                "Microsoft.Authorization/*/delete",
                "Microsoft.Authorization/*/action",
            ),
        ),
        Permission(actions=("Microsoft.Authorization/policies/Read",)),
        Permission(actions=("Microsoft.Authorization/*/READ",)),
    ],
    ids=["everything-but-writes-deletes-actions", "read-cased", "wildcard-read-upper"],
)
def test_reading_authorization_is_not_privileged(permission: Permission) -> None:
    assert privilege.classify([permission]) == privilege.Privilege(False)
