"""Safety re-derived from hand-edited operations: ids a plan's own diff never writes.

An editor can change an operation's id and re-seal the file. The forced cases must still be
found in what apply would run: a privileged grant at the root scope `/`, at an upper-case
subscription, an identity delete whose id ends in `/` or is upper case.
"""

from __future__ import annotations

from typing import Any

import pytest

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
