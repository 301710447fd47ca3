"""Safety at its boundaries: a count exactly at the threshold, the floor, root and odd ids.

Each case sits on the edge a one-character change to `plan/safety.py` would move: 30 % of the
estate (allowed) against one more (refused), the `min_existing` floor from both sides, a grant
at the root scope `/`, an identity delete whose id ends in `/` or is upper case as ARM may
return it, and the stored verdict against the one re-derived from the operations.
"""

from __future__ import annotations

from typing import Any

import pytest
from plan_factories import (
    SUB,
    d_grant,
    d_identity,
    desired,
    identity_id,
    l_fic,
    l_identity,
    live,
    plan,
    rg_scope,
    user,
)

from identity_reconciler.core import roles
from identity_reconciler.core.state import PrivilegeAllowance, SafetyPolicy
from identity_reconciler.plan.model import (
    Change,
    ChangeKind,
    Operation,
    Plan,
    Safety,
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

SUB_ID = f"/subscriptions/{SUB}"
RG = f"{SUB_ID}/resourceGroups/rg-app"
MG = "/providers/Microsoft.Management/managementGroups/mg-1"
IDENTITY = f"{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-old"
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


def deletes(n: int) -> list[Change]:
    return [change(ChangeKind.GRANT, ("delete",), address=f"grant.{i}") for i in range(n)]


def updates(n: int) -> list[Change]:
    return [change(ChangeKind.GRANT, ("update",), address=f"grant.u{i}") for i in range(n)]


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
        (OWNER, SUB_ID, True),
        (OWNER, SUB_ID.upper() + "/", True),
        (OWNER, MG, True),
        (OWNER, "not an id", True),
        (OWNER, RG, False),
        (OWNER, f"{RG}/providers/Microsoft.KeyVault/vaults/kv-1", False),
        (READER, SUB_ID, False),
    ],
)
def test_privileged_grants_in_the_verdict(guid: str, scope: str, forced: bool) -> None:
    after = {"role_definition_id": role_id(guid), "scope": scope, "role": "The Role"}
    grant = change(ChangeKind.GRANT, ("create",), address="grant.x", after=after)
    safety = evaluate([grant], existing=0, policy=SafetyPolicy())
    expected = [("privileged_grant", ALLOW_PRIVILEGED, "grant.x")] if forced else []
    assert [(v.reason, v.flag, v.address) for v in safety.violations] == expected
    for v in safety.violations:
        assert v.message.startswith(f"grant.x grants The Role on the whole of {scope}")


def test_a_privileged_grant_without_a_role_name_is_named_by_its_guid() -> None:
    after = {"role_definition_id": role_id(OWNER.upper()), "scope": SUB_ID}
    grant = change(ChangeKind.GRANT, ("create",), address="grant.x", after=after)
    (violation,) = evaluate([grant], existing=0, policy=SafetyPolicy()).violations
    assert violation.message.startswith(f"grant.x grants {OWNER} on the whole of {SUB_ID}")


@pytest.mark.parametrize(
    ("scope", "broad"),
    [(SUB_ID, True), (MG, True), ("", True), ("garbage", True), (RG, False), (IDENTITY, False)],
)
def test_is_broad(scope: str, broad: bool) -> None:
    assert is_broad(scope) is broad


# --------------------------------------------------------------------------- re-derived


def _emptied(p: Plan) -> Plan:
    """The plan as an editor would leave it: the stored verdict says all is safe."""
    return p.model_copy(update={"safety": Safety(safe=True, existing=p.safety.existing)})


def _with_owner_at(scope: str, *, new_identity: bool = False) -> Plan:
    allowance = PrivilegeAllowance(roles.OWNER, scope, "landing zone bootstrap")
    d = desired(
        [d_identity("id-myapp")],
        [],
        [d_grant(user(identity_id("id-myapp")), scope, roles.OWNER)],
        allow_privileged=(allowance,),
    )
    return plan(d, live([] if new_identity else [l_identity("id-myapp")]))


@pytest.mark.parametrize(
    ("scope", "new_identity"),
    [(SUB_ID, False), (SUB_ID, True), (MG, False)],
    ids=["subscription", "principal-known-after-apply", "management-group"],
)
def test_a_privileged_grant_is_found_again_when_the_verdict_was_emptied(
    scope: str, new_identity: bool
) -> None:
    p = _with_owner_at(scope, new_identity=new_identity)
    assert p.errors == ()
    (stored,) = p.safety.violations
    found = check_safety(_emptied(p))
    assert [(v.reason, v.flag, v.address) for v in found] == [
        ("privileged_grant", ALLOW_PRIVILEGED, stored.address)
    ]
    assert check_safety(_emptied(p), [ALLOW_PRIVILEGED]) == []
    assert check_safety(_emptied(p), [f" {ALLOW_PRIVILEGED} "]) == []
    assert [v.address for v in check_safety(p)] == [stored.address]  # not repeated


def test_an_identity_delete_is_found_again_when_the_verdict_was_emptied() -> None:
    p = plan(desired(), live([l_identity("id-old")]))
    (stored,) = p.safety.violations
    found = check_safety(_emptied(p))
    assert [(v.reason, v.flag, v.address) for v in found] == [
        ("identity_delete", ALLOW_DELETE_IDENTITY, stored.address)
    ]
    assert check_safety(_emptied(p), [ALLOW_DELETE_IDENTITY]) == []


@pytest.mark.parametrize(
    ("role", "scope"),
    [(roles.OWNER, rg_scope()), (roles.READER, SUB_ID)],
    ids=["privileged-role-narrow", "unprivileged-role-broad"],
)
def test_ordinary_grants_and_credential_deletes_are_not_forced(role: str, scope: str) -> None:
    d = desired([d_identity("id-myapp")], [], [d_grant(user(identity_id("id-myapp")), scope, role)])
    owned_fic = l_identity("id-myapp", fics=[l_fic(identity="id-myapp")])
    p = plan(d, live([owned_fic]))
    assert {c.kind for c in p.changes} == {ChangeKind.GRANT, ChangeKind.FEDERATED_CREDENTIAL}
    assert check_safety(_emptied(p)) == []


def test_a_stored_violation_the_flags_do_not_cover_stays() -> None:
    stored = Violation(reason="too_many_deletes", message="m", flag=ALLOW_MASS_CHANGE)
    p = plan(desired([d_identity("id-myapp")]), live([l_identity("id-myapp")]))
    p = p.model_copy(update={"safety": Safety(safe=False, existing=1, violations=(stored,))})
    assert check_safety(p, [ALLOW_PRIVILEGED, ALLOW_DELETE_IDENTITY]) == [stored]
    assert check_safety(p, [ALLOW_MASS_CHANGE]) == []


def test_an_unknown_flag_is_refused_by_name() -> None:
    p = plan(desired(), live())
    with pytest.raises(ValueError, match="--allow-everything"):
        check_safety(p, ["--allow-everything"])
