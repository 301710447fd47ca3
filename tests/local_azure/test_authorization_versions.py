"""Role-assignment PUT answers with the statuses each api-version's REST spec lists, through
azure-mgmt-authorization pinned to that version: 2015-07-01, 2018-01-01-preview and
2020-04-01-preview list only 201, so an identical PUT (an update) answers 201 there and 200
at 2022-04-01. Clients pinned to the old versions raise on a status their spec does not list."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from azure.identity import ManagedIdentityCredential
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.msi import ManagedServiceIdentityClient

SUB = "11111111-1111-1111-1111-111111111111"
RG = "rg-myapp-prod-uks-01"
READER = f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/" + (
    "acdd72a7-3385-48ef-bd42-f606fba81ae7"
)
SCOPE = f"/subscriptions/{SUB}/resourceGroups/{RG}"


@pytest.fixture
def grantee(credential: ManagedIdentityCredential, sdk_kwargs: dict[str, Any]) -> Iterator[str]:
    with ManagedServiceIdentityClient(credential, SUB, **sdk_kwargs) as msi:
        name = f"id-ver-{uuid.uuid4().hex[:8]}"
        identity = msi.user_assigned_identities.create_or_update(RG, name, {"location": "uksouth"})
        yield str(identity.principal_id)
        msi.user_assigned_identities.delete(RG, name)


def _statuses(client: AuthorizationManagementClient, body: dict[str, Any]) -> list[int]:
    seen: list[int] = []

    def keep(response: Any, _deserialized: Any, _headers: Any) -> None:
        seen.append(response.http_response.status_code)

    name = str(uuid.uuid4())
    client.role_assignments.create(SCOPE, name, body, cls=keep)
    client.role_assignments.create(SCOPE, name, body, cls=keep)  # identical: an update
    client.role_assignments.delete(SCOPE, name)
    return seen


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("2015-07-01", [201, 201]),
        ("2018-01-01-preview", [201, 201]),
        ("2020-04-01-preview", [201, 201]),
        ("2022-04-01", [201, 200]),
    ],
)
def test_identical_put_answers_what_the_version_lists(
    credential: ManagedIdentityCredential,
    sdk_kwargs: dict[str, Any],
    grantee: str,
    version: str,
    expected: list[int],
) -> None:
    properties = {"roleDefinitionId": READER, "principalId": grantee}
    if version != "2015-07-01":
        properties["principalType"] = "ServicePrincipal"
    with AuthorizationManagementClient(
        credential, SUB, api_version=version, **sdk_kwargs
    ) as client:
        assert _statuses(client, {"properties": properties}) == expected
    # without the status hook too: the pinned client accepts both answers
    with AuthorizationManagementClient(
        credential, SUB, api_version=version, **sdk_kwargs
    ) as client:
        name = str(uuid.uuid4())
        for _ in range(2):
            client.role_assignments.create(SCOPE, name, {"properties": properties})
        client.role_assignments.delete(SCOPE, name)
