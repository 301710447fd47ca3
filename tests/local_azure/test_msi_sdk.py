"""Conformance of Microsoft.ManagedIdentity through the real azure-mgmt-msi client over HTTPS."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.identity import ManagedIdentityCredential
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.resource.resources import ResourceManagementClient

from local_azure.api import RunningEmulator
from local_azure.kernel import Settings

SUB = "11111111-1111-1111-1111-111111111111"
TENANT = "22222222-2222-2222-2222-222222222222"
WEB = "2024-11-01"
ISSUER = "https://token.actions.githubusercontent.com"
AUDIENCE = ["api://AzureADTokenExchange"]


def fic(subject: str) -> dict[str, Any]:
    return {"issuer": ISSUER, "subject": subject, "audiences": AUDIENCE}


@pytest.fixture
def msi(
    credential: ManagedIdentityCredential, sdk_kwargs: dict[str, Any]
) -> Iterator[ManagedServiceIdentityClient]:
    with ManagedServiceIdentityClient(credential, SUB, **sdk_kwargs) as client:
        yield client


@pytest.fixture
def group(credential: ManagedIdentityCredential, sdk_kwargs: dict[str, Any]) -> Iterator[str]:
    """A resource group of this test's own, deleted afterwards."""
    with ResourceManagementClient(credential, SUB, **sdk_kwargs) as rm:
        name = f"rg-msi-{uuid.uuid4().hex[:8]}"
        rm.resource_groups.create_or_update(name, {"location": "uksouth"})
        yield name
        rm.resource_groups.begin_delete(name).result(timeout=20)


@pytest.fixture
def own_cloud(
    fresh_emulator: Callable[..., RunningEmulator],
    identity_env: Callable[[RunningEmulator], None],
) -> Iterator[Callable[[Settings], tuple[RunningEmulator, ManagedServiceIdentityClient, str]]]:
    """An emulator with its own knobs, its msi client, and a resource group in it."""
    clients: list[Any] = []

    def make(settings: Settings) -> tuple[RunningEmulator, ManagedServiceIdentityClient, str]:
        emu = fresh_emulator(settings=settings)
        identity_env(emu)
        cred = ManagedIdentityCredential(connection_verify=emu.info.ca_bundle)
        rm = ResourceManagementClient(cred, SUB, **emu.sdk_kwargs())
        rm.resource_groups.create_or_update("rg-own", {"location": "uksouth"})
        client = ManagedServiceIdentityClient(cred, SUB, **emu.sdk_kwargs())
        clients.extend([rm, client, cred])
        return emu, client, "rg-own"

    yield make
    for c in reversed(clients):
        c.close()


def test_identity_lifecycle(msi: ManagedServiceIdentityClient, group: str) -> None:
    created = msi.user_assigned_identities.create_or_update(
        group, "id-life", {"location": "uksouth", "tags": {"env": "prod"}}
    )
    assert created.id == (
        f"/subscriptions/{SUB}/resourcegroups/{group}/providers/Microsoft.ManagedIdentity"
        "/userAssignedIdentities/id-life"
    )
    assert created.type == "Microsoft.ManagedIdentity/userAssignedIdentities"
    assert created.tenant_id == TENANT
    assert created.principal_id
    assert created.client_id
    assert created.isolation_scope == "None"
    got = msi.user_assigned_identities.get(group, "id-life")
    assert got.as_dict() == created.as_dict()

    again = msi.user_assigned_identities.create_or_update(
        group, "id-life", {"location": "uksouth", "tags": {"env": "test"}}
    )
    assert again.principal_id == created.principal_id
    assert again.tags == {"env": "test"}
    patched = msi.user_assigned_identities.update(
        group, "id-life", {"tags": {"owner": "platform"}, "isolation_scope": "Regional"}
    )
    assert patched.tags == {"owner": "platform"}
    assert patched.isolation_scope == "Regional"
    assert "id-life" in [i.name for i in msi.user_assigned_identities.list_by_resource_group(group)]
    assert created.id in [i.id for i in msi.user_assigned_identities.list_by_subscription()]

    msi.user_assigned_identities.delete(group, "id-life")
    msi.user_assigned_identities.delete(group, "id-life")  # 204 when absent
    with pytest.raises(ResourceNotFoundError) as missing:
        msi.user_assigned_identities.get(group, "id-life")
    assert missing.value.error is not None
    assert missing.value.error.code == "ResourceNotFound"


