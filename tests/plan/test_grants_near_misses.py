"""Grants at the edges of their rules: near-miss allowances, live ARM's casing, what is counted.

A privileged grant at a broad scope is unlocked only by an allowance for the same role at the
same scope with a justification; an allowance that differs in any one of the three must not do.
Live ARM returns principal ids, assignment names, role GUIDs and scopes in mixed case; a grant
must be recognised as ours (or not) whatever the casing.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from plan_factories import (
    BLOB_READER,
    KV_SECRETS_USER,
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
    system,
    user,
    vault,
)

from identity_reconciler.core import ownership, roles
from identity_reconciler.core.state import DesiredGrant, DesiredState, PrivilegeAllowance
from identity_reconciler.plan.model import Plan

ME = identity_id("id-myapp")
PID = guid("principal:id-myapp")
KV = vault()
SUB_SCOPE = f"/subscriptions/{SUB}"
MG_SCOPE = "/providers/Microsoft.Management/managementGroups/mg-platform"
OTHER_SUB = "/subscriptions/22222222-2222-2222-2222-222222222222"
KV_GRANT = f"grant.{RG}/id-myapp/Key Vault Secrets User@{RG}/vaults/kv-myapp-prod-uks-01"
TENANT_FORM = "/providers/Microsoft.Authorization/roleDefinitions/"


def _state(*grants: DesiredGrant, **kwargs: object) -> DesiredState:
    return desired([d_identity("id-myapp")], [], list(grants), **kwargs)


def _owner_at(scope: str, *allowances: PrivilegeAllowance) -> Plan:
    d = _state(d_grant(user(ME), scope, roles.OWNER), allow_privileged=allowances)
    return plan(d, live([l_identity("id-myapp")]))


# --------------------------------------------------------------------------- allowances


@pytest.mark.parametrize(
    "allowance",
    [
        PrivilegeAllowance(roles.OWNER, OTHER_SUB, "bootstrap"),
        PrivilegeAllowance(roles.OWNER, rg_scope(), "bootstrap"),
        PrivilegeAllowance(roles.OWNER, MG_SCOPE, "bootstrap"),
        PrivilegeAllowance(roles.CONTRIBUTOR, SUB_SCOPE, "bootstrap"),
        PrivilegeAllowance(roles.USER_ACCESS_ADMINISTRATOR, SUB_SCOPE, "bootstrap"),
        PrivilegeAllowance(roles.OWNER, SUB_SCOPE, ""),
        PrivilegeAllowance(roles.OWNER, SUB_SCOPE, "  \t "),
    ],
    ids=[
        "same-role-other-subscription",
        "same-role-resource-group",
        "same-role-management-group",
        "other-role-same-scope",
        "other-privileged-role-same-scope",
        "no-justification",
        "blank-justification",
    ],
)
def test_a_near_miss_allowance_does_not_unlock_a_privileged_grant(
    allowance: PrivilegeAllowance,
) -> None:
    p = _owner_at(SUB_SCOPE, allowance)
    assert [e.code for e in p.errors] == ["privileged_not_allowed"]
    (error,) = p.errors
    assert "policy.allow_privileged" in error.message
    assert error.source == "specs/app.yaml:12:5"


@pytest.mark.parametrize(
    "allowance",
    [
        PrivilegeAllowance(roles.OWNER, SUB_SCOPE, "break-glass automation"),
        PrivilegeAllowance(roles.OWNER.upper(), SUB_SCOPE.upper() + "/", " bootstrap "),
    ],
    ids=["exact", "other-casing"],
)
def test_the_exact_allowance_in_any_casing_unlocks_it(allowance: PrivilegeAllowance) -> None:
    near_misses = (
        PrivilegeAllowance(roles.CONTRIBUTOR, SUB_SCOPE, "x"),
        PrivilegeAllowance(roles.OWNER, OTHER_SUB, "x"),
    )
    p = _owner_at(SUB_SCOPE, *near_misses, allowance)
    assert p.errors == ()
    assert [v.reason for v in p.safety.violations] == ["privileged_grant"]


def test_a_management_group_grant_needs_its_own_allowance() -> None:
    assert [e.code for e in _owner_at(MG_SCOPE).errors] == ["privileged_not_allowed"]
    allowed = _owner_at(MG_SCOPE, PrivilegeAllowance(roles.OWNER, MG_SCOPE, "landing zone"))
    assert allowed.errors == ()
    (change,) = allowed.changes[-1:]
    body = change.operations[0].body or {}
    assert body["properties"]["roleDefinitionId"] == TENANT_FORM + roles.OWNER


@pytest.mark.parametrize(
    ("role", "scope"),
    [(roles.READER, SUB_SCOPE), (roles.OWNER, rg_scope()), (roles.OWNER, KV)],
    ids=["unprivileged-role-broad", "privileged-role-group", "privileged-role-resource"],
)
def test_no_allowance_is_needed_below_a_subscription_or_for_other_roles(
    role: str, scope: str
) -> None:
    p = plan(_state(d_grant(user(ME), scope, role)), live([l_identity("id-myapp")]))
    assert p.errors == ()


def test_updating_an_owned_privileged_grant_needs_the_allowance_too() -> None:
    have = l_grant(PID, SUB_SCOPE, roles.OWNER)
    want = d_grant(user(ME), SUB_SCOPE, roles.OWNER, description="now with words")
    p = plan(_state(want), live([l_identity("id-myapp")], [], [have]))
    assert [c.actions for c in p.changes] == [("update",)]
    assert [e.code for e in p.errors] == ["privileged_not_allowed"]
    allowance = PrivilegeAllowance(roles.OWNER, SUB_SCOPE, "break-glass")
    p = plan(
        _state(want, allow_privileged=(allowance,)), live([l_identity("id-myapp")], [], [have])
    )
    assert p.errors == ()


# --------------------------------------------------------------------------- live casing


def _upper_live_grant(scope: str, role: str, *, owned: bool = True) -> Any:
    """A live grant as ARM may return it: principal id, name, role GUID and scope upper case."""
    name = ownership.assignment_name(scope, role, PID) if owned else guid(f"foreign:{scope}")
    return l_grant(PID.upper(), scope.upper(), role.upper(), name=name.upper())


def test_an_owned_grant_in_upper_case_matches_the_desired_one() -> None:
    have = _upper_live_grant(KV, KV_SECRETS_USER)
    p = plan(_state(d_grant(user(ME), KV)), live([l_identity("id-myapp")], [], [have]))
    assert p.changes == ()
    assert p.notices == ()


def test_an_owned_grant_in_upper_case_is_deleted_when_no_longer_wanted() -> None:
    have = _upper_live_grant(rg_scope(), BLOB_READER)
    p = plan(_state(), live([l_identity("id-myapp")], [], [have]))
    assert [(c.actions, c.id) for c in p.changes] == [(("delete",), have.id)]


def test_an_unowned_grant_in_upper_case_is_never_deleted() -> None:
    have = _upper_live_grant(rg_scope(), BLOB_READER, owned=False)
    p = plan(_state(), live([l_identity("id-myapp")], [], [have]))
    assert p.changes == ()


def test_an_unowned_grant_in_upper_case_equal_to_a_desired_one_is_reported() -> None:
    have = _upper_live_grant(KV, KV_SECRETS_USER, owned=False)
    p = plan(_state(d_grant(user(ME), KV)), live([l_identity("id-myapp")], [], [have]))
    assert p.changes == ()
    assert [n.code for n in p.notices] == ["grant_not_owned"]


def test_a_principal_id_read_in_upper_case_is_planned_in_lower_case() -> None:
    identity = dataclasses.replace(l_identity("id-myapp"), principal_id=PID.upper())
    p = plan(_state(d_grant(user(ME), KV)), live([identity]))
    change = p.change(KV_GRANT)
    assert change.after is not None
    assert change.after["principal_id"] == PID
    body = change.operations[0].body or {}
    assert body["properties"]["principalId"] == PID
    assert change.after["name"] == ownership.assignment_name(KV, KV_SECRETS_USER, PID)


def test_an_owned_and_an_unowned_copy_of_a_desired_grant_stay_quiet() -> None:
    owned = l_grant(PID, KV)
    foreign = l_grant(PID, KV, owned=False)
    p = plan(_state(d_grant(user(ME), KV)), live([l_identity("id-myapp")], [], [foreign, owned]))
    assert p.changes == ()
    assert p.notices == ()


# --------------------------------------------------------------------------- counted, written


def test_every_owned_grant_met_counts_toward_the_safety_floor() -> None:
    kept = [l_grant(PID, rg_scope(f"rg-{i}")) for i in range(3)]
    gone = [l_grant(PID, rg_scope(f"rg-x{i}")) for i in range(2)]
    foreign = [l_grant(PID, rg_scope(f"rg-f{i}"), owned=False) for i in range(4)]
    base = plan(_state(), live([l_identity("id-myapp")])).safety.existing
    want = [d_grant(user(ME), g.scope) for g in kept]
    p = plan(_state(*want), live([l_identity("id-myapp")], [], [*kept, *gone, *foreign]))
    assert p.safety.existing == base + 5


def test_the_written_body_and_the_views() -> None:
    want = d_grant(
        user(ME), SUB_SCOPE, BLOB_READER, condition=" a == b ", description=" reads blobs "
    )
    p = plan(_state(want), live([l_identity("id-myapp")]))
    (change,) = p.changes
    assert change.operations[0].body == {
        "properties": {
            "roleDefinitionId": f"{SUB_SCOPE}{TENANT_FORM}{BLOB_READER}",
            "principalId": PID,
            "principalType": "ServicePrincipal",
            "description": "reads blobs [managed-by identity-reconciler]",
            "condition": "a == b",
            "conditionVersion": "2.0",
        }
    }
    assert change.after == {
        "name": ownership.assignment_name(SUB_SCOPE, BLOB_READER, PID),
        "scope": SUB_SCOPE,
        "role": "Storage Blob Data Reader",
        "role_definition_id": TENANT_FORM + BLOB_READER,
        "principal_id": PID,
        "condition": "a == b",
        "condition_version": "2.0",
        "description": "reads blobs [managed-by identity-reconciler]",
    }


def test_a_grant_without_condition_writes_none() -> None:
    p = plan(_state(d_grant(user(ME), KV)), live([l_identity("id-myapp")]))
    (change,) = p.changes
    props = (change.operations[0].body or {})["properties"]
    assert "condition" not in props
    assert "conditionVersion" not in props
    assert change.after is not None
    assert (change.after["condition"], change.after["condition_version"]) == (None, None)


def test_the_before_view_of_an_update_is_the_live_grant() -> None:
    have = l_grant(PID, KV, condition="x == y", condition_version=" 2.0 ", description="old")
    p = plan(_state(d_grant(user(ME), KV)), live([l_identity("id-myapp")], [], [have]))
    (change,) = p.changes
    assert change.reason == "update_because_condition_differs"
    assert change.before == {
        "name": have.name,
        "scope": KV,
        "role": "Key Vault Secrets User",
        "role_definition_id": TENANT_FORM + KV_SECRETS_USER,
        "principal_id": PID,
        "condition": "x == y",
        "condition_version": "2.0",
        "description": "old",
    }


def test_a_description_that_differs_only_in_spacing_is_no_change() -> None:
    have = l_grant(PID, KV, description="  reads   secrets [managed-by identity-reconciler]")
    want = d_grant(user(ME), KV, description="reads secrets")
    p = plan(_state(want), live([l_identity("id-myapp")], [], [have]))
    assert p.changes == ()


@pytest.mark.parametrize(
    "spelled",
    [KV.replace("/resourceGroups/", "/RESOURCEGROUPS/").replace(SUB, SUB.upper()), KV + "/"],
    ids=["casing", "trailing-slash"],
)
def test_a_desired_scope_is_planned_in_its_canonical_spelling(spelled: str) -> None:
    p = plan(_state(d_grant(user(ME), spelled)), live([l_identity("id-myapp")]))
    (change,) = p.changes
    assert change.address == KV_GRANT
    assert change.after is not None
    assert change.after["scope"] == KV
    name = ownership.assignment_name(KV, KV_SECRETS_USER, PID)
    assert change.id == f"{KV}/providers/Microsoft.Authorization/roleAssignments/{name}"


# --------------------------------------------------------------------------- orphans


def _orphan_candidate(alive: bool) -> Plan:
    """An owned grant whose principal id ARM returns upper case; alive: the reader saw it."""
    other = guid("principal:someone-else")
    name = ownership.assignment_name(rg_scope(), BLOB_READER, other)
    have = l_grant(other.upper(), rg_scope(), BLOB_READER, name=name.upper())
    state = live([l_identity("id-myapp")], [], [have])
    known = {PID, other} if alive else {PID}
    state = dataclasses.replace(state, principals=frozenset(known), principals_complete=True)
    return plan(_state(), state)


def test_a_grant_of_a_living_principal_in_upper_case_is_no_orphan() -> None:
    assert _orphan_candidate(alive=True).changes == ()


def test_a_grant_of_a_vanished_principal_in_upper_case_is_an_orphan() -> None:
    other = guid("principal:someone-else")
    (change,) = _orphan_candidate(alive=False).changes
    assert change.address == f"grant.deleted-principal-{other}/Storage Blob Data Reader@{RG}"
    assert change.reason == "delete_because_principal_deleted"


def test_an_orphan_counts_toward_the_safety_floor() -> None:
    gone = _orphan_candidate(alive=False).safety.existing
    assert gone == _orphan_candidate(alive=True).safety.existing + 1


def test_a_principal_not_found_says_which_case_it_is() -> None:
    ghost = plan(desired([], [], [d_grant(user(identity_id("id-ghost")), KV)]), live())
    (error,) = ghost.errors
    assert "is neither in the specs nor live" in error.message
    unread = dataclasses.replace(l_identity("id-ext", owned=False), principal_id="")
    p = plan(desired([], [], [d_grant(user(identity_id("id-ext")), KV)]), live([unread]))
    (error,) = p.errors
    assert (error.code, "exists but its principal id was not read" in error.message) == (
        "principal_not_found",
        True,
    )


def test_a_system_principal_read_in_upper_case_is_planned_in_lower_case() -> None:
    app = resource_id("app-myapp")
    live_app = l_resource(app, type_="SystemAssigned")
    assert live_app.system_principal_id is not None
    shouted = dataclasses.replace(
        live_app, system_principal_id=live_app.system_principal_id.upper()
    )
    p = plan(desired([], [d_resource(app)], [d_grant(system(app), KV)]), live([], [shouted]))
    (change,) = p.changes
    assert change.after is not None
    assert change.after["principal_id"] == live_app.system_principal_id
