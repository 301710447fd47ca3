"""Ownership rules at their edges: near-miss tags, live ARM's casing, the fixed name recipe.

Whether an object is ours decides whether a plan may delete it, so each rule is pinned where a
one-character change would flip it: a tag that is almost the owner tag, the casing live ARM
returns, a trailing slash on a scope.
"""

from __future__ import annotations

import uuid

import pytest

from identity_reconciler.core import ownership

SCOPE = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-app"
ROLE = "4633458b-17de-408a-b874-0445c86b69e6"
PRINCIPAL = "9f2b5c8e-1d3a-4e6f-8b7c-0a1d2e3f4a5b"


def test_assignment_name_is_the_fixed_recipe() -> None:
    """uuid5 of `lower(scope)|guid|principal` under the namespace that must never change."""
    namespace = uuid.UUID("6f1c9c3e-4b8e-5f3a-9d2e-7a61c0b3e5d4")
    expected = str(uuid.uuid5(namespace, f"{SCOPE.lower()}|{ROLE}|{PRINCIPAL}"))
    assert ownership.assignment_name(SCOPE, ROLE, PRINCIPAL) == expected


@pytest.mark.parametrize("name", ["", "a", "scope|role|principal", "ünïcödé/名前", "x" * 1000])
@pytest.mark.parametrize(
    "namespace", [uuid.NAMESPACE_URL, uuid.UUID(int=0), uuid.UUID(int=2**128 - 1)]
)
def test_our_uuid5_is_the_standard_one(namespace: uuid.UUID, name: str) -> None:
    """The recipe hashes without the `uuid` module; it must agree with it on every input."""
    assert ownership.uuid5(namespace.bytes, name) == str(uuid.uuid5(namespace, name))


@pytest.mark.parametrize(
    ("scope", "role", "principal"),
    [
        (SCOPE.upper(), ROLE, PRINCIPAL),
        (SCOPE + "/", ROLE, PRINCIPAL),
        (SCOPE.replace("resourceGroups", "resourcegroups") + "/", ROLE, PRINCIPAL),
        (SCOPE, ROLE.upper(), PRINCIPAL),
        (SCOPE, ROLE, PRINCIPAL.upper()),
    ],
    ids=["scope-upper", "scope-trailing-slash", "scope-arm-casing", "role-upper", "pid-upper"],
)
def test_assignment_name_ignores_the_casing_and_slash_live_arm_returns(
    scope: str, role: str, principal: str
) -> None:
    assert ownership.assignment_name(scope, role, principal) == ownership.assignment_name(
        SCOPE, ROLE, PRINCIPAL
    )


def test_an_assignment_name_in_upper_case_is_still_ours() -> None:
    name = ownership.assignment_name(SCOPE, ROLE, PRINCIPAL)
    assert ownership.is_owned_assignment(name.upper(), SCOPE.upper(), ROLE.upper(), PRINCIPAL)
    assert ownership.is_owned_assignment(name, SCOPE, ROLE, PRINCIPAL)


@pytest.mark.parametrize(
    ("scope", "role", "principal"),
    [
        (SCOPE + "-other", ROLE, PRINCIPAL),
        (SCOPE, "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1", PRINCIPAL),
        (SCOPE, ROLE, "00000000-0000-0000-0000-000000000001"),
    ],
    ids=["other-scope", "other-role", "other-principal"],
)
def test_the_name_of_another_grant_is_not_ours(scope: str, role: str, principal: str) -> None:
    name = ownership.assignment_name(scope, role, principal)
    assert not ownership.is_owned_assignment(name, SCOPE, ROLE, PRINCIPAL)


@pytest.mark.parametrize(
    "tags",
    [
        {"managed-by": "identity-reconciler"},
        {"Managed-By": "Identity-Reconciler"},
        {"MANAGED-BY": "IDENTITY-RECONCILER"},
        {"owner": "platform", "managed-by": "identity-reconciler"},
    ],
    ids=["exact", "title-case", "upper-case", "among-others"],
)
def test_the_owner_tag_in_any_casing_marks_an_identity_ours(tags: dict[str, str]) -> None:
    assert ownership.is_owned_identity(tags)


@pytest.mark.parametrize(
    "tags",
    [
        None,
        {},
        {"managed-by": "terraform"},
        {"Managed-By": "Terraform"},
        {"owner": "identity-reconciler"},
        {"managed-by-x": "identity-reconciler"},
        {"managed-by": "identity-reconciler-x"},
        {"managed-by": ""},
        {"managed-by": "terraform", "owner": "identity-reconciler"},
        {"": "identity-reconciler"},
    ],
    ids=[
        "none",
        "empty",
        "other-manager",
        "other-manager-cased",
        "value-under-another-key",
        "longer-key",
        "longer-value",
        "empty-value",
        "key-and-value-on-different-tags",
        "empty-key",
    ],
)
def test_a_near_miss_tag_does_not_make_an_identity_ours(tags: dict[str, str] | None) -> None:
    assert not ownership.is_owned_identity(tags)


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        (None, "[managed-by identity-reconciler]"),
        ("", "[managed-by identity-reconciler]"),
        ("  ", "[managed-by identity-reconciler]"),
        ("  Reads secrets  ", "Reads secrets [managed-by identity-reconciler]"),
        (
            " Reads secrets [managed-by identity-reconciler] ",
            "Reads secrets [managed-by identity-reconciler]",
        ),
        ("[managed-by identity-reconciler] x", "[managed-by identity-reconciler] x"),
    ],
)
def test_the_marker_is_added_once_to_the_trimmed_description(
    description: str | None, expected: str
) -> None:
    assert ownership.with_marker(description) == expected
    assert ownership.DESCRIPTION_MARKER == "[managed-by identity-reconciler]"
