"""Identity blocks on resources: attach, detach (only what we manage), the system switch."""

from __future__ import annotations

import pytest
from plan_factories import (
    RG,
    by_address,
    d_identity,
    d_resource,
    desired,
    identity_id,
    l_identity,
    l_resource,
    live,
    plan,
    resource_id,
)

APP = resource_id("app-myapp")
ME = identity_id("id-myapp")
OTHER = identity_id("id-other")
ATTACH = f"attachment.{RG}/sites/app-myapp/{RG}/id-myapp"
SYSTEM = f"system_assigned.{RG}/sites/app-myapp"


def _patch(p: object, address: str) -> dict[str, object]:
    change = p.change(address)  # type: ignore[attr-defined]
    (op,) = change.operations
    assert (op.method, op.id) == ("PATCH", APP)
    return dict(op.body["identity"])


def test_missing_attachment_is_added_by_patching_the_identity_block() -> None:
    state = desired([d_identity("id-myapp")], [d_resource(APP, users=[ME])])
    p = plan(state, live([l_identity("id-myapp")], [l_resource(APP)]))
    assert by_address(p) == {ATTACH: (("create",), "create_because_not_live")}
    assert _patch(p, ATTACH) == {"type": "UserAssigned", "userAssignedIdentities": {ME: {}}}
    assert p.change(ATTACH).depends_on == ()
    # The PATCH was computed from the live block: a changed block makes it stale.
    assert p.change(ATTACH).live_fingerprint == l_resource(APP).fingerprint


def test_attachment_of_a_new_identity_waits_for_it() -> None:
    state = desired([d_identity("id-myapp")], [d_resource(APP, users=[ME])])
    p = plan(state, live([], [l_resource(APP)]))
    assert p.change(ATTACH).depends_on == (f"identity.{RG}/id-myapp",)


@pytest.mark.parametrize(
    ("live_type", "expected"),
    [
        ("SystemAssigned", "SystemAssigned, UserAssigned"),
        ("SystemAssigned,UserAssigned", "SystemAssigned,UserAssigned"),
        ("SystemAssigned, UserAssigned", "SystemAssigned, UserAssigned"),
    ],
)
def test_attach_keeps_the_system_identity_and_the_live_type_spelling(
    live_type: str, expected: str
) -> None:
    users = [OTHER] if "User" in live_type else []
    state = desired([d_identity("id-myapp")], [d_resource(APP, users=[ME, *users])])
    have = live([l_identity("id-myapp")], [l_resource(APP, type_=live_type, users=users)])
    assert _patch(plan(state, have), ATTACH)["type"] == expected


def test_container_apps_get_the_combined_type_without_a_space() -> None:
    app = resource_id("ca-myapp", "Microsoft.App/containerApps")
    state = desired([d_identity("id-myapp")], [d_resource(app, users=[ME])])
    p = plan(state, live([l_identity("id-myapp")], [l_resource(app, type_="SystemAssigned")]))
    (change,) = p.changes
    assert change.operations[0].body == {
        "identity": {"type": "SystemAssigned,UserAssigned", "userAssignedIdentities": {ME: {}}}
    }


@pytest.mark.parametrize(
    "attached_as",
    [
        ME,
        ME.replace("/resourceGroups/", "/resourcegroups/"),
        ME.upper().replace("/SUBSCRIPTIONS/", "/subscriptions/"),
        ME + "/",
    ],
)
def test_attached_identity_ids_compare_case_insensitively(attached_as: str) -> None:
    state = desired([d_identity("id-myapp")], [d_resource(APP, users=[ME])])
    p = plan(
        state,
        live(
            [l_identity("id-myapp")], [l_resource(APP, type_="UserAssigned", users=[attached_as])]
        ),
    )
    assert p.changes == ()


def test_managed_identity_no_longer_wanted_is_detached_others_never() -> None:
    foreign = identity_id("id-foreign")
    state = desired(
        [d_identity("id-myapp"), d_identity("id-other")],
        [d_resource(APP, users=[OTHER])],
    )
    have = live(
        [l_identity("id-myapp"), l_identity("id-other"), l_identity("id-foreign", owned=False)],
        [l_resource(APP, type_="UserAssigned", users=[ME, OTHER, foreign])],
    )
    p = plan(state, have)
    assert by_address(p) == {ATTACH: (("delete",), "delete_because_not_in_spec")}
    assert _patch(p, ATTACH) == {"type": "UserAssigned", "userAssignedIdentities": {ME: None}}


