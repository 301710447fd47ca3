"""Conformance through the real SDK clients over HTTPS: subscriptions, resource groups,
generic resources by id with identity blocks, lists with paging; raw REST where no SDK in our
dependencies covers a provider (SQL administrators, Storage), and cloud discovery.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from azure.core.exceptions import ResourceNotFoundError
from azure.identity import ManagedIdentityCredential
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.resource.subscriptions import SubscriptionClient

from local_azure.api import RunningEmulator
from local_azure.kernel import Settings

SUB = "11111111-1111-1111-1111-111111111111"
SUB2 = "33333333-3333-3333-3333-333333333333"
TENANT = "22222222-2222-2222-2222-222222222222"
SEEDED_RG = "rg-myapp-prod-uks-01"
SEEDED_PROVIDERS = f"/subscriptions/{SUB}/resourceGroups/{SEEDED_RG}/providers"
SEEDED_SITE = f"{SEEDED_PROVIDERS}/Microsoft.Web/sites/app-myapp-prod-uks-01"
SEEDED_SQL = f"{SEEDED_PROVIDERS}/Microsoft.Sql/servers/sql-myapp-prod-uks-01"
WEB, COMPUTE, APP = "2024-11-01", "2024-11-01", "2025-01-01"
ARM_SCOPE = "https://management.azure.com/.default"


@pytest.fixture
def rm(
    credential: ManagedIdentityCredential, sdk_kwargs: dict[str, Any]
) -> Iterator[ResourceManagementClient]:
    client = ResourceManagementClient(credential, SUB, **sdk_kwargs)
    yield client
    client.close()


@pytest.fixture
def group(rm: ResourceManagementClient) -> Iterator[str]:
    """A resource group of this test's own, deleted afterwards."""
    name = f"rg-sdk-{uuid.uuid4().hex[:8]}"
    rm.resource_groups.create_or_update(name, {"location": "uksouth"})
    yield name
    if rm.resource_groups.check_existence(name):
        rm.resource_groups.begin_delete(name).result()


def _props(resource: Any) -> dict[str, Any]:
    props = resource.properties
    assert isinstance(props, dict)
    return props


def _rid(group: str, provider_type: str, name: str) -> str:
    return f"/subscriptions/{SUB}/resourceGroups/{group}/providers/{provider_type}/{name}"


# ---------------------------------------------------------------------- subscriptions


def test_subscription_client(
    credential: ManagedIdentityCredential, sdk_kwargs: dict[str, Any]
) -> None:
    with SubscriptionClient(credential, **sdk_kwargs) as client:
        subs = {s.subscription_id: s for s in client.subscriptions.list()}
        assert {SUB, SUB2} <= set(subs)
        one = client.subscriptions.get(SUB)
        assert (one.display_name, one.state, one.tenant_id) == ("Local Dev", "Enabled", TENANT)
        assert one.subscription_policies is not None
        assert one.subscription_policies.spending_limit == "Off"
        with pytest.raises(ResourceNotFoundError) as err:
            client.subscriptions.get("99999999-9999-9999-9999-999999999999")
        assert err.value.error is not None
        assert err.value.error.code == "SubscriptionNotFound"
        (tenant,) = list(client.tenants.list())
        assert tenant.tenant_id == TENANT
        assert tenant.tenant_category == "Home"
        locations = {loc.name: loc for loc in client.subscriptions.list_locations(SUB)}
        assert locations["uksouth"].display_name == "UK South"
        metadata = locations["uksouth"].metadata
        assert metadata is not None
        assert [p.name for p in metadata.paired_region or []] == ["ukwest"]


# ---------------------------------------------------------------------- resource groups


