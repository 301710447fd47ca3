"""CPU cost of compute_plan on a large estate, and of the plan's JSON round trip.

The estate: 1,000 user-assigned identities with 5 grants each (5,000 desired grants), of which
a fifth are missing live, a tenth differ in description and the rest match; plus 5,000
unrelated live grants (other principals, unowned) that the diff must skip cheaply.

    python benchmarks/plan_diff.py [--identities 1000] [--grants-per-identity 5] [--unrelated 5000]
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Callable
from typing import TypeVar

from identity_reconciler.core import armid, ownership
from identity_reconciler.core.live import (
    LiveFederatedCredential,
    LiveGrant,
    LiveIdentity,
    LiveState,
)
from identity_reconciler.core.state import (
    DesiredGrant,
    DesiredIdentity,
    DesiredState,
    PrincipalKind,
    PrincipalRef,
)
from identity_reconciler.plan.diff import compute_plan
from identity_reconciler.plan.model import Plan
from identity_reconciler.plan.render_markdown import render_markdown
from identity_reconciler.plan.render_text import render_text

SUB = "11111111-1111-1111-1111-111111111111"
ROLES = (
    "4633458b-17de-408a-b874-0445c86b69e6",
    "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
    "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
)
T = TypeVar("T")


def _guid(seed: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, seed))


def build(identities: int, per_identity: int, unrelated: int) -> tuple[DesiredState, LiveState]:
    desired = DesiredState(subscriptions=(SUB,), managed_resource_groups=frozenset({"rg-0"}))
    live = LiveState(tenant_id=_guid("tenant"))
    owned_tags = {ownership.OWNER_TAG: ownership.OWNER_TAG_VALUE, "owner": "platform"}
    for i in range(identities):
        rg = f"rg-{i % 20}"
        name = f"id-app{i}-prod-uks-01"
        iid = armid.identity_id(SUB, rg, name)
        key = armid.key(iid)
        desired.identities[key] = DesiredIdentity(
            id=iid,
            subscription_id=SUB,
            resource_group=rg,
            name=name,
            location="uksouth",
            tags=owned_tags,
        )
        pid = _guid(f"p{i}")
        fic_id = f"{iid}/federatedIdentityCredentials/none"
        live.identities[key] = LiveIdentity(
            id=iid,
            subscription_id=SUB,
            resource_group=rg,
            name=name,
            location="uksouth",
            tags=owned_tags,
            isolation_scope=None,
            principal_id=pid,
            client_id=_guid(f"c{i}"),
            tenant_id=live.tenant_id,
            federated_credentials=()
            if i % 2
            else (LiveFederatedCredential(fic_id, "none", "https://x", "y", ("a",)),),
        )
        for j in range(per_identity):
            scope = (
                f"/subscriptions/{SUB}/resourceGroups/{rg}"
                f"/providers/Microsoft.KeyVault/vaults/kv-{i}-{j}"
            )
            role = ROLES[j % len(ROLES)]
            grant = DesiredGrant(
                principal=PrincipalRef(PrincipalKind.USER_ASSIGNED, iid),
                scope=scope,
                role_definition_guid=role,
                role_name=role,
            )
            desired.grants[grant.key] = grant
            n = i * per_identity + j
            if n % 5 == 0:
                continue  # missing live: a create
            name_ = ownership.assignment_name(scope, role, pid)
            desc = "changed by hand" if n % 10 == 1 else ownership.DESCRIPTION_MARKER
            g = LiveGrant(
                id=f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name_}",
                name=name_,
                scope=scope.replace("resourceGroups", "resourcegroups"),
                role_definition_id=armid.role_definition_id(role, SUB),
                role_definition_guid=role,
                principal_id=pid,
                description=desc,
            )
            live.grants[armid.key(g.id)] = g
    for k in range(unrelated):
        scope = f"/subscriptions/{SUB}/resourceGroups/rg-other-{k % 50}"
        name_ = _guid(f"u{k}")
        g = LiveGrant(
            id=f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name_}",
            name=name_,
            scope=scope,
            role_definition_id=armid.role_definition_id(ROLES[0]),
            role_definition_guid=ROLES[0],
            principal_id=_guid(f"other{k}"),
        )
        live.grants[armid.key(g.id)] = g
    return desired, live


def cpu(fn: Callable[[], T]) -> tuple[T, float]:
    start = time.process_time()
    result = fn()
    return result, time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--identities", type=int, default=1000)
    parser.add_argument("--grants-per-identity", type=int, default=5)
    parser.add_argument("--unrelated", type=int, default=5000)
    args = parser.parse_args()
    desired, live = build(args.identities, args.grants_per_identity, args.unrelated)
    from identity_reconciler.core import roles

    _, catalog_s = cpu(roles.catalog)  # loaded once per process; reported apart
    plan, plan_s = cpu(lambda: compute_plan(desired, live))
    text, json_s = cpu(plan.to_json)
    _, read_s = cpu(lambda: Plan.from_json(text))
    _, text_s = cpu(lambda: render_text(plan))
    _, md_s = cpu(lambda: render_markdown(plan))
    print(
        f"estate: {len(desired.identities)} identities, {len(desired.grants)} desired grants, "
        f"{len(live.grants)} live grants ({args.unrelated} unrelated)"
    )
    print(
        f"plan: {len(plan.changes)} changes ({plan.summary.add} add, "
        f"{plan.summary.change} change, {plan.summary.destroy} destroy)"
    )
    print(f"role catalog load (once per process): {catalog_s:.3f} s CPU")
    print(f"compute_plan:   {plan_s:.3f} s CPU")
    print(f"to_json:        {json_s:.3f} s CPU ({len(text) / 1e6:.1f} MB)")
    print(f"from_json:      {read_s:.3f} s CPU")
    print(f"render_text:    {text_s:.3f} s CPU")
    print(f"render_markdown:{md_s:.3f} s CPU")


if __name__ == "__main__":
    main()
