"""Addresses: readable, stable, unique — also across subscriptions and look-alike resources."""

from __future__ import annotations

import pytest
from plan_factories import (
    RG,
    SUB,
    d_grant,
    d_identity,
    d_resource,
    desired,
    l_resource,
    live,
    plan,
    resource_id,
    rg_scope,
    user,
)

from identity_reconciler.core import armid
from identity_reconciler.core.state import DesiredIdentity, DesiredState
from identity_reconciler.plan.names import Namer, address_key, estate_home, unqualified_key

OTHER_SUB = "22222222-2222-2222-2222-222222222222"


def test_scope_short_forms() -> None:
    names = Namer(SUB)
    assert names.scope(f"/subscriptions/{SUB}/resourceGroups/{RG}") == RG
    assert names.scope(f"/subscriptions/{SUB}/resourcegroups/{RG}") == RG
    assert names.scope(f"/subscriptions/{SUB}") == f"subscription/{SUB}"
    assert (
        names.scope("/providers/Microsoft.Management/managementGroups/mg-1")
        == "managementGroup/mg-1"
    )
    nested = (
        f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Sql/servers/s1/databases/db"
    )
    assert names.scope(nested) == f"{RG}/servers/s1/databases/db"
    assert names.scope(f"/subscriptions/{OTHER_SUB}/resourceGroups/{RG}") == f"{OTHER_SUB}/{RG}"


def test_addresses_of_every_kind() -> None:
    names = Namer(SUB)
    ident = armid.identity_id(SUB, RG, "id-a")
    app = resource_id("app-a")
    assert names.identity_address(ident) == f"identity.{RG}/id-a"
    assert names.credential_address(ident, "gh") == f"federated_credential.{RG}/id-a/gh"
    assert names.attachment_address(app, ident) == f"attachment.{RG}/sites/app-a/{RG}/id-a"
    assert names.system_address(app) == f"system_assigned.{RG}/sites/app-a"
    assert (
        names.grant_address(f"{RG}/id-a", "Reader", app)
        == f"grant.{RG}/id-a/Reader@{RG}/sites/app-a"
    )


def _two_subscriptions() -> DesiredState:
    here = d_identity("id-a")
    there = DesiredIdentity(
        id=armid.identity_id(OTHER_SUB, RG, "id-a"),
        subscription_id=OTHER_SUB,
        resource_group=RG,
        name="id-a",
        location="uksouth",
        tags=dict(here.tags),
    )
    return desired([here, there], subscriptions=(SUB, OTHER_SUB))


def test_plans_over_several_subscriptions_qualify_every_address() -> None:
    p = plan(_two_subscriptions(), live())
    assert sorted(c.address for c in p.changes) == [
        f"identity.{SUB}/{RG}/id-a",
        f"identity.{OTHER_SUB}/{RG}/id-a",
    ]
    assert p.target.subscriptions == (SUB, OTHER_SUB)


def test_subscriptions_default_to_those_the_specs_use() -> None:
    state = desired([d_identity("id-a")], subscriptions=())
    p = plan(state, live())
    assert p.target.subscriptions == (SUB,)
    assert p.changes[0].address == f"identity.{RG}/id-a"


def test_look_alike_resources_get_distinct_addresses() -> None:
    web = resource_id("same", "Microsoft.Web/sites")
    other = resource_id("same", "Contoso.Web/sites")
    state = desired([], [d_resource(web, system=True), d_resource(other, system=True)])
    p = plan(state, live([], [l_resource(web), l_resource(other)]))
    addresses = [c.address for c in p.changes]
    assert len(set(addresses)) == 2
    assert f"system_assigned.{RG}/sites/same" in addresses


def test_grant_addresses_use_the_catalog_role_name() -> None:
    ident = d_identity("id-a")
    grant = d_grant(user(ident.id), resource_id("kv", "Microsoft.KeyVault/vaults"))
    p = plan(desired([ident], [], [grant]), live())
    assert p.changes[-1].address == f"grant.{RG}/id-a/Key Vault Secrets User@{RG}/vaults/kv"


# --------------------------------------------------------------------------- the home rule


