"""read_live through the real SDK against the emulator: bulk lists, relevance, normalisation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from azure.identity import ManagedIdentityCredential
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.msi.v2024_11_30.models import FederatedIdentityCredential, Identity
from azure.mgmt.resource.resources import ResourceManagementClient

from identity_reconciler.azure.clients import connect_emulator
from identity_reconciler.azure.reader import read_live
from identity_reconciler.core import armid, ownership
from identity_reconciler.core.live import (
    AttachedIdentity,
    LiveFederatedCredential,
    LiveGrant,
    LiveIdentity,
    LiveResourceIdentity,
)
from identity_reconciler.core.state import (
    DesiredGrant,
    DesiredIdentity,
    DesiredResourceIdentity,
    DesiredState,
    FederatedCredential,
    PrincipalKind,
    PrincipalRef,
)
from local_azure.api import RunningEmulator

SUB = "11111111-1111-1111-1111-111111111111"
TENANT = "22222222-2222-2222-2222-222222222222"
RG = "rg-myapp-prod-uks-01"
RG_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}"
LOWER_RG_ID = f"/subscriptions/{SUB}/resourcegroups/{RG}"
MSI = "providers/Microsoft.ManagedIdentity/userAssignedIdentities"
ID_APP = f"{RG_ID}/{MSI}/id-app"
ID_OLD = f"{RG_ID}/{MSI}/id-old"
ID_OTHER = f"{RG_ID}/{MSI}/id-other"
SITE = f"{RG_ID}/providers/Microsoft.Web/sites/app-myapp-prod-uks-01"
FUNC = f"{RG_ID}/providers/Microsoft.Web/sites/func-myapp-prod-uks-01"
CAPP = f"{RG_ID}/providers/Microsoft.App/containerApps/ca-myapp-prod-uks-01"
GONE = f"{RG_ID}/providers/Microsoft.Web/sites/app-not-there"
KV = f"{RG_ID}/providers/Microsoft.KeyVault/vaults/kv-myapp-prod-uks-01"
KV_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
ADA = "a1f4c2d8-3e5b-4a79-8c61-0d2e9f7b4c13"  # a user of the default world
OWNED = {ownership.OWNER_TAG: ownership.OWNER_TAG_VALUE}


def sdk(emu: RunningEmulator, identity_env: Callable[[RunningEmulator], None]) -> dict[str, Any]:
    identity_env(emu)
    cred = ManagedIdentityCredential(connection_verify=emu.info.ca_bundle)
    kw = emu.sdk_kwargs()
    return {
        "msi": ManagedServiceIdentityClient(cred, SUB, **kw),
        "auth": AuthorizationManagementClient(cred, SUB, **kw),
        "res": ResourceManagementClient(cred, SUB, **kw),
    }


def build_estate(c: dict[str, Any]) -> dict[str, str]:
    """Objects made directly through the SDK, in Azure's own spellings."""
    msi, auth, res = c["msi"], c["auth"], c["res"]
    ident = msi.user_assigned_identities.create_or_update(
        RG, "id-app", Identity(location="UK South", tags={"z": "1", **OWNED, "a": "2"})
    )
    old = msi.user_assigned_identities.create_or_update(
        RG, "id-old", Identity(location="uksouth", tags=OWNED)
    )
    msi.user_assigned_identities.create_or_update(RG, "id-other", Identity(location="uksouth"))
    msi.federated_identity_credentials.create_or_update(
        RG, "id-app", "github-main",
        FederatedIdentityCredential(issuer="https://token.actions.githubusercontent.com",
                                    subject="repo:contoso/myapp:ref:refs/heads/main",
                                    audiences=["api://AzureADTokenExchange"]),
    )
    lower_ident = ID_APP.replace("resourceGroups", "resourcegroups")
    site = res.resources.begin_update_by_id(
        SITE.replace("resourceGroups", "resourcegroups"),
        {"identity": {"type": "SystemAssigned, UserAssigned",
                      "userAssignedIdentities": {lower_ident: {}}}},
        api_version="2024-11-01",
    ).result()
    capp = res.resources.begin_update_by_id(
        CAPP,
        {"identity": {"type": "SystemAssigned,UserAssigned",
                      "userAssignedIdentities": {ID_APP: {}}}},
        api_version="2024-03-01",
    ).result()
    pid = ident.principal_id
    owned_name = ownership.assignment_name(KV, KV_SECRETS_USER, pid)
    auth.role_assignments.create(
        KV.replace("resourceGroups", "resourcegroups"), owned_name,
        RoleAssignmentCreateParameters(
            role_definition_id=f"/subscriptions/{SUB}/providers/Microsoft.Authorization/"
                               f"roleDefinitions/{KV_SECRETS_USER}",
            principal_id=pid, principal_type="ServicePrincipal",
            description=ownership.with_marker(None)),
    )
    # A grant nobody asked for, for our identity, under a random name (found by principal).
    auth.role_assignments.create(
        RG_ID, "0b2c6a7e-3c39-4c0e-9a57-2f6b1f0f9b10",
        RoleAssignmentCreateParameters(
            role_definition_id=f"/providers/Microsoft.Authorization/roleDefinitions/{READER}",
            principal_id=pid, principal_type="ServicePrincipal"),
    )
    return {
        "pid": pid, "cid": ident.client_id, "old_pid": old.principal_id,
        "old_cid": old.client_id, "owned_name": owned_name,
        "site_pid": site.identity.principal_id, "capp_pid": capp.identity.principal_id,
    }


