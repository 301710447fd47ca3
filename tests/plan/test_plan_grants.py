"""Grants: matching through ARM's quirks, ownership by name, adoption, principals not yet known."""

from __future__ import annotations

from typing import Any

import pytest
from plan_factories import (
    BLOB_READER,
    KV_SECRETS_USER,
    RG,
    SUB,
    by_address,
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
from identity_reconciler.core.state import (
    DesiredGrant,
    DesiredResourceIdentity,
    DesiredState,
    PrivilegeAllowance,
)
from identity_reconciler.plan.model import KNOWN_AFTER_APPLY
from identity_reconciler.plan.resolve import needs_principal, resolve_principal

ME = identity_id("id-myapp")
PID = guid("principal:id-myapp")
KV = vault()
GRANT = f"grant.{RG}/id-myapp/Key Vault Secrets User@{RG}/vaults/kv-myapp-prod-uks-01"


def _state(*grants: DesiredGrant, **kwargs: object) -> DesiredState:
    return desired([d_identity("id-myapp")], [], list(grants), **kwargs)


def test_missing_grant_is_created_with_deterministic_name_marker_and_principal_type() -> None:
    p = plan(
        _state(d_grant(user(ME), KV, description="reads app secrets")),
        live([l_identity("id-myapp")]),
    )
    change = p.change(GRANT)
    assert (change.actions, change.reason) == (("create",), "create_because_not_live")
    name = ownership.assignment_name(KV, KV_SECRETS_USER, PID)
    assert change.id == f"{KV}/providers/Microsoft.Authorization/roleAssignments/{name}"
    (op,) = change.operations
    assert (op.method, op.id) == ("PUT", change.id)
    assert op.body == {
        "properties": {
            "roleDefinitionId": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/"
            f"roleDefinitions/{KV_SECRETS_USER}",
            "principalId": PID,
            "principalType": "ServicePrincipal",
            "description": "reads app secrets [managed-by identity-reconciler]",
        }
    }
    assert change.principal is not None
    assert change.principal.principal_id == PID
    assert change.depends_on == ()


def test_grant_for_a_new_identity_is_known_after_apply_and_resolvable() -> None:
    p = plan(_state(d_grant(user(ME), KV, condition="x == y")), live())
    change = p.change(GRANT)
    assert change.id is None
    assert change.after is not None
    assert change.after["name"] == change.after["principal_id"] == KNOWN_AFTER_APPLY
    assert change.depends_on == (f"identity.{RG}/id-myapp",)
    assert change.principal is not None
    assert change.principal.address == f"identity.{RG}/id-myapp"
    assert needs_principal(change)
    resolved = resolve_principal(change, PID.upper())
    # Exactly what the diff plans once the identity exists.
    later = plan(_state(d_grant(user(ME), KV, condition="x == y")), live([l_identity("id-myapp")]))
    expected = later.change(GRANT)
    assert resolved.id == expected.id
    assert resolved.operations == expected.operations
    assert resolved.after == expected.after
    assert not needs_principal(resolved)


@pytest.mark.parametrize(
    "quirk",
    [
        pytest.param(
            {"scope": KV.replace("/resourceGroups/", "/resourcegroups/")}, id="scope-case"
        ),
        pytest.param({"scope": KV + "/"}, id="trailing-slash"),
        pytest.param({"subscription_role_id": False}, id="tenant-role-id"),
        pytest.param({"principal_type": None}, id="principal-type-omitted"),
        pytest.param({"description": "  [managed-by   identity-reconciler] "}, id="marker-spacing"),
    ],
)
def test_matching_owned_grant_is_quiet(quirk: dict[str, Any]) -> None:
    quirk = dict(quirk)
    scope = str(quirk.pop("scope", KV))
    have = l_grant(PID, scope, name=ownership.assignment_name(KV, KV_SECRETS_USER, PID), **quirk)
    p = plan(_state(d_grant(user(ME), KV)), live([l_identity("id-myapp")], [], [have]))
    assert p.changes == ()
    assert p.notices == ()


def test_condition_version_defaults_to_2_0() -> None:
    want = d_grant(user(ME), KV, condition="@Resource[x] == 'y'")
    have = l_grant(PID, KV, condition="@Resource[x] == 'y'", condition_version="2.0")
    p = plan(_state(want), live([l_identity("id-myapp")], [], [have]))
    assert p.changes == ()


@pytest.mark.parametrize(
    ("want", "have", "reason"),
    [
        (
            {"condition": "a == b"},
            {"condition": "a == c", "condition_version": "2.0"},
            "update_because_condition_differs",
        ),
        ({"condition": "a == b"}, {}, "update_because_condition_differs"),
        ({"description": "new words"}, {}, "update_because_description_differs"),
    ],
)
def test_owned_grant_with_other_condition_or_description_is_updated_in_place(
    want: dict[str, Any], have: dict[str, Any], reason: str
) -> None:
    live_grant = l_grant(PID, KV, **have)
    p = plan(
        _state(d_grant(user(ME), KV, **want)), live([l_identity("id-myapp")], [], [live_grant])
    )
    change = p.change(GRANT)
    assert (change.actions, change.reason) == (("update",), reason)
    assert change.id == live_grant.id
    assert change.operations[0].id == live_grant.id
    assert change.live_fingerprint == live_grant.fingerprint


def test_unowned_equal_grant_is_a_notice_not_a_change() -> None:
    foreign = l_grant(PID, KV, owned=False, description=None)
    p = plan(_state(d_grant(user(ME), KV)), live([l_identity("id-myapp")], [], [foreign]))
    assert p.changes == ()
    (notice,) = p.notices
    assert notice.code == "grant_not_owned"
    assert "--adopt" in notice.message
    assert notice.address == GRANT


def test_adopt_accepts_the_unowned_grant_without_renaming_it() -> None:
    foreign = l_grant(PID, KV, owned=False)
    p = plan(
        _state(d_grant(user(ME), KV)), live([l_identity("id-myapp")], [], [foreign]), adopt=True
    )
    assert p.changes == ()
    assert [n.code for n in p.notices] == ["grant_adopted"]


def test_owned_grant_no_longer_wanted_is_deleted_unowned_never() -> None:
    owned = l_grant(PID, rg_scope(), BLOB_READER)
    foreign = l_grant(PID, KV, owned=False)
    p = plan(_state(), live([l_identity("id-myapp")], [], [owned, foreign]))
    address = f"grant.{RG}/id-myapp/Storage Blob Data Reader@{RG}"
    assert by_address(p) == {address: (("delete",), "delete_because_not_in_spec")}
    change = p.change(address)
    assert [(op.method, op.id) for op in change.operations] == [("DELETE", owned.id)]
    assert change.live_fingerprint == owned.fingerprint


def test_owned_grants_of_principals_we_do_not_manage_are_left_alone() -> None:
    stranger = guid("principal:someone-else")
    p = plan(_state(), live([l_identity("id-myapp")], [], [l_grant(stranger, KV)]))
    assert p.changes == ()


def test_grants_of_a_deleted_identity_are_deleted_first() -> None:
    gone = guid("principal:id-gone")
    g = l_grant(gone, KV)
    p = plan(
        desired(), live([l_identity("id-gone")], [], [g, l_grant(gone, rg_scope(), owned=False)])
    )
    address = f"grant.{RG}/id-gone/Key Vault Secrets User@{RG}/vaults/kv-myapp-prod-uks-01"
    assert by_address(p) == {
        f"identity.{RG}/id-gone": (("delete",), "delete_because_not_in_spec"),
        address: (("delete",), "delete_because_principal_deleted"),
    }
    assert p.change(f"identity.{RG}/id-gone").depends_on == (address,)


def test_grants_of_a_replaced_identity_are_replaced() -> None:
    state = desired([d_identity("id-myapp", location="westeurope")], [], [d_grant(user(ME), KV)])
    old = l_grant(PID, KV)
    p = plan(state, live([l_identity("id-myapp")], [], [old]))
    change = p.change(GRANT)
    assert (change.actions, change.reason) == (
        ("delete", "create"),
        "replace_because_principal_replaced",
    )
    assert [op.method for op in change.operations] == ["DELETE", "PUT"]
    assert change.operations[0].id == old.id
    assert change.operations[1].id == KNOWN_AFTER_APPLY
    assert change.depends_on == (f"identity.{RG}/id-myapp",)


def test_system_assigned_principal_resolves_from_the_live_resource() -> None:
    app = resource_id("app-myapp")
    live_app = l_resource(app, type_="SystemAssigned")
    state = desired([], [d_resource(app)], [d_grant(system(app), KV)])
    p = plan(state, live([], [live_app]))
    (change,) = p.changes
    assert (
        change.address
        == f"grant.{RG}/sites/app-myapp/Key Vault Secrets User@{RG}/vaults/kv-myapp-prod-uks-01"
    )
    assert change.group == f"system_assigned.{RG}/sites/app-myapp"
    assert change.after is not None
    assert change.after["principal_id"] == live_app.system_principal_id


def test_system_assigned_being_enabled_is_known_after_apply() -> None:
    app = resource_id("app-myapp")
    state = desired([], [d_resource(app, system=True)], [d_grant(system(app), KV)])
    p = plan(state, live([], [l_resource(app)]))
    grant = next(c for c in p.changes if c.kind == "grant")
    assert grant.depends_on == (f"system_assigned.{RG}/sites/app-myapp",)
    assert grant.principal is not None
    assert grant.principal.kind == "system_assigned"


def test_system_switched_off_deletes_its_owned_grants_first() -> None:
    app = resource_id("app-myapp")
    live_app = l_resource(app, type_="SystemAssigned")
    assert live_app.system_principal_id is not None
    g = l_grant(live_app.system_principal_id, KV)
    p = plan(desired([], [d_resource(app, system=False)]), live([], [live_app], [g]))
    grant = next(c for c in p.changes if c.kind == "grant")
    assert grant.reason == "delete_because_principal_deleted"
    assert p.change(f"system_assigned.{RG}/sites/app-myapp").depends_on == (grant.address,)


@pytest.mark.parametrize(
    ("resource", "code"),
    [
        pytest.param(
            d_resource(resource_id("app-myapp"), system=False),
            "system_identity_not_enabled",
            id="off",
        ),
        pytest.param(None, "system_identity_not_enabled", id="undeclared-without-system"),
    ],
)
def test_grant_for_a_system_identity_that_will_not_exist_is_an_error(
    resource: DesiredResourceIdentity | None, code: str
) -> None:
    app = resource_id("app-myapp")
    state = desired([], [resource] if resource else [], [d_grant(system(app), KV, line=30)])
    p = plan(state, live([], [l_resource(app)]))
    assert [(e.code, e.source) for e in p.errors] == [(code, "specs/app.yaml:30:5")]


def test_grant_for_an_unknown_identity_is_an_error() -> None:
    p = plan(desired([], [], [d_grant(user(identity_id("id-ghost")), KV)]), live())
    assert [e.code for e in p.errors] == ["principal_not_found"]


def test_grant_for_an_existing_identity_outside_the_specs_is_planned() -> None:
    ext = identity_id("id-ext", rg="rg-shared")
    state = desired([], [], [d_grant(user(ext), KV)])
    p = plan(state, live([l_identity("id-ext", rg="rg-shared", owned=False)]))
    (change,) = p.changes
    assert change.after is not None
    assert change.after["principal_id"] == guid("principal:id-ext")


def test_grants_of_a_refused_identity_are_not_planned() -> None:
    p = plan(_state(d_grant(user(ME), KV)), live([l_identity("id-myapp", owned=False)]))
    assert p.changes == ()
    assert p.errors == ()


def test_privileged_grant_at_subscription_needs_an_allowance() -> None:
    sub = f"/subscriptions/{SUB}"
    p = plan(_state(d_grant(user(ME), sub, roles.OWNER)), live([l_identity("id-myapp")]))
    assert [e.code for e in p.errors] == ["privileged_not_allowed"]
    allowed = _state(
        d_grant(user(ME), sub, roles.OWNER),
        allow_privileged=(PrivilegeAllowance(roles.OWNER, sub, "break-glass automation"),),
    )
    p = plan(allowed, live([l_identity("id-myapp")]))
    assert p.errors == ()
    assert [v.reason for v in p.safety.violations] == ["privileged_grant"]


def test_privileged_role_at_resource_group_scope_is_ordinary() -> None:
    p = plan(
        _state(d_grant(user(ME), rg_scope(), roles.CONTRIBUTOR)), live([l_identity("id-myapp")])
    )
    assert p.errors == ()
    assert p.safety.safe
