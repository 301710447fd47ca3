"""Safety at its boundaries: a count exactly at the threshold, the floor, root and odd ids.

Each case sits on the edge a one-character change to `plan/safety.py` would move: 30 % of the
estate (allowed) against one more (refused), the `min_existing` floor from both sides, a grant
at the root scope `/`, an identity delete whose id ends in `/` or is upper case as ARM may
return it, and the stored verdict against the one re-derived from the operations.
"""

from __future__ import annotations

from typing import Any

import pytest

from identity_reconciler.core.state import SafetyPolicy
from identity_reconciler.plan.model import (
    KNOWN_AFTER_APPLY,
    Change,
    ChangeKind,
    Operation,
    Plan,
    Violation,
)
from identity_reconciler.plan.safety import (
    ALLOW_DELETE_IDENTITY,
    ALLOW_MASS_CHANGE,
    ALLOW_PRIVILEGED,
    check_safety,
    evaluate,
    is_broad,
)

SUB = "/subscriptions/11111111-1111-1111-1111-111111111111"
RG = f"{SUB}/resourceGroups/rg-app"
MG = "/providers/Microsoft.Management/managementGroups/mg-1"
IDENTITY = f"{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-old"
ASSIGNMENTS = "/providers/Microsoft.Authorization/roleAssignments/"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"


def role_id(guid: str) -> str:
    return f"/providers/Microsoft.Authorization/roleDefinitions/{guid}"


def change(
    kind: ChangeKind,
    actions: tuple[str, ...],
    *ops: Operation,
    address: str = "x",
    after: dict[str, Any] | None = None,
) -> Change:
    return Change(
        address=address,
        kind=kind,
        actions=actions,  # type: ignore[arg-type]
        reason="r",
        group=address,
        id=None,
        before=None,
        after=after,
        live_fingerprint=None,
        operations=ops,
    )


def grant_put(op_id: str, guid: str = OWNER, *, after: dict[str, Any] | None = None) -> Change:
    body = {"properties": {"roleDefinitionId": role_id(guid), "principalId": "p"}}
    op = Operation(method="PUT", id=op_id, body=body)
    return change(ChangeKind.GRANT, ("create",), op, address="grant.x", after=after)


def deletes(n: int) -> list[Change]:
    return [change(ChangeKind.GRANT, ("delete",), address=f"grant.{i}") for i in range(n)]


def updates(n: int) -> list[Change]:
    return [change(ChangeKind.GRANT, ("update",), address=f"grant.u{i}") for i in range(n)]


def plan_of(*changes: Change, violations: tuple[Violation, ...] = ()) -> Plan:
    """A plan carrying `changes` and a stored verdict of `violations` only."""
    return Plan.model_validate(
        {
            "format_version": "1.0",
            "tool_version": "0",
            "created_at": "now",
            "target": {"cloud": "local", "tenant_id": "", "subscriptions": []},
            "spec_digest": "sha256:x",
            "options": {},
            "changes": [c.model_dump() for c in changes],
            "summary": {},
            "safety": {
                "safe": not violations,
                "existing": 0,
                "violations": [v.model_dump() for v in violations],
            },
            "checksum": "sha256:x",
        }
    )


# --------------------------------------------------------------------------- volume


@pytest.mark.parametrize(
    ("changes", "existing", "reasons"),
    [
        pytest.param(deletes(3), 10, [], id="3-of-10-deleted-is-exactly-30%"),
        pytest.param(deletes(4), 10, ["too_many_deletes"], id="4-of-10-deleted"),
        pytest.param(updates(3), 10, [], id="3-of-10-updated-is-exactly-30%"),
        pytest.param(updates(4), 10, ["too_many_updates"], id="4-of-10-updated"),
        pytest.param(deletes(9), 9, [], id="below-the-floor"),
        pytest.param(deletes(4), 10, ["too_many_deletes"], id="at-the-floor"),
        pytest.param(
            deletes(4) + updates(4), 10, ["too_many_deletes", "too_many_updates"], id="both"
        ),
    ],
)
def test_volume_at_and_around_the_threshold(
    changes: list[Change], existing: int, reasons: list[str]
) -> None:
    safety = evaluate(changes, existing=existing, policy=SafetyPolicy())
    assert [v.reason for v in safety.violations] == reasons
    assert all(v.flag == ALLOW_MASS_CHANGE for v in safety.violations)
    assert safety.safe is (not reasons)
    assert safety.existing == existing