def test_owned_identity_outside_the_specs_is_detached_before_it_is_deleted() -> None:
    state = desired([], [d_resource(APP)])
    have = live([l_identity("id-myapp")], [l_resource(APP, type_="UserAssigned", users=[ME])])
    p = plan(state, have)
    assert p.change(f"identity.{RG}/id-myapp").depends_on == (ATTACH,)
    # The last identity goes: the resource ends with no identity at all.
    assert _patch(p, ATTACH) == {"type": "None"}


def test_detach_waits_for_the_attach_on_the_same_resource() -> None:
    state = desired(
        [d_identity("id-myapp"), d_identity("id-other")], [d_resource(APP, users=[OTHER])]
    )
    have = live(
        [l_identity("id-myapp"), l_identity("id-other")],
        [l_resource(APP, type_="UserAssigned", users=[ME])],
    )
    p = plan(state, have)
    other = f"attachment.{RG}/sites/app-myapp/{RG}/id-other"
    assert p.change(ATTACH).depends_on == (other,)
    assert p.change(other).depends_on == ()


def test_missing_resource_is_a_located_error() -> None:
    state = desired([d_identity("id-myapp")], [d_resource(APP, users=[ME], line=42)])
    p = plan(state, live([l_identity("id-myapp")], [l_resource(APP, exists=False)]))
    (error,) = p.errors
    assert error.code == "resource_not_found"
    assert error.source == "specs/app.yaml:42:5"
    assert "app-myapp" in error.message
    assert "does not exist" in error.message
    assert p.changes == ()


def test_unread_resource_is_treated_as_missing() -> None:
    p = plan(desired([], [d_resource(APP, system=True)]), live())
    assert [e.code for e in p.errors] == ["resource_not_found"]


def test_system_identity_is_switched_on() -> None:
    p = plan(desired([], [d_resource(APP, system=True)]), live([], [l_resource(APP)]))
    assert by_address(p) == {SYSTEM: (("create",), "create_because_not_live")}
    assert _patch(p, SYSTEM) == {"type": "SystemAssigned"}
    change = p.change(SYSTEM)
    assert change.after == {"principal_id": "(known after apply)"}


def test_system_identity_is_switched_off_keeping_user_identities() -> None:
    state = desired([d_identity("id-myapp")], [d_resource(APP, system=False, users=[ME])])
    have = live(
        [l_identity("id-myapp")],
        [l_resource(APP, type_="SystemAssigned, UserAssigned", users=[ME])],
    )
    p = plan(state, have)
    assert by_address(p) == {SYSTEM: (("delete",), "delete_because_not_in_spec")}
    assert _patch(p, SYSTEM) == {"type": "UserAssigned", "userAssignedIdentities": {ME: {}}}
    assert (
        p.change(SYSTEM).live_fingerprint == have.resources[next(iter(have.resources))].fingerprint
    )


@pytest.mark.parametrize(
    ("want", "live_type"),
    [
        (None, "SystemAssigned"),
        (None, None),
        (True, "SystemAssigned"),
        (False, None),
        (False, "None"),
    ],
)
def test_system_switch_is_quiet_when_unmanaged_or_equal(
    want: bool | None, live_type: str | None
) -> None:
    p = plan(
        desired([], [d_resource(APP, system=want)]), live([], [l_resource(APP, type_=live_type)])
    )
    assert p.changes == ()


def test_replaced_identity_is_reattached() -> None:
    state = desired([d_identity("id-myapp", location="westeurope")], [d_resource(APP, users=[ME])])
    have = live([l_identity("id-myapp")], [l_resource(APP, type_="UserAssigned", users=[ME])])
    p = plan(state, have)
    change = p.change(ATTACH)
    assert change.actions == ("delete", "create")
    assert change.depends_on == (f"identity.{RG}/id-myapp",)
    assert [op.body for op in change.operations] == [
        {"identity": {"type": "None"}},
        {"identity": {"type": "UserAssigned", "userAssignedIdentities": {ME: {}}}},
    ]


def test_refused_identity_is_not_attached() -> None:
    state = desired([d_identity("id-myapp")], [d_resource(APP, users=[ME])])
    p = plan(state, live([l_identity("id-myapp", owned=False)], [l_resource(APP)]))
    assert p.changes == ()
    assert [n.code for n in p.notices] == ["takeover_refused"]


@pytest.mark.parametrize(
    "live_type",
    ["SystemAssigned,UserAssigned", "SystemAssigned, UserAssigned", "systemassigned, userassigned"],
)
def test_identity_type_spellings_are_quiet(live_type: str) -> None:
    state = desired([d_identity("id-myapp")], [d_resource(APP, system=True, users=[ME])])
    have = live([l_identity("id-myapp")], [l_resource(APP, type_=live_type, users=[ME])])
    assert plan(state, have).changes == ()