@pytest.mark.parametrize(
    ("name", "body", "code"),
    [
        ("no", {"location": "uksouth"}, "InvalidResourceName"),
        ("id.dots", {"location": "uksouth"}, "InvalidResourceName"),
        ("id-noloc", {"tags": {}}, "LocationRequired"),
        ("id-mars", {"location": "marsnorth"}, "LocationNotAvailableForResourceType"),
    ],
)
def test_identity_validation(
    msi: ManagedServiceIdentityClient, group: str, name: str, body: dict[str, Any], code: str
) -> None:
    with pytest.raises(HttpResponseError) as err:
        msi.user_assigned_identities.create_or_update(group, name, body)
    assert err.value.status_code == 400
    assert err.value.error is not None
    assert err.value.error.code == code


def test_identity_location_is_immutable(msi: ManagedServiceIdentityClient, group: str) -> None:
    msi.user_assigned_identities.create_or_update(group, "id-where", {"location": "uksouth"})
    with pytest.raises(HttpResponseError) as err:
        msi.user_assigned_identities.create_or_update(group, "id-where", {"location": "ukwest"})
    assert err.value.error is not None
    assert err.value.error.code == "InvalidResourceLocation"


def test_missing_resource_group(msi: ManagedServiceIdentityClient) -> None:
    with pytest.raises(ResourceNotFoundError) as err:
        msi.user_assigned_identities.create_or_update(
            "rg-does-not-exist", "id-x", {"location": "uksouth"}
        )
    assert err.value.error is not None
    assert err.value.error.code == "ResourceGroupNotFound"


def test_lists_page_across_next_links(own_cloud: Any) -> None:
    emu, msi, rg = own_cloud(Settings(page_size=2))
    names = [f"id-page-{i}" for i in range(5)]
    for name in names:
        msi.user_assigned_identities.create_or_update(rg, name, {"location": "uksouth"})
    emu.reset_stats()
    assert [i.name for i in msi.user_assigned_identities.list_by_resource_group(rg)] == names
    assert [i.name for i in msi.user_assigned_identities.list_by_subscription()] == names
    routes = emu.stats()["by_route"]
    assert routes["msi.identities.listByResourceGroup"] == 3
    assert routes["msi.identities.listBySubscription"] == 3
    msi.user_assigned_identities.create_or_update(rg, "id-fic-page", {"location": "uksouth"})
    for i in range(5):
        msi.federated_identity_credentials.create_or_update(
            rg, "id-fic-page", f"fic-{i}", fic(f"s{i}")
        )
    listed = msi.federated_identity_credentials.list(rg, "id-fic-page")
    assert [f.name for f in listed] == [f"fic-{i}" for i in range(5)]
    emu.reset_stats()
    top = msi.federated_identity_credentials.list(rg, "id-fic-page", top=1)
    assert len(list(top)) == 5  # $top is a page size, as in ARM: the pager walks every page
    assert emu.stats()["by_method"]["GET"] == 5