def test_a_replace_counts_as_a_delete_and_a_create_counts_as_nothing() -> None:
    replaces = [
        change(ChangeKind.GRANT, ("delete", "create"), address=f"grant.r{i}") for i in range(4)
    ]
    creates = [change(ChangeKind.GRANT, ("create",), address=f"grant.c{i}") for i in range(9)]
    assert [
        v.reason for v in evaluate(replaces, existing=10, policy=SafetyPolicy()).violations
    ] == ["too_many_deletes"]
    assert evaluate(creates, existing=10, policy=SafetyPolicy()).safe


def test_the_message_gives_the_count_the_share_and_the_limit() -> None:
    safety = evaluate(deletes(4), existing=10, policy=SafetyPolicy())
    (violation,) = safety.violations
    assert violation.message.startswith(
        "4 of 10 existing managed objects (40 %) would be deleted; the limit is 30 %"
    )
    (violation,) = evaluate(updates(5), existing=10, policy=SafetyPolicy()).violations
    assert "5 of 10 existing managed objects (50 %) would be updated" in violation.message


def test_an_empty_estate_with_no_floor_is_not_a_division_by_zero() -> None:
    policy = SafetyPolicy(min_existing=0)
    assert evaluate([], existing=0, policy=policy).safe
    (violation,) = evaluate(deletes(1), existing=1, policy=policy).violations
    assert violation.reason == "too_many_deletes"


# --------------------------------------------------------------------------- forced cases


@pytest.mark.parametrize(
    ("kind", "actions", "forced"),
    [
        (ChangeKind.IDENTITY, ("delete",), True),
        (ChangeKind.IDENTITY, ("delete", "create"), True),
        (ChangeKind.SYSTEM_ASSIGNED, ("delete",), True),
        (ChangeKind.IDENTITY, ("update",), False),
        (ChangeKind.IDENTITY, ("create",), False),
        (ChangeKind.GRANT, ("delete",), False),
        (ChangeKind.ATTACHMENT, ("delete",), False),
        (ChangeKind.FEDERATED_CREDENTIAL, ("delete",), False),
    ],
)
def test_which_deletes_are_identity_deletes(
    kind: ChangeKind, actions: tuple[str, ...], forced: bool
) -> None:
    safety = evaluate([change(kind, actions, address="c")], existing=0, policy=SafetyPolicy())
    expected = [("identity_delete", ALLOW_DELETE_IDENTITY, "c")] if forced else []
    assert [(v.reason, v.flag, v.address) for v in safety.violations] == expected


def test_the_identity_delete_message_says_whether_it_is_re_created() -> None:
    deleted = evaluate(
        [change(ChangeKind.IDENTITY, ("delete",), address="id.a")],
        existing=0,
        policy=SafetyPolicy(),
    )
    replaced = evaluate(
        [change(ChangeKind.IDENTITY, ("delete", "create"), address="id.a")],
        existing=0,
        policy=SafetyPolicy(),
    )
    assert deleted.violations[0].message.startswith("id.a would be deleted:")
    assert replaced.violations[0].message.startswith("id.a would be re-created as a new principal")


