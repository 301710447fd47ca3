"""Writer round trips through the SDK: each write answers what a later read sees, exactly."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from identity_reconciler.azure import writer
from identity_reconciler.azure.clients import Session, connect_emulator
from identity_reconciler.azure.reader import read_live
from identity_reconciler.core import armid, ownership
from identity_reconciler.core.state import (
    DesiredGrant,
    DesiredIdentity,
    DesiredState,
    FederatedCredential,
    PrincipalKind,
    PrincipalRef,
)
from local_azure.api import RunningEmulator

SUB = "11111111-1111-1111-1111-111111111111"
RG = "rg-myapp-prod-uks-01"
RG_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}"
ID_W = f"{RG_ID}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-writer"
SITE = f"{RG_ID}/providers/Microsoft.Web/sites/app-myapp-prod-uks-01"
FUNC = f"{RG_ID}/providers/Microsoft.Web/sites/func-myapp-prod-uks-01"
CAPP = f"{RG_ID}/providers/Microsoft.App/containerApps/ca-myapp-prod-uks-01"
KV = f"{RG_ID}/providers/Microsoft.KeyVault/vaults/kv-myapp-prod-uks-01"
KV_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"


@pytest.fixture(scope="module")
def session() -> Iterator[Session]:
    # One emulator for this module's sequence of writes (module scope: fresh_emulator is not).
    from local_azure.api import running

    with running() as emu, connect_emulator(emu.info) as s:
        yield s


def desired_identity(**tags: str) -> DesiredIdentity:
    return DesiredIdentity(ID_W, SUB, RG, "id-writer", "uksouth", {"app": "w", **tags})


def test_identity_round_trip(session: Session) -> None:
    created = writer.create_or_update_identity(session, desired_identity())
    assert created.principal_id
    assert created.client_id
    assert ownership.is_owned_identity(created.tags)  # the ownership tag is always written
    again = writer.create_or_update_identity(session, desired_identity())
    assert again == created  # idempotent: same principal, same object
    fetched = writer.get_identity(session, ID_W)
    assert fetched is not None
    assert fetched.fingerprint == created.fingerprint
    listed = read_live(session, DesiredState(subscriptions=(SUB,))).identities[armid.key(ID_W)]
    assert listed.fingerprint == created.fingerprint
    updated = writer.create_or_update_identity(session, desired_identity(env="prod"))
    assert updated.tags["env"] == "prod"
    assert updated.principal_id == created.principal_id
    assert updated.fingerprint != created.fingerprint


def test_federated_credentials(session: Session) -> None:
    writer.create_or_update_identity(session, desired_identity())
    fic = FederatedCredential("gh-main", "https://token.actions.githubusercontent.com",
                              "repo:o/r:ref:refs/heads/main")
    live = writer.put_federated_credential(session, ID_W, fic)
    assert (live.name, live.issuer, live.subject, live.audiences) == (
        fic.name, fic.issuer, fic.subject, fic.audiences)
    read = writer.get_identity(session, ID_W, with_credentials=True)
    assert read is not None
    assert read.federated_credentials == (live,)
    writer.delete_federated_credential(session, ID_W, "gh-main")
    writer.delete_federated_credential(session, ID_W, "gh-main")  # already gone: fine
    read = writer.get_identity(session, ID_W, with_credentials=True)
    assert read is not None
    assert read.federated_credentials == ()


def test_identity_blocks(session: Session) -> None:
    ident = writer.create_or_update_identity(session, desired_identity())
    on = writer.set_identity_block(session, FUNC, "Microsoft.Web/sites", system_assigned=True)
    assert on.identity_type == "SystemAssigned"
    assert on.system_principal_id
    assert writer.get_resource_identity(session, FUNC, "microsoft.web/SITES") == on

    attached = writer.set_identity_block(session, CAPP, "Microsoft.App/containerApps",
                                         system_assigned=True, attach=[ID_W])
    assert attached.identity_type == "SystemAssigned,UserAssigned"  # the provider's spelling
    assert attached.user_assigned[armid.key(ID_W)].principal_id == ident.principal_id
    assert writer.get_resource_identity(session, CAPP, "Microsoft.App/containerApps") == attached

    before = session.counter.by_method().get("PATCH", 0)
    same = writer.set_identity_block(session, CAPP, "Microsoft.App/containerApps",
                                     system_assigned=True, attach=[ID_W])
    assert same == attached
    assert session.counter.by_method().get("PATCH", 0) == before  # nothing to do: no write

    detached = writer.set_identity_block(session, CAPP, "Microsoft.App/containerApps",
                                         detach=[ID_W.lower()])
    assert detached.identity_type == "SystemAssigned"
    assert dict(detached.user_assigned) == {}
    assert detached.system_principal_id == attached.system_principal_id
    off = writer.set_identity_block(session, FUNC, "Microsoft.Web/sites", system_assigned=False)
    assert off.identity_type is None
    assert off.system_principal_id is None


def test_grant_round_trip(session: Session) -> None:
    ident = writer.create_or_update_identity(session, desired_identity())
    grant = DesiredGrant(PrincipalRef(PrincipalKind.USER_ASSIGNED, ID_W), KV.lower(),
                         KV_SECRETS_USER, "Key Vault Secrets User", description="app secrets")
    live = writer.put_grant(session, grant, ident.principal_id)
    assert live.name == ownership.assignment_name(KV, KV_SECRETS_USER, ident.principal_id)
    assert armid.key(live.scope) == armid.key(KV)  # ARM keeps the casing it was sent
    assert live.principal_type == "ServicePrincipal"
    assert live.description == f"app secrets {ownership.DESCRIPTION_MARKER}"
    assert writer.put_grant(session, grant, ident.principal_id) == live  # same name: idempotent
    fetched = writer.get_grant(session, live.id)
    assert fetched is not None
    assert fetched.fingerprint == live.fingerprint
    desired = DesiredState(subscriptions=(SUB,), identities={armid.key(ID_W): desired_identity()})
    listed = read_live(session, desired).grants[armid.key(live.id)]
    assert listed.fingerprint == live.fingerprint
    writer.delete_grant(session, live.id)
    writer.delete_grant(session, live.id)  # already gone: fine
    assert writer.get_grant(session, live.id) is None


def test_delete_identity_is_idempotent(session: Session) -> None:
    writer.create_or_update_identity(session, desired_identity())
    writer.delete_identity(session, ID_W)
    writer.delete_identity(session, ID_W)
    assert writer.get_identity(session, ID_W) is None


def test_counter_is_shared_and_counts_by_method(
    fresh_emulator: Callable[..., RunningEmulator],
) -> None:
    emu = fresh_emulator()
    with connect_emulator(emu.info) as s:
        writer.create_or_update_identity(s, desired_identity())
        writer.get_identity(s, ID_W)
        writer.delete_identity(s, ID_W)
        assert s.counter.by_method() == {"PUT": 1, "GET": 1, "DELETE": 1}
        assert s.requests == 3


def test_management_group_grants_are_read_at_their_scope(
    fresh_emulator: Callable[..., RunningEmulator],
) -> None:
    mg = "/providers/Microsoft.Management/managementGroups/mg-platform"
    emu = fresh_emulator()
    with connect_emulator(emu.info) as s:
        ident = writer.create_or_update_identity(s, desired_identity())
        grant = DesiredGrant(PrincipalRef(PrincipalKind.USER_ASSIGNED, ID_W), mg,
                             KV_SECRETS_USER, "Key Vault Secrets User")
        live = writer.put_grant(s, grant, ident.principal_id)
        assert live.scope == mg
        desired = DesiredState(subscriptions=(SUB,),
                               identities={armid.key(ID_W): desired_identity()},
                               grants={grant.key: grant})
        s.counter.reset()
        state = read_live(s, desired)
        assert state.grants == {armid.key(live.id): live}
        # identities, the subscription's assignments, the group's atScope() list; no credential
        # list: the spec does not manage this identity's credentials
        assert state.requests == 3
        writer.delete_grant(s, live.id)
        assert writer.get_grant(s, live.id) is None
