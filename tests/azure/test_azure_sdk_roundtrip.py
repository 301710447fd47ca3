"""Writes through apply's one path (plan → `azure/execute.py`), read back by the reader: what
apply wrote is exactly what a later read sees, so planning again finds nothing to do."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

import pytest

from identity_reconciler.azure import errors, execute
from identity_reconciler.azure.clients import Session, connect_emulator
from identity_reconciler.azure.reader import read_live, read_resource
from identity_reconciler.core import armid, ownership
from identity_reconciler.core.live import LiveState
from identity_reconciler.core.state import (
    DesiredGrant,
    DesiredIdentity,
    DesiredResourceIdentity,
    DesiredState,
    FederatedCredential,
    PrincipalKind,
    PrincipalRef,
)
from identity_reconciler.plan import Plan
from identity_reconciler.plan.model import Operation
from identity_reconciler.reconcile.live import apply_live, plan_live
from local_azure.api import RunningEmulator

SUB = "11111111-1111-1111-1111-111111111111"
RG = "rg-myapp-prod-uks-01"
RG_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}"
ID_W = f"{RG_ID}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-writer"
FUNC = f"{RG_ID}/providers/Microsoft.Web/sites/func-myapp-prod-uks-01"
CAPP = f"{RG_ID}/providers/Microsoft.App/containerApps/ca-myapp-prod-uks-01"
KV = f"{RG_ID}/providers/Microsoft.KeyVault/vaults/kv-myapp-prod-uks-01"
KV_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
FIC = FederatedCredential(
    "gh-main", "https://token.actions.githubusercontent.com", "repo:o/r:ref:refs/heads/main"
)


@pytest.fixture
def session(fresh_emulator: Callable[..., RunningEmulator]) -> Iterator[Session]:
    with connect_emulator(fresh_emulator().info) as s:
        yield s


OWNED = {ownership.OWNER_TAG: ownership.OWNER_TAG_VALUE}  # as the specs add it


def identity(**changes: object) -> DesiredIdentity:
    ident = DesiredIdentity(ID_W, SUB, RG, "id-writer", "uksouth", {"app": "w", **OWNED})
    return dataclasses.replace(ident, **changes)  # type: ignore[arg-type]


def desired(*parts: DesiredIdentity | DesiredResourceIdentity | DesiredGrant) -> DesiredState:
    state = DesiredState(subscriptions=(SUB,))
    for part in parts:
        if isinstance(part, DesiredIdentity):
            state.identities[armid.key(part.id)] = part
        elif isinstance(part, DesiredResourceIdentity):
            state.resources[armid.key(part.resource_id)] = part
        else:
            state.grants[part.key] = part
    return state


def converge(session: Session, state: DesiredState) -> tuple[Plan, LiveState]:
    """Plan and apply; then the live state read back, which must need no further change."""
    plan = plan_live(session, state).plan
    assert not plan.has_errors, plan.errors
    result = apply_live(session, plan)
    assert result.ok, result.failed
    again, live = plan_live(session, state)
    assert not again.has_changes, [c.address for c in again.changes]
    return plan, live


def test_identity_round_trip(session: Session) -> None:
    plan, live = converge(session, desired(identity()))
    assert [c.actions for c in plan.changes] == [("create",)]
    created = live.identities[armid.key(ID_W)]
    assert created.principal_id
    assert created.client_id
    assert ownership.is_owned_identity(created.tags)
    plan, live = converge(session, desired(identity(tags={"app": "w", "env": "prod", **OWNED})))
    assert [c.actions for c in plan.changes] == [("update",)]
    updated = live.identities[armid.key(ID_W)]
    assert updated.tags["env"] == "prod"
    assert updated.principal_id == created.principal_id
    assert updated.fingerprint != created.fingerprint


def test_federated_credentials(session: Session) -> None:
    _, live = converge(session, desired(identity(federated_credentials=(FIC,))))
    (read,) = live.identities[armid.key(ID_W)].federated_credentials or ()
    assert (read.name, read.issuer, read.subject, read.audiences) == (
        FIC.name, FIC.issuer, FIC.subject, FIC.audiences)


def test_identity_blocks(session: Session) -> None:
    func = DesiredResourceIdentity(FUNC, "Microsoft.Web/sites", system_assigned=True)
    capp = DesiredResourceIdentity(
        CAPP, "Microsoft.App/containerApps", system_assigned=True, user_assigned=(ID_W,)
    )
    _, live = converge(session, desired(identity(), func, capp))
    on = live.resources[armid.key(FUNC)]
    assert on.identity_type == "SystemAssigned"
    assert on.system_principal_id
    attached = live.resources[armid.key(CAPP)]
    assert attached.identity_type == "SystemAssigned,UserAssigned"  # the provider's spelling
    principal = live.identities[armid.key(ID_W)].principal_id
    assert attached.user_assigned[armid.key(ID_W)].principal_id == principal


def test_grant_round_trip(session: Session) -> None:
    grant = DesiredGrant(PrincipalRef(PrincipalKind.USER_ASSIGNED, ID_W), KV.lower(),
                         KV_SECRETS_USER, "Key Vault Secrets User", description="app secrets")
    _, live = converge(session, desired(identity(), grant))
    (written,) = live.grants.values()
    principal = live.identities[armid.key(ID_W)].principal_id
    assert written.name == ownership.assignment_name(KV, KV_SECRETS_USER, principal)
    assert armid.key(written.scope) == armid.key(KV)
    assert written.principal_type == "ServicePrincipal"
    assert written.description == f"app secrets {ownership.DESCRIPTION_MARKER}"


def test_management_group_grants_are_read_at_their_scope(session: Session) -> None:
    mg = "/providers/Microsoft.Management/managementGroups/mg-platform"
    grant = DesiredGrant(PrincipalRef(PrincipalKind.USER_ASSIGNED, ID_W), mg,
                         KV_SECRETS_USER, "Key Vault Secrets User")
    state = desired(identity(), grant)
    _, live = converge(session, state)
    (written,) = live.grants.values()
    assert written.scope == mg
    session.counter.reset()
    again = read_live(session, state)
    assert again.grants == {armid.key(written.id): written}
    # identities, the subscription's assignments, the group's atScope() list; no credential
    # list: the spec does not manage this identity's credentials
    assert again.requests == 3


def test_a_system_assigned_switch_can_keep_identities_but_never_attach_one(
    session: Session,
) -> None:
    """A re-sealed plan could make a system-assigned switch name any identity; apply checks at
    write time that each one it names is attached already, so the switch never attaches."""
    ident = f"{RG_ID}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-sneak-01"
    execute.run_operation(
        session, "identity", Operation(method="PUT", id=ident, body={"location": "uksouth"})
    )
    switch = Operation(
        method="PATCH",
        id=FUNC,
        body={"identity": {"type": "SystemAssigned, UserAssigned",
                           "userAssignedIdentities": {ident: {}}}},
    )
    with pytest.raises(errors.ArmRequestError, match="never attach one"):
        execute.run_operation(session, "system_assigned", switch)
    live = read_resource(session, FUNC, "Microsoft.Web/sites")
    assert not live.user_assigned  # nothing was written
    attach = Operation(
        method="PATCH",
        id=FUNC,
        body={"identity": {"type": "UserAssigned", "userAssignedIdentities": {ident: {}}}},
    )
    execute.run_operation(session, "attachment", attach)
    result = execute.run_operation(session, "system_assigned", switch)  # keeps it: fine
    assert result.principal_id