def test_resource_group_lifecycle(rm: ResourceManagementClient) -> None:
    name = f"rg-life-{uuid.uuid4().hex[:8]}"
    created = rm.resource_groups.create_or_update(
        name, {"location": "UK South", "tags": {"team": "sdk"}}
    )
    assert (created.name, created.location, created.tags) == (name, "uksouth", {"team": "sdk"})
    assert created.properties is not None
    assert created.properties.provisioning_state == "Succeeded"
    assert rm.resource_groups.check_existence(name) is True
    assert rm.resource_groups.get(name).id == f"/subscriptions/{SUB}/resourceGroups/{name}"
    updated = rm.resource_groups.update(name, {"tags": {"team": "sdk", "stage": "2"}})
    assert updated.tags == {"team": "sdk", "stage": "2"}
    listed = [
        g.name for g in rm.resource_groups.list(filter="tagName eq 'stage' and tagValue eq '2'")
    ]
    assert listed == [name]
    poller = rm.resource_groups.begin_delete(name)
    poller.result(timeout=20)
    assert poller.done()
    assert poller.status().lower() == "succeeded"
    assert rm.resource_groups.check_existence(name) is False
    with pytest.raises(ResourceNotFoundError) as err:
        rm.resource_groups.get(name)
    assert err.value.error is not None
    assert err.value.error.code == "ResourceGroupNotFound"


# ---------------------------------------------------------------------- generic resources by id


def test_get_by_id_reads_seeded_resources(rm: ResourceManagementClient) -> None:
    site = rm.resources.get_by_id(SEEDED_SITE, api_version=WEB)
    assert (site.kind, site.location, site.type) == ("app", "UK South", "Microsoft.Web/sites")
    assert _props(site)["defaultHostName"] == "app-myapp-prod-uks-01.azurewebsites.net"
    sql = rm.resources.get_by_id(SEEDED_SQL, api_version="2023-08-01")
    assert _props(sql)["administrators"]["login"] == "sqladmins"
    assert rm.resources.check_existence_by_id(SEEDED_SITE, api_version=WEB) is True


def test_provider_discovery_through_the_sdk(rm: ResourceManagementClient) -> None:
    web = rm.providers.get("Microsoft.Web")
    assert web.registration_state == "Registered"
    sites = next(t for t in web.resource_types or [] if t.resource_type == "sites")
    assert sites.api_versions is not None
    assert WEB in sites.api_versions
    assert rm.providers.register("Microsoft.Web").registration_state == "Registered"
    assert "Microsoft.ManagedIdentity" in {p.namespace for p in rm.providers.list()}


def test_get_by_parts_with_and_without_a_parent_path(rm: ResourceManagementClient) -> None:
    site = rm.resources.get(
        SEEDED_RG, "Microsoft.Web", "", "sites", "app-myapp-prod-uks-01", api_version=WEB
    )
    assert site.id == SEEDED_SITE
    db = rm.resources.get(
        SEEDED_RG,
        "Microsoft.Sql",
        "servers/sql-myapp-prod-uks-01",
        "databases",
        "appdb",
        api_version="2023-08-01",
    )
    assert db.id == f"{SEEDED_SQL}/databases/appdb"
    assert (
        rm.resources.check_existence(
            SEEDED_RG, "Microsoft.Web", "", "sites", "nope", api_version=WEB
        )
        is False
    )


