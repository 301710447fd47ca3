"""Microsoft.ManagedIdentity handlers, dispatched through the Router without a socket."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from authz_world import BASE, RG, SITE, SUB, SUB2, TENANT, World, body, error_code, make_world

from local_azure.kernel import Settings
from local_azure.providers.managed_identity import identities

IDS = (
    f"/subscriptions/{SUB}/resourceGroups/{RG}"
    "/providers/Microsoft.ManagedIdentity/userAssignedIdentities"
)
ISSUER = "https://token.actions.githubusercontent.com"


@pytest.fixture
def world() -> World:
    return make_world()


def put_identity(world: World, name: str, **body: Any) -> Any:
    return world.call("PUT", f"{IDS}/{name}", {"location": "uksouth", **body})


def fic_body(subject: str, issuer: str = ISSUER, audiences: list[str] | None = None) -> Any:
    audiences = ["api://AzureADTokenExchange"] if audiences is None else audiences
    return {"properties": {"issuer": issuer, "subject": subject, "audiences": audiences}}


def test_create_then_update_keeps_ids_and_creates_the_principal(world: World) -> None:
    created = put_identity(world, "id-app", tags={"env": "prod"})
    assert created.status == 201
    body = created.body
    assert isinstance(body, dict)
    assert body["id"] == (
        f"/subscriptions/{SUB}/resourcegroups/{RG}/providers/Microsoft.ManagedIdentity"
        "/userAssignedIdentities/id-app"
    )
    assert body["type"] == "Microsoft.ManagedIdentity/userAssignedIdentities"
    assert body["location"] == "uksouth"
    assert body["tags"] == {"env": "prod"}
    props = body["properties"]
    assert props["tenantId"] == TENANT
    assert props["isolationScope"] == "None"
    principal = world.ctx.store.get_principal(props["principalId"])
    assert principal is not None
    assert principal.kind == "ServicePrincipal"
    assert principal.app_id == props["clientId"]
    assert principal.created_at == world.clock.now
    assert identities.identity_principal(world.ctx, body["id"]) == (
        props["principalId"],
        props["clientId"],
    )

    updated = put_identity(world, "ID-APP", location="UK South", tags={"env": "test"})
    assert updated.status == 200
    assert isinstance(updated.body, dict)
    assert updated.body["properties"]["principalId"] == props["principalId"]
    assert updated.body["name"] == "id-app"
    assert updated.body["tags"] == {"env": "test"}


def test_put_without_tags_clears_them_and_patch_replaces_them(world: World) -> None:
    put_identity(world, "id-tags", tags={"a": "1"})
    assert body(put_identity(world, "id-tags"))["tags"] == {}
    patched = world.call("PATCH", f"{IDS}/id-tags", {"tags": {"b": "2"}})
    assert patched.status == 200
    assert body(patched)["tags"] == {"b": "2"}
    regional = world.call("PATCH", f"{IDS}/id-tags", {"properties": {"isolationScope": "Regional"}})
    assert body(regional)["properties"]["isolationScope"] == "Regional"
    assert body(world.call("GET", f"{IDS}/id-tags"))["tags"] == {"b": "2"}


@pytest.mark.parametrize("name", ["ab", "-abc", "_abc", "a.b.c", "a b c", "x" * 129, "ab$"])
def test_invalid_names_are_rejected(world: World, name: str) -> None:
    response = put_identity(world, name)
    assert response.status == 400
    assert error_code(response) == "InvalidResourceName"


@pytest.mark.parametrize("name", ["abc", "1ab", "a_b-c", "x" * 128])
def test_valid_names_are_accepted(world: World, name: str) -> None:
    assert put_identity(world, name).status == 201


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "LocationRequired"),
        ({"location": ""}, "LocationRequired"),
        ({"location": "atlantis"}, "LocationNotAvailableForResourceType"),
        ({"location": "uksouth", "tags": ["x"]}, "InvalidRequestContent"),
        ({"location": "uksouth", "properties": {"isolationScope": "Global"}}, "BadRequest"),
    ],
)
def test_bad_bodies(world: World, body: Any, code: str) -> None:
    response = world.call("PUT", f"{IDS}/id-bad", body)
    assert response.status == 400
    assert error_code(response) == code


def test_location_cannot_change(world: World) -> None:
    put_identity(world, "id-loc")
    response = world.call("PUT", f"{IDS}/id-loc", {"location": "westeurope"})
    assert response.status == 400
    assert error_code(response) == "InvalidResourceLocation"
    assert "already exists in location 'uksouth'" in body(response)["error"]["message"]
    patch = world.call("PATCH", f"{IDS}/id-loc", {"location": "westeurope"})
    assert error_code(patch) == "InvalidResourceLocation"


def test_missing_group_and_subscription(world: World) -> None:
    other = IDS.replace(RG, "rg-missing")
    assert error_code(world.call("PUT", f"{other}/id-x", {"location": "uksouth"})) == (
        "ResourceGroupNotFound"
    )
    assert world.call("GET", other).status == 404
    missing_sub = "/subscriptions/99999999-9999-9999-9999-999999999999"
    response = world.call(
        "GET", f"{missing_sub}/providers/Microsoft.ManagedIdentity/userAssignedIdentities"
    )
    assert error_code(response) == "SubscriptionNotFound"


def test_get_and_delete(world: World) -> None:
    created = put_identity(world, "id-del").body
    assert isinstance(created, dict)
    assert world.call("PUT", f"{IDS}/id-del/federatedIdentityCredentials/fic-1",
                      fic_body("s1")).status == 201  # fmt: skip
    assert world.call("GET", f"{IDS}/id-del").body == created
    assert world.call("DELETE", f"{IDS}/id-del").status == 200
    assert world.ctx.store.get_principal(created["properties"]["principalId"]) is None
    assert world.ctx.store.get(f"{created['id']}/federatedIdentityCredentials/fic-1") is None
    assert world.call("DELETE", f"{IDS}/id-del").status == 204
    missing = world.call("GET", f"{IDS}/id-del")
    assert missing.status == 404
    assert error_code(missing) == "ResourceNotFound"
    assert identities.identity_principal(world.ctx, str(created["id"])) is None


def test_api_versions(world: World) -> None:
    for version in identities.API_VERSIONS:
        assert world.call("GET", IDS, api_version=version).status == 200
    response = world.call("GET", IDS, api_version="2099-01-01")
    assert response.status == 400
    assert error_code(response) == "NoRegisteredProviderFound"
    message = body(response)["error"]["message"]
    assert message.startswith(
        "No registered resource provider found for location 'uksouth' and API version "
        "'2099-01-01' for type 'userAssignedIdentities'. The supported api-versions are "
        "'2026-05-31, 2026-04-30, 2025-05-31-preview,"
    )
    assert "The supported locations are 'East US, " in message
    put = world.call("PUT", f"{IDS}/id-v", {"location": "westeurope"}, api_version="2020-01-01")
    assert "for location 'westeurope'" in body(put)["error"]["message"]
    fic = world.call("GET", f"{IDS}/id-v/federatedIdentityCredentials", api_version="2018-11-30")
    assert error_code(fic) == "NoRegisteredProviderFound"
    missing = world.call("GET", IDS, api_version="")
    assert error_code(missing) == "MissingApiVersionParameter"


def test_lists_page_with_absolute_next_links() -> None:
    world = make_world(Settings(page_size=2))
    names = [f"id-{i}" for i in range(5)]
    for name in names:
        put_identity(world, name)
    world.call("PUT", IDS.replace(SUB, SUB2) + "/id-elsewhere", {"location": "uksouth"})
    first = world.call("GET", IDS).body
    assert isinstance(first, dict)
    assert len(first["value"]) == 2
    assert first["nextLink"].startswith(f"{BASE}{IDS}?")
    assert "$skiptoken=" in first["nextLink"]
    assert [i["name"] for i in world.follow(IDS)] == names
    by_sub = world.follow(
        f"/subscriptions/{SUB}/providers/Microsoft.ManagedIdentity/userAssignedIdentities"
    )
    assert [i["name"] for i in by_sub] == names


def test_federated_credentials_crud(world: World) -> None:
    put_identity(world, "id-fic")
    base = f"{IDS}/id-fic/federatedIdentityCredentials"
    created = world.call("PUT", f"{base}/github-main", fic_body("repo:o/r:ref:refs/heads/main"))
    assert created.status == 201
    assert created.body == {
        "id": f"/subscriptions/{SUB}/resourcegroups/{RG}/providers/Microsoft.ManagedIdentity"
        "/userAssignedIdentities/id-fic/federatedIdentityCredentials/github-main",
        "name": "github-main",
        "properties": {
            "issuer": ISSUER,
            "subject": "repo:o/r:ref:refs/heads/main",
            "audiences": ["api://AzureADTokenExchange"],
        },
        "type": "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
    }
    updated = world.call("PUT", f"{base}/github-main", fic_body("repo:o/r:environment:prod"))
    assert updated.status == 200
    assert world.call("GET", f"{base}/github-main").body == updated.body
    assert [f["name"] for f in world.follow(base)] == ["github-main"]
    assert world.call("DELETE", f"{base}/github-main").status == 200
    assert world.call("DELETE", f"{base}/github-main").status == 204
    assert error_code(world.call("GET", f"{base}/github-main")) == "ResourceNotFound"


def test_federated_credential_rules(world: World) -> None:
    put_identity(world, "id-rules")
    base = f"{IDS}/id-rules/federatedIdentityCredentials"
    for name, payload in [
        ("ab", fic_body("s")),
        ("-abc", fic_body("s")),
        ("ok-name", {"properties": {}}),
        ("ok-name", fic_body("s", issuer="http://insecure.example")),
        ("ok-name", fic_body("s", issuer="https://" + "x" * 600)),
        ("ok-name", fic_body("s", audiences=[])),
        ("ok-name", fic_body("s", audiences=["a", "b"])),
    ]:
        response = world.call("PUT", f"{base}/{name}", payload)
        assert response.status == 400, (name, payload)
        assert error_code(response) == "BadRequest"
    assert world.call("PUT", f"{base}/first", fic_body("same")).status == 201
    duplicate = world.call("PUT", f"{base}/second", fic_body("same"))
    assert duplicate.status == 400
    assert "Issuer and subject combination already exists" in body(duplicate)["error"]["message"]
    for i in range(19):
        assert world.call("PUT", f"{base}/more-{i}", fic_body(f"s-{i}")).status == 201
    over = world.call("PUT", f"{base}/one-too-many", fic_body("s-20"))
    assert over.status == 400
    assert world.call("PUT", f"{base}/more-0", fic_body("s-0b")).status == 200
    missing = world.call("PUT", f"{IDS}/id-none/federatedIdentityCredentials/x-1", fic_body("s"))
    assert missing.status == 404
    assert error_code(missing) == "ParentResourceNotFound"


def test_concurrent_writes_to_one_identity_conflict() -> None:
    settings = Settings()
    settings.fic_write_hold_s = 0.3
    world = make_world(settings)
    put_identity(world, "id-race")
    put_identity(world, "id-calm")
    base = f"{IDS}/id-race/federatedIdentityCredentials"
    barrier = threading.Barrier(3)
    results: dict[str, Any] = {}

    def write(path: str, subject: str) -> None:
        barrier.wait()
        results[subject] = world.call("PUT", path, fic_body(subject))

    threads = [
        threading.Thread(target=write, args=(f"{base}/fic-a", "a")),
        threading.Thread(target=write, args=(f"{base}/fic-b", "b")),
        threading.Thread(
            target=write, args=(f"{IDS}/id-calm/federatedIdentityCredentials/fic-c", "c")
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(results[s].status for s in ("a", "b"))
    assert statuses == [201, 409]
    loser = results["a"] if results["a"].status == 409 else results["b"]
    assert error_code(loser) == (
        "ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity"
    )
    assert "Concurrent Federated Identity Credentials writes" in body(loser)["error"]["message"]
    assert results["c"].status == 201  # other identities are not held
    retry = "a" if results["a"].status == 409 else "b"
    assert world.call("PUT", f"{base}/fic-{retry}", fic_body(retry)).status == 201


def test_system_assigned_identity_view(world: World) -> None:
    response = world.call("GET", f"{SITE}/providers/Microsoft.ManagedIdentity/identities/default")
    assert response.status == 200
    body = response.body
    assert isinstance(body, dict)
    assert body["type"] == "Microsoft.ManagedIdentity/Identities"
    assert body["id"] == f"{SITE}/providers/Microsoft.ManagedIdentity/identities/default"
    assert body["name"] == "app-1"
    assert body["location"] == "uksouth"
    principal = world.ctx.store.principal_by_resource(SITE)
    assert principal is not None
    assert body["properties"]["principalId"] == principal.object_id
    assert body["properties"]["clientId"] == principal.app_id
    assert body["properties"]["tenantId"] == TENANT
    vault = SITE.replace("Microsoft.Web/sites/app-1", "Microsoft.KeyVault/vaults/kv-1")
    missing = world.call("GET", f"{vault}/providers/Microsoft.ManagedIdentity/identities/default")
    assert missing.status == 404


def test_operations_list(world: World) -> None:
    body = world.call("GET", "/providers/Microsoft.ManagedIdentity/operations").body
    assert isinstance(body, dict)
    names = {op["name"] for op in body["value"]}
    assert {
        "Microsoft.ManagedIdentity/userAssignedIdentities/read",
        "Microsoft.ManagedIdentity/userAssignedIdentities/write",
        "Microsoft.ManagedIdentity/userAssignedIdentities/delete",
        "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write",
    } <= names
    assert all(set(op["display"]) == {"description", "operation", "resource", "provider"}
               for op in body["value"])  # fmt: skip
