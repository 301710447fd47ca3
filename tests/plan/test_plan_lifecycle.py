"""The lifecycle rules of the planner, as pure functions: managed scope, orphans, make before
break, prevent_destroy, destroy and --target."""

from __future__ import annotations

import dataclasses

import pytest
from plan_factories import (
    RG,
    SUB,
    by_address,
    d_grant,
    d_identity,
    d_resource,
    desired,
    identity_id,
    l_grant,
    l_identity,
    l_resource,
    live,
    plan,
    resource_id,
    rg_scope,
    src,
    user,
    vault,
)

from identity_reconciler.core import armid
from identity_reconciler.core.live import LiveState
from identity_reconciler.plan.destroy import destroy_state
from identity_reconciler.plan.target import targeted

OTHER_RG = "rg-other-prod-uks-01"
GONE_PID = "0d3f1b52-7b0a-4a8b-9d33-5a0c2b7e1f00"
SITE_A = resource_id("app-a")
SITE_B = resource_id("app-b")


def complete(state: LiveState) -> LiveState:
    """As the reader returns it: every identity principal of the subscriptions is known."""
    known = {i.principal_id for i in state.identities.values()}
    known |= {r.system_principal_id for r in state.resources.values() if r.system_principal_id}
    return dataclasses.replace(state, principals=frozenset(known), principals_complete=True)


# --------------------------------------------------------------------------- managed scope


def test_an_owned_identity_in_a_declared_subscription_is_a_deletion_candidate() -> None:
    stray = l_identity("id-stray", rg=OTHER_RG)
    d = desired(managed_resource_groups=frozenset(), managed_subscriptions=frozenset({SUB}))
    assert by_address(plan(d, live([stray]))) == {
        f"identity.{OTHER_RG}/id-stray": (("delete",), "delete_because_not_in_spec"),
    }
    d_rg = desired(managed_resource_groups=frozenset({armid.key(rg_scope())}))
    assert by_address(plan(d_rg, live([stray]))) == {}  # another group: not managed
    unowned = l_identity("id-hand", rg=OTHER_RG, owned=False)
    assert by_address(plan(d, live([unowned]))) == {}  # never what is not ours


# --------------------------------------------------------------------------- orphans


@pytest.mark.parametrize(
    ("case", "grant", "complete_principals", "deleted"),
    [
        ("owned, principal gone", l_grant(GONE_PID, rg_scope()), True, True),
        ("the reader did not prove it", l_grant(GONE_PID, rg_scope()), False, False),
        ("no marker", l_grant(GONE_PID, rg_scope(), description=None), True, False),
        ("not named by us", l_grant(GONE_PID, rg_scope(), owned=False), True, False),
        ("outside the managed scope", l_grant(GONE_PID, rg_scope(OTHER_RG)), True, False),
    ],
)
def test_an_owned_grant_of_a_principal_that_is_gone_is_deleted_only_when_proven(
    case: str, grant: object, complete_principals: bool, deleted: bool
) -> None:
    state = live([l_identity("id-myapp")], grants=[grant])  # type: ignore[list-item]
    if complete_principals:
        state = complete(state)
    d = desired([d_identity("id-myapp")])
    changes = by_address(plan(d, state))
    expected = (
        {f"grant.deleted-principal-{GONE_PID}/Key Vault Secrets User@{RG}": (
            ("delete",), "delete_because_principal_deleted")}
        if deleted else {}
    )
    assert changes == expected, case


# --------------------------------------------------------------------------- make before break


def test_a_moved_attachment_is_attached_before_it_is_detached() -> None:
    ident = d_identity("id-myapp")
    li = l_identity("id-myapp")
    d = desired([ident], [d_resource(SITE_A), d_resource(SITE_B, users=[ident.id])])
    state = live([li], [l_resource(SITE_A, type_="UserAssigned", users=[li.id]),
                        l_resource(SITE_B)])
    p = plan(d, state)
    detach = p.change(f"attachment.{RG}/sites/app-a/{RG}/id-myapp")
    attach = f"attachment.{RG}/sites/app-b/{RG}/id-myapp"
    assert detach.actions == ("delete",)
    assert detach.create_before_destroy == (attach,)
    assert attach in detach.depends_on


def test_grants_of_a_principal_that_goes_do_not_wait_for_anything() -> None:
    li = l_identity("id-old")
    state = complete(live([li], grants=[l_grant(li.principal_id, vault())]))
    p = plan(desired([d_identity("id-myapp")]), state)
    grant = next(c for c in p.changes if c.kind.value == "grant")
    assert grant.reason == "delete_because_principal_deleted"
    assert grant.create_before_destroy == ()


# --------------------------------------------------------------------------- prevent_destroy


def test_prevent_destroy_on_a_grant_whose_principal_is_replaced_is_an_error() -> None:
    ident = d_identity("id-myapp", location="westeurope")
    li = l_identity("id-myapp")
    g = d_grant(user(ident), vault())
    d = desired([ident], grants=[g], protected_grants={g.key: src(30)})
    p = plan(d, live([li], grants=[l_grant(li.principal_id, vault())]))
    assert [(e.code, e.source) for e in p.errors] == [("prevent_destroy", "specs/app.yaml:30:5")]
    assert "would re-create grant." in p.errors[0].message


def test_prevent_destroy_on_an_identity_that_stays_is_silent() -> None:
    ident = d_identity("id-myapp")
    d = desired([ident], protected_identities={armid.key(ident.id): src(5)})
    assert plan(d, live([l_identity("id-myapp")])).errors == ()


# --------------------------------------------------------------------------- destroy


def test_destroy_aims_at_nothing_the_specs_own_and_keeps_the_rest() -> None:
    ident = d_identity("id-myapp")
    d = desired(
        [ident],
        [d_resource(SITE_A, system=True, users=[ident.id]), d_resource(SITE_B)],
        [d_grant(user(ident), vault())],
        managed_subscriptions=frozenset({SUB}),
    )
    gone = destroy_state(d)
    assert (gone.identities, gone.grants) == ({}, {})
    assert gone.retiring == {armid.key(identity_id("id-myapp"))}
    assert (gone.managed_resource_groups, gone.managed_subscriptions) == (frozenset(), frozenset())
    site_a, site_b = (gone.resources[armid.key(r)] for r in (SITE_A, SITE_B))
    assert (site_a.system_assigned, site_a.user_assigned) == (False, ())
    assert site_b.system_assigned is None  # never switched on by these specs: left alone
    neighbour = l_identity("id-neighbour")  # owned, same group, another spec file's
    state = live([l_identity("id-myapp"), neighbour])
    assert set(by_address(plan(gone, state))) == {f"identity.{RG}/id-myapp"}


# --------------------------------------------------------------------------- --target


def test_target_keeps_an_address_and_what_it_depends_on() -> None:
    one, two = d_identity("id-one"), d_identity("id-two")
    d = desired([one, two], grants=[d_grant(user(one), vault()), d_grant(user(two), vault())])
    full = plan(d, live())
    grant = f"grant.{RG}/id-one/Key Vault Secrets User@{RG}/vaults/kv-myapp-prod-uks-01"
    part = targeted(full, [grant.upper()], home=SUB)
    assert [c.address for c in part.changes] == [f"identity.{RG}/id-one", grant]
    assert part.options.targets == (grant.upper(),)
    assert part.notices[0].code == "targeted"
    assert part.summary.add == 2
    assert targeted(full, [], home=SUB) is full