def test_the_home_is_the_specs_one_subscription_whatever_else_is_read() -> None:
    state = desired([d_identity("id-a")], subscriptions=(SUB.upper(),))
    assert estate_home(state) == SUB
    assert estate_home(state, read=(SUB, OTHER_SUB)) == SUB  # audit --specs reading more


def test_specs_over_several_subscriptions_have_no_home() -> None:
    assert estate_home(_two_subscriptions()) is None
    assert estate_home(_two_subscriptions(), read=(SUB,)) is None


def test_without_specs_the_subscriptions_read_decide() -> None:
    assert estate_home(None, read=(SUB,)) == SUB
    assert estate_home(None, read=(SUB, SUB.upper())) == SUB
    assert estate_home(None, read=(SUB, OTHER_SUB)) is None
    assert estate_home(None) is None


def test_an_address_depends_on_the_object_and_the_home_only() -> None:
    ident = armid.identity_id(OTHER_SUB, RG, "id-a")
    here = armid.identity_id(SUB, RG, "id-a")
    assert Namer.of(None, read=(SUB,)).identity_address(ident) == f"identity.{OTHER_SUB}/{RG}/id-a"
    assert Namer.of(None, read=(SUB,)).identity_address(here) == f"identity.{RG}/id-a"
    everywhere = Namer.of(None, read=(SUB, OTHER_SUB))
    assert everywhere.identity_address(here) == f"identity.{SUB}/{RG}/id-a"
    assert everywhere.grant_address(everywhere.identity(here), "Reader", rg_scope()) == (
        f"grant.{SUB}/{RG}/id-a/Reader@{SUB}/{RG}"
    )


def test_a_grant_reaching_another_subscription_leaves_the_plan_unqualified() -> None:
    """The plan's target lists OTHER_SUB (apply writes there), but the specs' home stays SUB."""
    ident = d_identity("id-a")
    grant = d_grant(user(ident), rg_scope(sub=OTHER_SUB))
    p = plan(desired([ident], [], [grant]), live())
    assert p.target.subscriptions == (SUB, OTHER_SUB)
    assert [c.address for c in p.changes] == [
        f"identity.{RG}/id-a",
        f"grant.{RG}/id-a/Key Vault Secrets User@{OTHER_SUB}/{RG}",
    ]


# --------------------------------------------------------------------------- --target's key


@pytest.mark.parametrize(
    ("printed", "qualified"),
    [
        (f"identity.{RG}/id-a", f"identity.{SUB}/{RG}/id-a"),
        (f"federated_credential.{RG}/id-a/gh", f"federated_credential.{SUB}/{RG}/id-a/gh"),
        (f"system_assigned.{RG}/sites/app", f"system_assigned.{SUB}/{RG}/sites/app"),
        (
            f"attachment.{RG}/sites/app/{RG}/id-a",
            f"attachment.{SUB}/{RG}/sites/app/{SUB}/{RG}/id-a",
        ),
        (f"grant.{RG}/id-a/Reader@{RG}", f"grant.{SUB}/{RG}/id-a/Reader@{SUB}/{RG}"),
        (
            f"grant.{RG}/id-a/Reader@subscription/{SUB}",
            f"GRANT.{SUB.upper()}/{RG}/ID-A/reader@subscription/{SUB}",
        ),
    ],
)
def test_a_home_address_keys_alike_in_both_spellings(printed: str, qualified: str) -> None:
    assert address_key(qualified, SUB) == address_key(printed, SUB) == printed.lower()


def test_other_subscriptions_and_bracketed_ids_are_kept_in_the_key() -> None:
    there = f"identity.{OTHER_SUB}/{RG}/id-a"
    assert address_key(there, SUB) == there
    assert address_key(f"identity.{SUB}/{RG}/id-a", None) == f"identity.{SUB}/{RG}/id-a"
    suffixed = f"system_assigned.{RG}/sites/same[/subscriptions/{SUB}/resourcegroups/x]"
    assert address_key(suffixed, SUB) == suffixed
    assert unqualified_key(there) == f"identity.{RG}/id-a"