@pytest.mark.parametrize(
    ("guid", "scope", "forced"),
    [
        (OWNER, SUB, True),
        (OWNER, SUB.upper() + "/", True),
        (OWNER, MG, True),
        (OWNER, "not an id", True),
        (OWNER, RG, False),
        (OWNER, f"{RG}/providers/Microsoft.KeyVault/vaults/kv-1", False),
        (READER, SUB, False),
    ],
)
def test_privileged_grants_in_the_verdict(guid: str, scope: str, forced: bool) -> None:
    after = {"role_definition_id": role_id(guid), "scope": scope, "role": "The Role"}
    grant = change(ChangeKind.GRANT, ("create",), address="grant.x", after=after)
    safety = evaluate([grant], existing=0, policy=SafetyPolicy())
    expected = (
        [
            (
                "privileged_grant",
                ALLOW_PRIVILEGED,
                "grant.x",
                f"grant.x grants The Role on the whole of {scope}",
            )
        ]
        if forced
        else []
    )
    assert [(v.reason, v.flag, v.address, v.message) for v in safety.violations] == expected


def test_a_privileged_grant_without_a_role_name_is_named_by_its_guid() -> None:
    after = {"role_definition_id": role_id(OWNER.upper()), "scope": SUB}
    grant = change(ChangeKind.GRANT, ("create",), address="grant.x", after=after)
    (violation,) = evaluate([grant], existing=0, policy=SafetyPolicy()).violations
    assert violation.message == f"grant.x grants {OWNER} on the whole of {SUB}"


def test_a_grant_with_no_readable_role_is_not_privileged() -> None:
    after = {"role_definition_id": "garbage", "scope": SUB}
    grant = change(ChangeKind.GRANT, ("create",), address="grant.x", after=after)
    assert evaluate([grant], existing=0, policy=SafetyPolicy()).safe


@pytest.mark.parametrize(
    ("scope", "broad"),
    [(SUB, True), (MG, True), ("", True), ("garbage", True), (RG, False), (IDENTITY, False)],
)
def test_is_broad(scope: str, broad: bool) -> None:
    assert is_broad(scope) is broad


# --------------------------------------------------------------------------- re-derived


@pytest.mark.parametrize(
    "op_id",
    [
        f"{SUB}{ASSIGNMENTS}a",
        f"{SUB.upper()}{ASSIGNMENTS.upper()}A",
        f"{MG}{ASSIGNMENTS}a",
        f"{ASSIGNMENTS}a",  # the root scope '/': broader than any subscription
    ],
    ids=["subscription", "upper-case", "management-group", "root"],
)
def test_a_privileged_put_at_a_broad_scope_is_re_derived(op_id: str) -> None:
    plan = plan_of(grant_put(op_id))
    assert [(v.reason, v.flag, v.address) for v in check_safety(plan)] == [
        ("privileged_grant", ALLOW_PRIVILEGED, "grant.x")
    ]
    assert check_safety(plan, [ALLOW_PRIVILEGED]) == []
    assert check_safety(plan, [f" {ALLOW_PRIVILEGED} "]) == []


def test_the_re_derived_message_names_the_scope_as_written() -> None:
    (violation,) = check_safety(plan_of(grant_put(f"{SUB.upper()}{ASSIGNMENTS}a")))
    assert violation.message == f"grant.x grants role {OWNER} on the whole of {SUB.upper()}"


@pytest.mark.parametrize(
    "plan",
    [
        plan_of(grant_put(f"{RG}{ASSIGNMENTS}a")),
        plan_of(grant_put(f"{SUB}{ASSIGNMENTS}a", READER)),
        plan_of(grant_put(KNOWN_AFTER_APPLY, after={"scope": RG})),
        plan_of(
            change(
                ChangeKind.GRANT,
                ("delete",),
                Operation(
                    method="DELETE",
                    id=f"{SUB}{ASSIGNMENTS}a",
                    body={"properties": {"roleDefinitionId": role_id(OWNER)}},
                ),
            )
        ),
        plan_of(
            change(
                ChangeKind.IDENTITY,
                ("create",),
                Operation(
                    method="PUT",
                    id=f"{SUB}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/"
                    "userAssignedIdentities/id-1",
                    body={"properties": {"roleDefinitionId": role_id(OWNER)}},
                ),
            )
        ),
        plan_of(
            change(
                ChangeKind.GRANT,
                ("create",),
                Operation(method="PUT", id=f"{SUB}{ASSIGNMENTS}a"),
            )
        ),
    ],
    ids=[
        "resource-group",
        "reader",
        "known-after-apply-narrow",
        "delete-of-owner-grant",
        "put-of-an-identity",
        "no-body",
    ],
)
def test_what_is_not_a_privileged_write(plan: Plan) -> None:
    assert check_safety(plan) == []


