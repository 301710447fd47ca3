"""Resource groups (handler level): create/update, existence, lists, tags, deletion cascade."""

from __future__ import annotations

import pytest
from resources_cloud import (
    ASSIGNMENTS,
    BASE,
    RG,
    RG_ID,
    ROLE_DEFINITIONS,
    SITE,
    SUB,
    Cloud,
    error_code,
    error_message,
    identity_id,
    make_cloud,
    make_identity,
)

from local_azure.kernel import Settings
from local_azure.providers.resources.groups import require_resource_group

GROUPS = f"/subscriptions/{SUB}/resourcegroups"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"


@pytest.fixture
def cloud() -> Cloud:
    return make_cloud()


def test_create_then_update_answers_201_then_200(cloud: Cloud) -> None:
    first = cloud.call("PUT", f"{GROUPS}/rg-new", {"location": "UK South", "tags": {"env": "dev"}})
    assert first.status == 201
    assert first.body == {
        "id": f"/subscriptions/{SUB}/resourceGroups/rg-new",
        "name": "rg-new",
        "type": "Microsoft.Resources/resourceGroups",
        "location": "uksouth",
        "tags": {"env": "dev"},
        "properties": {"provisioningState": "Succeeded"},
    }
    again = cloud.call("PUT", f"{GROUPS}/RG-NEW", {"location": "uksouth"})
    assert again.status == 200
    assert isinstance(again.body, dict)
    assert again.body["name"] == "rg-new"  # the first spelling stays
    assert "tags" not in again.body  # PUT replaces


def test_location_rules(cloud: Cloud) -> None:
    assert error_code(cloud.call("PUT", f"{GROUPS}/rg-x", {})) == "LocationRequired"
    assert (
        error_code(cloud.call("PUT", f"{GROUPS}/rg-x", {"location": "mars"}))
        == "LocationNotAvailableForResourceGroup"
    )
    moved = cloud.call("PUT", f"{GROUPS}/{RG}", {"location": "westeurope"})
    assert moved.status == 409
    assert error_code(moved) == "InvalidResourceGroupLocation"
    assert error_message(moved) == (
        "Invalid resource group location 'westeurope'. "
        "The Resource group already exists in location 'uksouth'."
    )


@pytest.mark.parametrize("name", ["bad*name", "ends.with.period.", "x" * 91])
def test_invalid_names(cloud: Cloud, name: str) -> None:
    response = cloud.call("PUT", f"{GROUPS}/{name}", {"location": "uksouth"})
    assert response.status == 400
    assert error_code(response) == "InvalidResourceGroup"


def test_ninety_character_names_are_fine(cloud: Cloud) -> None:
    assert cloud.call("PUT", f"{GROUPS}/{'x' * 90}", {"location": "uksouth"}).status == 201


def test_get_and_check_existence(cloud: Cloud) -> None:
    assert cloud.ok("GET", f"{GROUPS}/{RG.upper()}")["name"] == RG
    assert cloud.call("HEAD", f"{GROUPS}/{RG}").status == 204
    assert cloud.call("HEAD", f"{GROUPS}/rg-absent").status == 404
    missing = cloud.call("GET", f"{GROUPS}/rg-absent")
    assert missing.status == 404
    assert error_code(missing) == "ResourceGroupNotFound"
    assert error_message(missing) == "Resource group 'rg-absent' could not be found."


def test_require_resource_group_raises_the_arm_errors(cloud: Cloud) -> None:
    from local_azure.kernel import ArmError

    assert require_resource_group(cloud.ctx, SUB, RG)["name"] == RG
    with pytest.raises(ArmError) as err:
        require_resource_group(cloud.ctx, SUB, "nope")
    assert (err.value.status, err.value.code) == (404, "ResourceGroupNotFound")


def test_unknown_api_version_is_rejected_with_the_supported_list(cloud: Cloud) -> None:
    response = cloud.call("GET", f"{GROUPS}/{RG}", api="2099-01-01")
    assert response.status == 400
    assert error_code(response) == "InvalidApiVersionParameter"
    assert "2025-04-01" in error_message(response)
    for accepted in ("2019-05-01", "2021-04-01", "2024-11-01", "2025-04-01"):
        assert cloud.call("GET", f"{GROUPS}/{RG}", api=accepted).status == 200


def test_patch_replaces_tags(cloud: Cloud) -> None:
    body = cloud.ok("PATCH", f"{GROUPS}/{RG}", {"tags": {"owner": "platform"}})
    assert body["tags"] == {"owner": "platform"}
    assert cloud.ok("GET", f"{GROUPS}/{RG}")["tags"] == {"owner": "platform"}