def test_identity_blocks_through_generic_operations(
    rm: ResourceManagementClient,
    group: str,
    credential: ManagedIdentityCredential,
    sdk_kwargs: dict[str, Any],
) -> None:
    with ManagedServiceIdentityClient(credential, SUB, **sdk_kwargs) as msi:
        uami = msi.user_assigned_identities.create_or_update(
            group, "id-sdk", {"location": "uksouth"}
        )
    assert uami.id
    assert uami.principal_id
    assert uami.client_id

    site_id = _rid(group, "Microsoft.Web/sites", "app-sdk")
    site = rm.resources.begin_create_or_update_by_id(
        site_id,
        {"location": "uksouth", "kind": "app", "identity": {"type": "SystemAssigned"}},
        api_version=WEB,
    ).result(timeout=20)
    assert site.identity is not None
    assert site.identity.principal_id
    assert site.identity.tenant_id == TENANT
    system_principal = site.identity.principal_id

    both = rm.resources.begin_update_by_id(
        site_id,
        {
            "identity": {
                "type": "SystemAssigned, UserAssigned",
                "userAssignedIdentities": {uami.id: {}},
            }
        },
        api_version=WEB,
    ).result(timeout=20)
    assert both.identity is not None
    assert both.identity.type == "SystemAssigned, UserAssigned"
    assert both.identity.principal_id == system_principal
    attached = both.identity.user_assigned_identities
    assert attached is not None
    assert attached[uami.id].principal_id == uami.principal_id
    assert attached[uami.id].client_id == uami.client_id

    detached = rm.resources.begin_update_by_id(
        site_id,
        {"identity": {"type": "SystemAssigned", "userAssignedIdentities": {uami.id: None}}},
        api_version=WEB,
    ).result(timeout=20)
    assert detached.identity is not None
    assert detached.identity.type == "SystemAssigned"
    assert not detached.identity.user_assigned_identities

    vm_id = _rid(group, "Microsoft.Compute/virtualMachines", "vm-sdk")
    vm = rm.resources.begin_create_or_update_by_id(
        vm_id,
        {
            "location": "uksouth",
            "identity": {
                "type": "SystemAssigned, UserAssigned",
                "userAssignedIdentities": {uami.id: {}},
            },
        },
        api_version=COMPUTE,
    ).result(timeout=20)
    assert vm.identity is not None
    assert vm.identity.type == "SystemAssigned, UserAssigned"
    assert _props(vm)["provisioningState"] == "Succeeded"

    app_id = _rid(group, "Microsoft.App/containerApps", "ca-sdk")
    app = rm.resources.begin_create_or_update_by_id(
        app_id,
        {
            "location": "uksouth",
            "identity": {
                "type": "SystemAssigned,UserAssigned",
                "userAssignedIdentities": {uami.id: {}},
            },
        },
        api_version=APP,
    ).result(timeout=20)
    assert app.identity is not None
    assert app.identity.type == "SystemAssigned,UserAssigned"

    off = rm.resources.begin_update_by_id(
        app_id, {"identity": {"type": "None"}}, api_version=APP
    ).result(timeout=20)
    assert off.identity is None

    sites = list(
        rm.resources.list_by_resource_group(group, filter="resourceType eq 'Microsoft.Web/sites'")
    )
    assert [s.name for s in sites] == ["app-sdk"]
    assert sites[0].identity is not None
    assert sites[0].identity.principal_id == system_principal

    rm.resources.begin_delete_by_id(vm_id, api_version=COMPUTE).result(timeout=20)
    with pytest.raises(ResourceNotFoundError) as err:
        rm.resources.get_by_id(vm_id, api_version=COMPUTE)
    assert err.value.error is not None
    assert err.value.error.code == "ResourceNotFound"


def test_attaching_a_missing_identity_is_a_400_naming_it(
    rm: ResourceManagementClient, group: str
) -> None:
    from azure.core.exceptions import HttpResponseError

    ghost = _rid(group, "Microsoft.ManagedIdentity/userAssignedIdentities", "id-ghost")
    with pytest.raises(HttpResponseError) as err:
        rm.resources.begin_create_or_update_by_id(
            _rid(group, "Microsoft.Web/sites", "app-ghost"),
            {
                "location": "uksouth",
                "identity": {"type": "UserAssigned", "userAssignedIdentities": {ghost: {}}},
            },
            api_version=WEB,
        ).result(timeout=20)
    assert err.value.status_code == 400
    assert err.value.error is not None
    assert err.value.error.code == "FailedIdentityOperation"
    assert ghost in str(err.value.error.message)


# ---------------------------------------------------------------------- paging through the SDK


