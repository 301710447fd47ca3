"""Safety: volume thresholds with a floor, and the always-forced cases with their flags."""

from __future__ import annotations

import pytest
from plan_factories import (
    RG,
    SUB,
    d_grant,
    d_identity,
    d_resource,
    desired,
    guid,
    identity_id,
    l_grant,
    l_identity,
    l_resource,
    live,
    plan,
    resource_id,
    rg_scope,
    user,
)

from identity_reconciler.core import roles
from identity_reconciler.core.live import LiveState
from identity_reconciler.core.state import DesiredState, PrivilegeAllowance, SafetyPolicy
from identity_reconciler.plan.safety import (
    ALLOW_DELETE_IDENTITY,
    ALLOW_MASS_CHANGE,
    ALLOW_PRIVILEGED,
    check_safety,
)


def _estate(
    kept: int, deleted_grants: int, updated_grants: int = 0
) -> tuple[DesiredState, LiveState]:
    """One kept identity with `kept` owned grants (some deleted or updated by the specs)."""
    me = identity_id("id-myapp")
    pid = guid("principal:id-myapp")
    scopes = [rg_scope(f"rg-{i}") for i in range(kept)]
    wanted = [
        d_grant(user(me), s, description="changed" if i < updated_grants else None)
        for i, s in enumerate(scopes[deleted_grants:])
    ]
    return (
        desired([d_identity("id-myapp")], [], wanted),
        live([l_identity("id-myapp")], [], [l_grant(pid, s) for s in scopes]),
    )


@pytest.mark.parametrize(
    ("grants", "deleted", "updated", "reasons"),
    [
        pytest.param(20, 6, 0, [], id="6-of-21-is-under-30%"),
        pytest.param(20, 7, 0, ["too_many_deletes"], id="33%-deleted"),
        pytest.param(20, 0, 7, ["too_many_updates"], id="33%-updated"),
        pytest.param(8, 8, 0, [], id="below-the-floor"),
        pytest.param(9, 9, 0, ["too_many_deletes"], id="floor-reached"),
    ],
)
def test_volume_thresholds(grants: int, deleted: int, updated: int, reasons: list[str]) -> None:
    d, state = _estate(grants, deleted, updated)
    p = plan(d, state)
    assert [v.reason for v in p.safety.violations] == reasons
    assert p.safety.safe is (not reasons)
    assert all(v.flag == ALLOW_MASS_CHANGE for v in p.safety.violations)


def test_thresholds_come_from_the_specs_policy() -> None:
    d, state = _estate(4, 1)
    d.safety = SafetyPolicy(max_delete_percent=10, min_existing=2)
    p = plan(d, state)
    (violation,) = p.safety.violations
    assert violation.reason == "too_many_deletes"
    assert "1 of 5" in violation.message
    assert "10 %" in violation.message


def test_deleting_an_identity_is_always_forced() -> None:
    p = plan(desired(), live([l_identity("id-old")]))
    (violation,) = p.safety.violations
    assert (violation.reason, violation.flag) == ("identity_delete", ALLOW_DELETE_IDENTITY)
    assert violation.address == f"identity.{RG}/id-old"
    assert check_safety(p, []) == [violation]
    assert check_safety(p, [ALLOW_DELETE_IDENTITY]) == []
    assert check_safety(p, [ALLOW_MASS_CHANGE]) == [violation]


def test_replacing_an_identity_is_forced_too() -> None:
    p = plan(
        desired([d_identity("id-myapp", location="westeurope")]), live([l_identity("id-myapp")])
    )
    assert [v.reason for v in p.safety.violations] == ["identity_delete"]
    assert "re-created" in p.safety.violations[0].message


def test_switching_a_system_identity_off_is_forced() -> None:
    app = resource_id("app-myapp")
    p = plan(
        desired([], [d_resource(app, system=False)]),
        live([], [l_resource(app, type_="SystemAssigned")]),
    )
    assert [v.flag for v in p.safety.violations] == [ALLOW_DELETE_IDENTITY]


@pytest.mark.parametrize(
    "scope",
    [f"/subscriptions/{SUB}", "/providers/Microsoft.Management/managementGroups/mg-platform"],
)
def test_privileged_grant_at_broad_scope_is_forced_even_when_allowed(scope: str) -> None:
    me = identity_id("id-myapp")
    d = desired(
        [d_identity("id-myapp")],
        [],
        [d_grant(user(me), scope, roles.USER_ACCESS_ADMINISTRATOR)],
        allow_privileged=(
            PrivilegeAllowance(roles.USER_ACCESS_ADMINISTRATOR, scope, "platform bootstrap"),
        ),
    )
    p = plan(d, live([l_identity("id-myapp")]))
    assert p.errors == ()
    (violation,) = p.safety.violations
    assert (violation.reason, violation.flag) == ("privileged_grant", ALLOW_PRIVILEGED)
    assert check_safety(p, [ALLOW_PRIVILEGED]) == []


def test_deleting_a_privileged_grant_is_not_forced() -> None:
    pid = guid("principal:id-myapp")
    p = plan(
        desired([d_identity("id-myapp")]),
        live([l_identity("id-myapp")], [], [l_grant(pid, f"/subscriptions/{SUB}", roles.OWNER)]),
    )
    assert p.safety.safe


def test_unknown_flags_are_refused() -> None:
    p = plan(desired(), live())
    with pytest.raises(ValueError, match="unknown safety flag"):
        check_safety(p, ["--yolo"])


def test_all_flags_together_clear_every_violation() -> None:
    d, state = _estate(20, 10)
    state.identities.update({i.id.lower(): i for i in [l_identity("id-old")]})
    p = plan(d, state)
    assert {v.flag for v in p.safety.violations} == {ALLOW_MASS_CHANGE, ALLOW_DELETE_IDENTITY}
    assert check_safety(p, [ALLOW_MASS_CHANGE, ALLOW_DELETE_IDENTITY, ALLOW_PRIVILEGED]) == []
