"""read_live's parallel, sifted read through the real SDK: the same LiveState as one worker."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from azure.identity import ManagedIdentityCredential
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.msi.v2024_11_30.models import Identity

from identity_reconciler.azure.clients import connect_emulator
from identity_reconciler.azure.errors import ArmRequestError
from identity_reconciler.azure.reader import read_live
from identity_reconciler.core import armid, ownership
from identity_reconciler.core.live import LiveState
from identity_reconciler.core.state import (
    DesiredGrant,
    DesiredIdentity,
    DesiredState,
    PrincipalKind,
    PrincipalRef,
)
from local_azure.api import RunningEmulator

SUBS = ("11111111-1111-1111-1111-111111111111", "33333333-3333-3333-3333-333333333333")
RG = "rg-par"
MSI = "providers/Microsoft.ManagedIdentity/userAssignedIdentities"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
KV_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
OWNED = {ownership.OWNER_TAG: ownership.OWNER_TAG_VALUE}
KINDS = ("User", "Group", "ServicePrincipal")
# Principals of the directory that are not our identities: the orphan's (an owned name for a
# principal the specs no longer know), and strangers'.
ORPHANS = [str(uuid.UUID(int=0x0E0 + n, version=4)) for n in range(len(SUBS))]
STRANGERS = [str(uuid.UUID(int=0x5E0 + k, version=4)) for k in range(6 * len(SUBS))]


def _role(guid: str) -> str:
    return f"/providers/Microsoft.Authorization/roleDefinitions/{guid}"


def _grant(auth: Any, scope: str, name: str, guid: str, pid: str, ptype: str,
           description: str | None = None) -> None:  # fmt: skip
    auth.role_assignments.create(scope, name, RoleAssignmentCreateParameters(
        role_definition_id=_role(guid), principal_id=pid, principal_type=ptype,
        description=description))  # fmt: skip


def build(emu: RunningEmulator, identity_env: Callable[[RunningEmulator], None]) -> DesiredState:
    """Two subscriptions, each with specified, owned and foreign identities and grants: ours
    (marker), ours without the marker (found by name), an owned name for a principal no longer
    known (an orphan), and unrelated users' and service principals' grants."""
    identity_env(emu)
    cred = ManagedIdentityCredential(connection_verify=emu.info.ca_bundle)
    kw = emu.sdk_kwargs()
    identities: dict[str, DesiredIdentity] = {}
    grants: dict[tuple[str, str, str], DesiredGrant] = {}
    for n, sub in enumerate(SUBS):
        msi = ManagedServiceIdentityClient(cred, sub, **kw)
        auth = AuthorizationManagementClient(cred, sub, **kw)
        rg_id = f"/subscriptions/{sub}/resourceGroups/{RG}"
        for i in range(3):
            name = f"id-par{n}{i}"
            made = msi.user_assigned_identities.create_or_update(
                RG, name, Identity(location="uksouth", tags=OWNED)
            )
            iid = f"{rg_id}/{MSI}/{name}"
            if i < 2:  # the third is owned, not in the specs
                identities[armid.key(iid)] = DesiredIdentity(iid, sub, RG, name, "uksouth", OWNED)
                g = DesiredGrant(
                    PrincipalRef(PrincipalKind.USER_ASSIGNED, iid), rg_id, READER, "Reader"
                )
                grants[g.key] = g
            pid = str(made.principal_id)
            owned = ownership.assignment_name(rg_id, READER, pid)
            _grant(
                auth,
                rg_id,
                owned,
                READER,
                pid,
                "ServicePrincipal",
                ownership.with_marker(None) if i == 0 else "edited by hand",
            )
        orphan = ORPHANS[n]
        _grant(
            auth,
            rg_id,
            ownership.assignment_name(rg_id, KV_SECRETS_USER, orphan),
            KV_SECRETS_USER,
            orphan,
            "ServicePrincipal",
        )
        for k in range(6):
            _grant(auth, rg_id, str(uuid.uuid4()), READER, STRANGERS[6 * n + k], KINDS[k % 3])
    return DesiredState(subscriptions=SUBS, identities=identities, grants=grants)


@pytest.fixture
def estate(
    fresh_emulator: Callable[..., RunningEmulator],
    identity_env: Callable[[RunningEmulator], None],
) -> tuple[RunningEmulator, DesiredState]:
    emu = fresh_emulator(world={
        "tenant_id": "22222222-2222-2222-2222-222222222222",
        "operator": {"object_id": "5c0b2f9e-7d4a-4c61-9a8e-3f1d6b2e9a70",
                     "app_id": "8f3e1a27-2b6c-4d95-a0e4-6c7b9d1f2e35",
                     "display_name": "operator",
                     "roles": [{"role": "Owner", "scope": f"/subscriptions/{s}"} for s in SUBS]},
        "subscriptions": [{"id": s, "display_name": s[:4], "resource_groups": [
            {"name": RG, "location": "uksouth", "tags": {}, "resources": []}]} for s in SUBS],
        "principals": [{"object_id": o, "kind": "ServicePrincipal", "display_name": "gone"}
                       for o in ORPHANS]
                      + [{"object_id": p, "kind": KINDS[k % 3], "display_name": f"p{k}"}
                         for k, p in enumerate(STRANGERS)],
    })  # fmt: skip
    return emu, build(emu, identity_env)


def _same(a: LiveState, b: LiveState) -> None:
    assert a.identities == b.identities
    assert a.grants == b.grants
    assert a.resources == b.resources
    assert a.principals == b.principals


def test_parallel_pages_give_the_state_one_worker_reads(
    estate: tuple[RunningEmulator, DesiredState],
) -> None:
    emu, desired = estate
    emu.configure(page_size=2)  # many pages per list, fetched by workers side by side
    with connect_emulator(emu.info) as session:
        one = read_live(session, desired, parallelism=1)
        many = read_live(session, desired, parallelism=16)
    _same(one, many)
    names = {g.name for g in many.grants.values()}
    # per subscription: 3 owned-by-name grants (marker, edited, owned-not-specified) and
    # the orphan; none of the 6 strangers' grants
    assert len(many.grants) == 2 * 4
    for sub in SUBS:
        rg_id = f"/subscriptions/{sub}/resourceGroups/{RG}"
        orphans = [g for g in many.grants.values() if g.role_definition_guid == KV_SECRETS_USER
                   and armid.key(g.scope) == armid.key(rg_id)]  # fmt: skip
        assert len(orphans) == 1
        assert orphans[0].principal_id not in many.principals
    assert all(ownership.may_be_owned_name(n) for n in names)
    emu.configure(page_size=1000)
    with connect_emulator(emu.info) as session:
        _same(read_live(session, desired), many)


def test_a_failed_list_fails_the_read_without_hanging_the_sifting_workers(
    estate: tuple[RunningEmulator, DesiredState],
) -> None:
    """The grant workers wait for the identity lists; when one of those fails they must stop
    too, or the reader's pool never shuts down."""
    emu, desired = estate
    missing = "44444444-4444-4444-4444-444444444444"
    bad = DesiredState(subscriptions=(*SUBS, missing), identities=desired.identities,
                       grants=desired.grants)  # fmt: skip
    outcome: list[BaseException | LiveState] = []

    def run() -> None:
        with connect_emulator(emu.info, retries=0) as session:
            try:
                outcome.append(read_live(session, bad, parallelism=2))
            except BaseException as exc:
                outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), "read_live hung after a failed list"
    assert len(outcome) == 1
    assert isinstance(outcome[0], ArmRequestError)