def test_reserved_tag_characters_are_rejected(cloud: Cloud) -> None:
    response = cloud.call("PATCH", f"{GROUPS}/{RG}", {"tags": {"a/b": "x"}})
    assert error_code(response) == "InvalidTagNameCharacters"


def test_list_filters_by_tag_and_pages_keeping_the_filter() -> None:
    cloud = make_cloud(settings=Settings(page_size=2))
    for i in range(5):
        cloud.ok(
            "PUT",
            f"{GROUPS}/rg-{i}",
            {"location": "uksouth", "tags": {"team": "a" if i % 2 else "b"}},
        )
    every = cloud.all_pages(GROUPS)
    assert len(every) == 6
    query = {"$filter": "tagName eq 'team' and tagValue eq 'a'"}
    first = cloud.ok("GET", GROUPS, query=query)
    assert [g["name"] for g in first["value"]] == ["rg-1", "rg-3"]
    assert "nextLink" not in first
    assert [g["name"] for g in cloud.all_pages(GROUPS, query={"$filter": "tagName eq 'team'"})] == [
        f"rg-{i}" for i in range(5)
    ]
    page = cloud.ok("GET", GROUPS, query={"$filter": "tagName eq 'team'"})
    assert "&$filter=tagName%20eq%20%27team%27&" in page["nextLink"]


def test_list_top_is_a_page_size(cloud: Cloud) -> None:
    for i in range(3):
        cloud.ok("PUT", f"{GROUPS}/rg-{i}", {"location": "uksouth"})
    everything = cloud.all_pages(GROUPS)
    first = cloud.call("GET", GROUPS, query={"$top": "2"})
    assert first.body is not None
    assert isinstance(first.body, dict)
    assert len(first.body["value"]) == 2
    assert "$top=2" in first.body["nextLink"]
    assert cloud.all_pages(GROUPS, query={"$top": "2"}) == everything


def test_unsupported_filter_is_rejected(cloud: Cloud) -> None:
    response = cloud.call("GET", GROUPS, query={"$filter": "name eq 'foo'"})
    assert response.status == 400
    assert error_code(response) == "InvalidFilterInQueryString"
    assert (
        error_message(response) == "Invalid $filter 'name eq 'foo'' specified in the query string."
    )


def test_delete_is_a_long_running_operation_that_completes_on_first_poll(cloud: Cloud) -> None:
    cloud.ok("PUT", f"{GROUPS}/rg-gone", {"location": "uksouth"})
    response = cloud.call("DELETE", f"{GROUPS}/rg-gone")
    assert response.status == 202
    location = response.headers["Location"]
    assert location.startswith(f"{BASE}/subscriptions/{SUB}/operationresults/")
    assert "api-version=2025-04-01" in location
    assert response.headers["Retry-After"].isdigit()
    poll = cloud.follow(location)
    assert poll.status == 200
    assert cloud.call("HEAD", f"{GROUPS}/rg-gone").status == 404
    assert error_code(cloud.call("DELETE", f"{GROUPS}/rg-gone")) == "ResourceGroupNotFound"


def test_bogus_operation_result_is_not_found(cloud: Cloud) -> None:
    assert cloud.call("GET", f"/subscriptions/{SUB}/operationresults/bogus").status == 404


def test_delete_removes_everything_below_and_the_principals_there(cloud: Cloud) -> None:
    uami = make_identity(cloud, "id-doomed")
    uami_principal = uami["properties"]["principalId"]
    site = cloud.ok("PATCH", SITE, {"identity": {"type": "SystemAssigned"}})
    site_principal = site["identity"]["principalId"]
    cloud.ok(
        "PUT",
        f"{SITE}/{ASSIGNMENTS}/0b6f2c55-1d5e-4f2a-9a44-8a8f2a1b9c01",
        {
            "properties": {
                "roleDefinitionId": f"{ROLE_DEFINITIONS}/{READER}",
                "principalId": uami_principal,
                "principalType": "ServicePrincipal",
            }
        },
    )
    store = cloud.ctx.store
    assert store.get_principal(uami_principal)
    assert store.get_principal(site_principal)
    assert cloud.call("DELETE", f"{GROUPS}/{RG}").status == 202
    assert store.get(RG_ID) is None
    assert store.get(SITE) is None
    assert store.get(identity_id("id-doomed")) is None
    assert store.by_type("Microsoft.Authorization/roleAssignments", under=RG_ID) == []
    assert store.get_principal(uami_principal) is None
    assert store.get_principal(site_principal) is None
    # subscription-level grants and the world's users survive
    assert store.by_type("Microsoft.Authorization/roleAssignments", under=f"/subscriptions/{SUB}")
    assert store.get_principal("a1f4c2d8-3e5b-4a79-8c61-0d2e9f7b4c13") is not None
