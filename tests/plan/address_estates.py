"""Two estates for the address goldens: every command must name each object the same way.

`one_subscription`: specs in SUB only, a grant reaching into OTHER, and audit reading both
subscriptions (OTHER holds an identity of the same resource group and name). SUB is home, so
its objects are unqualified and OTHER's are qualified, in plan, drift and audit alike.

`two_subscriptions`: specs in SUB and OTHER, each with an `id-app` in a resource group of the
same name: there is no home, and every address names its subscription.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from plan_factories import (
    RG,
    SUB,
    d_grant,
    d_identity,
    desired,
    fic,
    guid,
    l_grant,
    l_identity,
    live,
    plan,
    rg_scope,
    user,
    vault,
)

from identity_reconciler.core import armid
from identity_reconciler.core.live import LiveIdentity, LiveState
from identity_reconciler.core.state import DesiredIdentity, DesiredState
from identity_reconciler.plan.model import Plan

OTHER = "22222222-2222-2222-2222-222222222222"
SHARED = "rg-shared-prod-uks-01"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"


@dataclass(frozen=True)
class Estate:
    desired: DesiredState
    live: LiveState
    read: tuple[str, ...]  # the subscriptions audit reads

    def plan(self) -> Plan:
        return plan(self.desired, self.live)


def _elsewhere_d(ident: DesiredIdentity) -> DesiredIdentity:
    return dataclasses.replace(
        ident, id=armid.identity_id(OTHER, ident.resource_group, ident.name), subscription_id=OTHER
    )


def _elsewhere_l(ident: LiveIdentity) -> LiveIdentity:
    return dataclasses.replace(
        ident,
        id=armid.identity_id(OTHER, ident.resource_group, ident.name),
        subscription_id=OTHER,
        principal_id=guid(f"principal:{OTHER}:{ident.name}"),
        client_id=guid(f"client:{OTHER}:{ident.name}"),
    )


def _groups(*subs: str) -> frozenset[str]:
    return frozenset(armid.key(rg_scope(RG, s)) for s in subs)


def one_subscription() -> Estate:
    app = d_identity("id-app", tags={"env": "prod"}, fics=[fic()])
    state = desired(
        [app],
        grants=[d_grant(user(app), vault()), d_grant(user(app), rg_scope(SHARED, OTHER), READER)],
        managed_resource_groups=_groups(SUB),
    )
    app_live = l_identity("id-app", tags={"env": "dev"})
    there = _elsewhere_l(l_identity("id-app"))
    found = live(
        [app_live, l_identity("id-old"), there],
        grants=[
            l_grant(app_live.principal_id, vault()),
            l_grant(app_live.principal_id, rg_scope(), CONTRIBUTOR, owned=False, description=None),
            l_grant(there.principal_id, rg_scope(RG, OTHER), READER),
        ],
    )
    return Estate(state, found, (SUB, OTHER))


def two_subscriptions() -> Estate:
    here = d_identity("id-app", tags={"env": "prod"})
    there = _elsewhere_d(d_identity("id-app", fics=[fic()]))
    state = desired(
        [here, there],
        grants=[
            d_grant(user(here), vault()),
            d_grant(user(there), rg_scope(SHARED, OTHER), READER),
        ],
        subscriptions=(SUB, OTHER),
        managed_resource_groups=_groups(SUB, OTHER),
    )
    here_live = l_identity("id-app", tags={"env": "dev"})
    found = live(
        [here_live, l_identity("id-old")],
        grants=[
            l_grant(here_live.principal_id, vault()),
            l_grant(here_live.principal_id, rg_scope(), CONTRIBUTOR, owned=False, description=None),
        ],
    )
    return Estate(state, found, (SUB, OTHER))


ESTATES = {"one-subscription": one_subscription, "two-subscriptions": two_subscriptions}

# The address each command must print for the same object, per estate.
ADDRESSES = {
    "one-subscription": {
        "app": f"identity.{RG}/id-app",
        "old": f"identity.{RG}/id-old",
        "credential": f"federated_credential.{RG}/id-app/github-main",
        "reader": f"grant.{RG}/id-app/Reader@{OTHER}/{SHARED}",
        "by-hand": f"grant.{RG}/id-app/Contributor@{RG}",
        "elsewhere": f"identity.{OTHER}/{RG}/id-app",
    },
    "two-subscriptions": {
        "app": f"identity.{SUB}/{RG}/id-app",
        "old": f"identity.{SUB}/{RG}/id-old",
        "credential": f"federated_credential.{OTHER}/{RG}/id-app/github-main",
        "reader": f"grant.{OTHER}/{RG}/id-app/Reader@{OTHER}/{SHARED}",
        "by-hand": f"grant.{SUB}/{RG}/id-app/Contributor@{SUB}/{RG}",
        "elsewhere": f"identity.{OTHER}/{RG}/id-app",
    },
}