def test_a_put_known_after_apply_without_a_scope_counts_as_broad() -> None:
    plan = plan_of(grant_put(KNOWN_AFTER_APPLY))
    assert [v.flag for v in check_safety(plan)] == [ALLOW_PRIVILEGED]


@pytest.mark.parametrize(
    "op_id",
    [IDENTITY, IDENTITY + "/", IDENTITY.upper()],
    ids=["plain", "trailing-slash", "upper-case"],
)
def test_an_identity_delete_is_re_derived(op_id: str) -> None:
    plan = plan_of(
        change(
            ChangeKind.IDENTITY, ("delete",), Operation(method="DELETE", id=op_id), address="id.a"
        )
    )
    found = check_safety(plan)
    assert [(v.reason, v.flag, v.address) for v in found] == [
        ("identity_delete", ALLOW_DELETE_IDENTITY, "id.a")
    ]
    assert found[0].message == f"id.a deletes the identity {op_id}"
    assert check_safety(plan, [ALLOW_DELETE_IDENTITY]) == []


@pytest.mark.parametrize(
    ("method", "op_id"),
    [
        ("DELETE", f"{IDENTITY}/federatedIdentityCredentials/github"),
        ("PATCH", IDENTITY),
        ("PUT", IDENTITY),
        ("DELETE", f"{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities"),
    ],
    ids=["credential", "patch", "put", "the-collection"],
)
def test_what_is_not_an_identity_delete(method: str, op_id: str) -> None:
    op = Operation(method=method, id=op_id)  # type: ignore[arg-type]
    plan = plan_of(change(ChangeKind.IDENTITY, ("update",), op, address="id.a"))
    assert check_safety(plan) == []


def test_a_stored_violation_is_not_repeated_by_the_re_derived_one() -> None:
    stored = Violation(
        reason="identity_delete", message="stored", flag=ALLOW_DELETE_IDENTITY, address="id.a"
    )
    plan = plan_of(
        change(
            ChangeKind.IDENTITY,
            ("delete",),
            Operation(method="DELETE", id=IDENTITY),
            address="id.a",
        ),
        change(
            ChangeKind.IDENTITY,
            ("delete",),
            Operation(method="DELETE", id=IDENTITY + "2"),
            Operation(method="DELETE", id=IDENTITY + "2/"),
            address="id.b",
        ),
        violations=(stored,),
    )
    assert [(v.message, v.address) for v in check_safety(plan)] == [
        ("stored", "id.a"),
        (f"id.b deletes the identity {IDENTITY}2", "id.b"),
    ]
    assert check_safety(plan, [ALLOW_DELETE_IDENTITY]) == []


def test_a_stored_violation_the_flags_do_not_cover_stays() -> None:
    stored = Violation(reason="too_many_deletes", message="m", flag=ALLOW_MASS_CHANGE)
    plan = plan_of(violations=(stored,))
    assert check_safety(plan, [ALLOW_PRIVILEGED, ALLOW_DELETE_IDENTITY]) == [stored]
    assert check_safety(plan, [ALLOW_MASS_CHANGE]) == []


def test_an_unknown_flag_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="--allow-everything"):
        check_safety(plan_of(), ["--allow-everything"])
