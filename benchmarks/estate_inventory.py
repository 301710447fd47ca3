"""What audit, export and drift cost on an estate of N identities: ARM requests and seconds.

Audit and export read whole subscriptions, so their cost must grow with the pages ARM returns,
not with the objects: one list of identities, one of resources, one of role assignments per
subscription. Export adds one credential list per identity (ARM has no bulk list). Drift reads
what the specs name, like plan.

Setup: the embedded emulator (in memory), N user-assigned identities owned by
identity-reconciler in one resource group, each with a federated credential and two grants;
every tenth attached to the App Service. Printed per step: requests, seconds, and for drift on
the exported specs the number of differences (target 0: the round trip is exact). With
`--flexible` every credential matches a claims expression instead of a subject: such a
credential is read again at 2025-01-31-preview, one more list per identity that has one.

    python benchmarks/estate_inventory.py [--identities 500] [--flexible]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from identity_reconciler.apply import ApplyOptions
from identity_reconciler.azure.clients import Session, connect_emulator
from identity_reconciler.azure.inventory import EstateScope, read_estate
from identity_reconciler.azure.reader import read_live
from identity_reconciler.core import armid, ownership
from identity_reconciler.core.state import (
    ClaimsExpression,
    DesiredGrant,
    DesiredIdentity,
    DesiredResourceIdentity,
    DesiredState,
    FederatedCredential,
    PrincipalKind,
    PrincipalRef,
)
from identity_reconciler.plan import compute_plan
from identity_reconciler.plan.audit import Naming, audit
from identity_reconciler.plan.drift import drift_report
from identity_reconciler.reconcile.live import apply_live, plan_live
from identity_reconciler.spec import validate
from identity_reconciler.spec.export import export_specs
from identity_reconciler.spec.naming import naming_regex
from local_azure.api import start

SUB = "11111111-1111-1111-1111-111111111111"
RG = "rg-myapp-prod-uks-01"
RG_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}"
KV = f"{RG_ID}/providers/Microsoft.KeyVault/vaults/kv-myapp-prod-uks-01"
SITE = f"{RG_ID}/providers/Microsoft.Web/sites/app-myapp-prod-uks-01"
KV_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
_T = TypeVar("_T")


def credential(i: int, flexible: bool) -> FederatedCredential:
    issuer = "https://token.actions.githubusercontent.com"
    if not flexible:
        subject = f"repo:contoso/app{i:04d}:ref:refs/heads/main"
        return FederatedCredential("github-main", issuer, subject)
    expression = (
        f"claims['sub'] matches 'repo:contoso/app{i:04d}:ref:refs/heads/*' and "
        f"claims['repository_id'] eq '{100000 + i}'"
    )
    return FederatedCredential(
        "github-main", issuer, None, claims_matching_expression=ClaimsExpression(expression)
    )


def seeded(count: int, flexible: bool = False) -> DesiredState:
    """N identities, each with a credential and two grants; every tenth attached to the site."""
    state = DesiredState(subscriptions=(SUB,))
    ids = []
    for i in range(count):
        name = f"id-app{i:04d}-prod-uks-01"
        iid = armid.identity_id(SUB, RG, name)
        ids.append(iid)
        state.identities[armid.key(iid)] = DesiredIdentity(
            id=iid, subscription_id=SUB, resource_group=RG, name=name, location="uksouth",
            tags={"app": f"app{i:04d}", ownership.OWNER_TAG: ownership.OWNER_TAG_VALUE},
            federated_credentials=(credential(i, flexible),),
        )
        principal = PrincipalRef(PrincipalKind.USER_ASSIGNED, iid)
        for scope, role in ((KV, KV_SECRETS_USER), (RG_ID, READER)):
            grant = DesiredGrant(principal, scope, role, role)
            state.grants[grant.key] = grant
    state.resources[armid.key(SITE)] = DesiredResourceIdentity(
        SITE, "Microsoft.Web/sites", user_assigned=tuple(ids[::10])
    )
    return state


def seed(session: Session, count: int, flexible: bool) -> None:
    """Through apply's one path: plan, then apply (8 writes in flight)."""
    plan = plan_live(session, seeded(count, flexible)).plan
    result = apply_live(session, plan, options=ApplyOptions(parallelism=8))
    if not result.ok:
        raise SystemExit(f"seeding failed: {len(result.failed)} change(s)")


def step(label: str, session: Session, fn: Callable[[], _T]) -> _T:
    before, started = session.requests, time.monotonic()
    result = fn()
    took = time.monotonic() - started
    print(f"{label:<44} {session.requests - before:>6} requests {took:>7.2f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--identities", type=int, default=500)
    parser.add_argument("--flexible", action="store_true", help="claims expressions, no subjects")
    args = parser.parse_args()
    emu = start()
    try:
        session = connect_emulator(emu.info)
        step(f"seed {args.identities} identities (setup)", session,
             lambda: seed(session, args.identities, args.flexible))
        scope = EstateScope((SUB,))
        live = step("audit read (identities, resources, grants)", session,
                    lambda: read_estate(session, scope))
        regex = naming_regex("id-{app}-{env}-{location}-{instance}")
        naming = Naming("id-{app}-{env}-{location}-{instance}", lambda n: bool(regex.match(n)))
        started = time.monotonic()
        report = audit(live, subscriptions=[SUB], naming=naming)
        print(f"{'audit rules':<44} {'':>6}          {time.monotonic() - started:>7.2f} s"
              f"   ({len(report.findings)} findings)")
        full = step("export read (+ one credential list each)", session,
                    lambda: read_estate(session, scope, credentials=True))
        with tempfile.TemporaryDirectory() as tmp:
            started = time.monotonic()
            exported = export_specs(full, subscription_ids=[SUB])
            paths = []
            for f in exported.files:
                path = Path(tmp) / f.name
                path.write_text(f.text)
                paths.append(path)
            result = validate(paths)
            print(f"{'export + validate the specs':<44} {'':>6}          "
                  f"{time.monotonic() - started:>7.2f} s   (valid: {result.ok})")
            desired = result.desired
            assert desired is not None
            state = step("drift read on the exported specs", session,
                         lambda: read_live(session, desired))
            plan = compute_plan(desired, state)
            drift = drift_report(plan, desired, state)
            print(f"{'drift differences (target 0)':<44} {len(drift.items):>6}")
    finally:
        emu.stop()


if __name__ == "__main__":
    main()