def test_federated_credentials(msi: ManagedServiceIdentityClient, group: str) -> None:
    msi.user_assigned_identities.create_or_update(group, "id-fed", {"location": "uksouth"})
    fics = msi.federated_identity_credentials
    created = fics.create_or_update(
        group, "id-fed", "github-main", fic("repo:o/r:ref:refs/heads/main")
    )
    assert created.issuer == ISSUER
    assert created.audiences == AUDIENCE
    assert created.type == (
        "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials"
    )
    assert fics.get(group, "id-fed", "github-main").subject == "repo:o/r:ref:refs/heads/main"
    updated = fics.create_or_update(
        group, "id-fed", "github-main", fic("repo:o/r:environment:prod")
    )
    assert updated.subject == "repo:o/r:environment:prod"
    with pytest.raises(HttpResponseError) as dup:
        fics.create_or_update(group, "id-fed", "github-copy", fic("repo:o/r:environment:prod"))
    assert dup.value.error is not None
    assert dup.value.error.code == "BadRequest"
    assert "Issuer and subject combination already exists" in str(dup.value.error.message)
    for i in range(19):
        fics.create_or_update(group, "id-fed", f"fic-{i:02d}", fic(f"subject-{i}"))
    with pytest.raises(HttpResponseError) as over:
        fics.create_or_update(group, "id-fed", "fic-20", fic("subject-20"))
    assert over.value.status_code == 400
    with pytest.raises(HttpResponseError) as bad_name:
        fics.create_or_update(group, "id-fed", "x", fic("subject-x"))
    assert bad_name.value.error is not None
    assert bad_name.value.error.code == "BadRequest"
    assert len(list(fics.list(group, "id-fed"))) == 20
    fics.delete(group, "id-fed", "github-main")
    fics.delete(group, "id-fed", "github-main")
    with pytest.raises(ResourceNotFoundError):
        fics.get(group, "id-fed", "github-main")
    with pytest.raises(ResourceNotFoundError) as parent:
        fics.create_or_update(group, "id-missing", "fic-1", fic("s"))
    assert parent.value.error is not None
    assert parent.value.error.code == "ParentResourceNotFound"


def test_concurrent_credential_writes_conflict(own_cloud: Any) -> None:
    settings = Settings()
    settings.fic_write_hold_s = 0.5
    _emu, msi, rg = own_cloud(settings)
    msi.user_assigned_identities.create_or_update(rg, "id-race", {"location": "uksouth"})
    barrier = threading.Barrier(2)
    outcome: dict[str, Any] = {}

    def write(name: str) -> None:
        barrier.wait()
        try:
            outcome[name] = msi.federated_identity_credentials.create_or_update(
                rg, "id-race", name, fic(name)
            )
        except HttpResponseError as exc:
            outcome[name] = exc

    threads = [threading.Thread(target=write, args=(n,)) for n in ("fic-a", "fic-b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    errors = [v for v in outcome.values() if isinstance(v, HttpResponseError)]
    assert len(errors) == 1
    assert isinstance(errors[0], ResourceExistsError)
    assert errors[0].status_code == 409
    assert errors[0].error is not None
    assert errors[0].error.code == (
        "ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity"
    )
    loser = next(k for k, v in outcome.items() if isinstance(v, HttpResponseError))
    msi.federated_identity_credentials.create_or_update(rg, "id-race", loser, fic(loser))
    assert len(list(msi.federated_identity_credentials.list(rg, "id-race"))) == 2


def test_system_assigned_identity_by_scope(
    msi: ManagedServiceIdentityClient,
    group: str,
    credential: ManagedIdentityCredential,
    sdk_kwargs: dict[str, Any],
) -> None:
    site_id = f"/subscriptions/{SUB}/resourceGroups/{group}/providers/Microsoft.Web/sites/app-sa"
    with ResourceManagementClient(credential, SUB, **sdk_kwargs) as rm:
        site = rm.resources.begin_create_or_update_by_id(
            site_id,
            {"location": "uksouth", "kind": "app", "identity": {"type": "SystemAssigned"}},
            api_version=WEB,
        ).result(timeout=20)
    assert site.identity is not None
    view = msi.system_assigned_identities.get_by_scope(site_id)
    assert view.type == "Microsoft.ManagedIdentity/Identities"
    assert view.principal_id == site.identity.principal_id
    assert view.tenant_id == TENANT
    assert view.client_id
    assert view.location == site.location
    assert view.id == f"{site_id}/providers/Microsoft.ManagedIdentity/identities/default"


def test_operations(msi: ManagedServiceIdentityClient) -> None:
    names = {op.name for op in msi.operations.list()}
    assert "Microsoft.ManagedIdentity/userAssignedIdentities/write" in names