def test_lists_follow_next_links(
    fresh_emulator: Callable[..., RunningEmulator], identity_env: Callable[[RunningEmulator], None]
) -> None:
    emu = fresh_emulator(settings=Settings(page_size=2))
    identity_env(emu)
    kwargs: dict[str, Any] = {
        "base_url": emu.info.endpoint,
        "credential_scopes": [ARM_SCOPE],
        "connection_verify": emu.info.ca_bundle,
    }
    with ManagedIdentityCredential(connection_verify=emu.info.ca_bundle) as cred:
        with SubscriptionClient(cred, **kwargs) as subs:
            assert len(list(subs.subscriptions.list_locations(SUB))) > 2
        with ResourceManagementClient(cred, SUB, **kwargs) as client:
            for i in range(5):
                client.resource_groups.create_or_update(
                    f"rg-page-{i}", {"location": "uksouth", "tags": {"k": "v"}}
                )
            tagged = [
                g.name
                for g in client.resource_groups.list(filter="tagName eq 'k' and tagValue eq 'v'")
            ]
            assert tagged == [f"rg-page-{i}" for i in range(5)]
            sites = list(client.resources.list(filter="resourceType eq 'Microsoft.Web/sites'"))
            assert len(sites) == 2
            everything = list(client.resources.list_by_resource_group(SEEDED_RG))
            assert len(everything) == 8  # 7 seeded top-level resources and the database


# ---------------------------------------------------------------------- raw REST


def _session(emulator: RunningEmulator, credential: ManagedIdentityCredential) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxies, and REQUESTS_CA_BUNDLE must not override verify
    session.verify = emulator.info.ca_bundle
    session.headers["Authorization"] = f"Bearer {credential.get_token(ARM_SCOPE).token}"
    return session


def test_sql_admin_and_storage_identity_over_raw_rest(
    emulator: RunningEmulator, credential: ManagedIdentityCredential, group: str
) -> None:
    base = emulator.info.endpoint
    with _session(emulator, credential) as http:
        server = _rid(group, "Microsoft.Sql/servers", f"sql-{group[-8:]}")
        r = http.put(f"{base}{server}?api-version=2021-11-01", json={"location": "uksouth"})
        assert r.status_code == 201, r.text
        admin = f"{server}/administrators/ActiveDirectory?api-version=2021-11-01"
        body = {
            "properties": {
                "administratorType": "ActiveDirectory",
                "login": "ada",
                "sid": "a1f4c2d8-3e5b-4a79-8c61-0d2e9f7b4c13",
                "tenantId": TENANT,
            }
        }
        r = http.put(f"{base}{admin}", json=body)
        assert r.status_code in (200, 201), r.text
        assert http.get(f"{base}{admin}").json()["properties"]["login"] == "ada"
        assert (
            http.get(f"{base}{server}?api-version=2023-08-01").json()["properties"][
                "administrators"
            ]["principalType"]
            == "User"
        )

        account = _rid(group, "Microsoft.Storage/storageAccounts", f"st{group[-8:]}")
        r = http.put(
            f"{base}{account}?api-version=2023-05-01",
            json={"location": "uksouth", "sku": {"name": "Standard_ZRS"}},
        )
        assert r.status_code == 200, r.text
        assert r.json()["sku"]["name"] == "Standard_ZRS"
        r = http.patch(
            f"{base}{account}?api-version=2023-05-01", json={"identity": {"type": "SystemAssigned"}}
        )
        assert r.status_code == 200
        assert r.json()["identity"]["principalId"]

        r = http.get(f"{base}{server}/databases/none?api-version=2023-08-01")
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "ResourceNotFound"


@pytest.mark.parametrize(
    ("version", "shape"), [("2022-09-01", dict), ("2020-06-01", list), ("2015-01-01", dict)]
)
def test_metadata_endpoints_need_no_token(
    emulator: RunningEmulator, version: str, shape: type
) -> None:
    r = requests.get(
        f"{emulator.info.endpoint}/metadata/endpoints?api-version={version}",
        verify=emulator.info.ca_bundle,
        timeout=10,
    )
    assert r.status_code == 200
    body: Any = r.json()
    assert type(body).__name__ == shape.__name__
    cloud = body[0] if isinstance(body, list) else body
    if version != "2015-01-01":
        assert cloud["resourceManager"] == emulator.info.endpoint + "/"
    assert "https://management.azure.com/" in cloud["authentication"]["audiences"]