def desired() -> DesiredState:
    ident = DesiredIdentity(
        ID_APP, SUB, RG, "id-app", "uksouth", {**OWNED, "a": "2", "z": "1"},
        federated_credentials=(FederatedCredential(
            "github-main", "https://token.actions.githubusercontent.com",
            "repo:contoso/myapp:ref:refs/heads/main"),),
    )
    grant = DesiredGrant(PrincipalRef(PrincipalKind.USER_ASSIGNED, ID_APP), KV,
                         KV_SECRETS_USER, "Key Vault Secrets User")
    return DesiredState(
        subscriptions=(SUB,),
        identities={armid.key(ID_APP): ident},
        resources={
            armid.key(r.resource_id): r
            for r in (
                DesiredResourceIdentity(SITE, "Microsoft.Web/sites", True, (ID_APP,)),
                DesiredResourceIdentity(CAPP, "Microsoft.App/containerApps", None, (ID_APP,)),
                DesiredResourceIdentity(GONE, "Microsoft.Web/sites", True),
            )
        },
        grants={grant.key: grant},
    )


@pytest.fixture
def estate(
    fresh_emulator: Callable[..., RunningEmulator],
    identity_env: Callable[[RunningEmulator], None],
) -> tuple[RunningEmulator, dict[str, str]]:
    emu = fresh_emulator()
    return emu, build_estate(sdk(emu, identity_env))


def test_read_live_builds_the_normalised_state(
    estate: tuple[RunningEmulator, dict[str, str]],
) -> None:
    emu, e = estate
    with connect_emulator(emu.info) as session:
        live = read_live(session, desired())
        by_method = session.counter.by_method()

    fic = LiveFederatedCredential(
        f"{ID_APP}/federatedIdentityCredentials/github-main", "github-main",
        "https://token.actions.githubusercontent.com", "repo:contoso/myapp:ref:refs/heads/main",
        ("api://AzureADTokenExchange",))
    assert live.identities == {
        armid.key(ID_APP): LiveIdentity(
            ID_APP, SUB, RG, "id-app", "uksouth", {"a": "2", **OWNED, "z": "1"}, None,
            e["pid"], e["cid"], TENANT, (fic,)),
        # owned but no longer in the specs: a deletion candidate, credentials not needed
        armid.key(ID_OLD): LiveIdentity(
            ID_OLD, SUB, RG, "id-old", "uksouth", OWNED, None, e["old_pid"], e["old_cid"],
            TENANT, None),
    }
    attached = {armid.key(ID_APP): AttachedIdentity(ID_APP, e["pid"], e["cid"])}
    assert live.resources == {
        armid.key(SITE): LiveResourceIdentity(
            SITE, "Microsoft.Web/sites", True, "SystemAssigned, UserAssigned", e["site_pid"],
            attached),
        armid.key(CAPP): LiveResourceIdentity(
            CAPP, "Microsoft.App/containerApps", True, "SystemAssigned,UserAssigned",
            e["capp_pid"], attached),
        armid.key(GONE): LiveResourceIdentity(GONE, "Microsoft.Web/sites", exists=False),
    }
    role_path = "/providers/Microsoft.Authorization/roleDefinitions/"
    owned_id = f"{KV}/providers/Microsoft.Authorization/roleAssignments/{e['owned_name']}"
    stray = "0b2c6a7e-3c39-4c0e-9a57-2f6b1f0f9b10"
    stray_id = f"{RG_ID}/providers/Microsoft.Authorization/roleAssignments/{stray}"
    assert live.grants == {
        armid.key(owned_id): LiveGrant(
            owned_id, e["owned_name"], KV, role_path + KV_SECRETS_USER, KV_SECRETS_USER,
            e["pid"], "ServicePrincipal", description=ownership.DESCRIPTION_MARKER),
        armid.key(stray_id): LiveGrant(
            stray_id, stray, RG_ID, role_path + READER, READER, e["pid"], "ServicePrincipal"),
    }  # the world's Reader grant for a user (not ours, not our principal) is left out
    # every identity principal listed (the unowned ones too): the evidence for orphans
    assert {e["pid"], e["old_pid"], e["site_pid"], e["capp_pid"]} < live.principals
    assert live.principals_complete
    assert live.tenant_id == TENANT
    # 1 identity list + 1 role-assignment list + 3 resource GETs + 1 credential list
    assert live.requests == 6
    assert by_method == {"GET": 6}


def test_paged_lists_follow_next_links(estate: tuple[RunningEmulator, dict[str, str]]) -> None:
    emu, _ = estate
    with connect_emulator(emu.info) as session:
        whole = read_live(session, desired())
        emu.configure(page_size=1)
        paged = read_live(session, desired())
    assert paged.identities == whole.identities
    assert paged.grants == whole.grants
    # One item per page: 3 identities, 4 assignments in the subscription (the operator's
    # Owner, the world's Reader, ours, the stray); 3 identity blocks and 1 credential list.
    assert (whole.requests, paged.requests) == (6, 3 + 4 + 3 + 1)
