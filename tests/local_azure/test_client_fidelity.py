"""What real clients tripped over, through the real SDK: the legacy MSI_ENDPOINT/MSI_SECRET
protocol, Entra's refusal of an unknown resource, the routing request id on every answer,
and `$top` as a page size that SDK pagers walk past."""

from __future__ import annotations

import re
from typing import Any

import jwt
import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import ManagedIdentityCredential
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.resource.subscriptions import SubscriptionClient

from local_azure.api import RunningEmulator

SUB = "11111111-1111-1111-1111-111111111111"
RG = "rg-myapp-prod-uks-01"
ARM_SCOPE = "https://management.azure.com/.default"


@pytest.fixture
def legacy_env(emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only MSI_ENDPOINT and MSI_SECRET: what Azure Machine Learning and old hosts set."""
    for name in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT",
                 "IMDS_ENDPOINT", "MSI_ENDPOINT", "MSI_SECRET"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MSI_ENDPOINT", emulator.info.identity_endpoint)
    monkeypatch.setenv("MSI_SECRET", emulator.info.identity_header)


def test_legacy_msi_endpoint_and_secret(
    emulator: RunningEmulator, legacy_env: None, sdk_kwargs: dict[str, Any]
) -> None:
    emulator.reset_stats()
    with ManagedIdentityCredential(connection_verify=emulator.info.ca_bundle) as cred:
        with SubscriptionClient(cred, **sdk_kwargs) as subs:
            assert SUB in [s.subscription_id for s in subs.subscriptions.list()]
        with ManagedServiceIdentityClient(cred, SUB, **sdk_kwargs) as msi:
            identity = msi.user_assigned_identities.create_or_update(
                RG, "id-legacy", {"location": "uksouth"}
            )
    assert emulator.stats()["by_route"]["msi.token"] == 1
    with ManagedIdentityCredential(
        client_id=identity.client_id, connection_verify=emulator.info.ca_bundle
    ) as mine:
        token = mine.get_token(ARM_SCOPE).token
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["oid"] == identity.principal_id


def test_legacy_protocol_needs_its_secret_header(
    emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch, legacy_env: None
) -> None:
    monkeypatch.setenv("MSI_SECRET", "not-the-secret")
    with (
        ManagedIdentityCredential(connection_verify=emulator.info.ca_bundle) as cred,
        pytest.raises(ClientAuthenticationError),
    ):
        cred.get_token(ARM_SCOPE)


def test_token_for_an_unknown_resource_is_refused_like_entra(
    emulator: RunningEmulator, credential: ManagedIdentityCredential
) -> None:
    # What the JavaScript SDK asks for without credentialScopes: `${endpoint}/.default`.
    with pytest.raises(ClientAuthenticationError) as info:
        credential.get_token(f"{emulator.info.endpoint}/.default")
    assert "AADSTS500011" in str(info.value)
    # Known resources are still issued: ARM, Graph, first-party data planes.
    known = (
        ARM_SCOPE,
        "https://graph.microsoft.com/.default",
        "https://database.windows.net//.default",
        "https://vault.azure.net/.default",
    )
    for scope in known:
        assert credential.get_token(scope).token


def test_answers_carry_a_routing_request_id(
    credential: ManagedIdentityCredential, sdk_kwargs: dict[str, Any]
) -> None:
    seen: list[dict[str, str]] = []

    def keep(response: Any, deserialized: Any, _headers: Any) -> Any:
        seen.append(dict(response.http_response.headers))
        return deserialized

    with SubscriptionClient(credential, **sdk_kwargs) as subs:
        subs.subscriptions.get(SUB, cls=keep)
    headers = {k.lower(): v for k, v in seen[0].items()}
    region, stamp, request_id = headers["x-ms-routing-request-id"].split(":")
    assert region == "LOCAL"
    assert re.fullmatch(r"\d{8}T\d{6}Z", stamp)
    assert request_id == headers["x-ms-request-id"]


def test_top_is_a_page_size_the_pager_walks_past(
    emulator: RunningEmulator, credential: ManagedIdentityCredential, sdk_kwargs: dict[str, Any]
) -> None:
    issuer = "https://token.actions.githubusercontent.com"
    with ManagedServiceIdentityClient(credential, SUB, **sdk_kwargs) as msi:
        msi.user_assigned_identities.create_or_update(RG, "id-top", {"location": "uksouth"})
        for i in range(5):
            msi.federated_identity_credentials.create_or_update(
                RG, "id-top", f"fic-{i}",
                {"issuer": issuer, "subject": f"s{i}", "audiences": ["api://AzureADTokenExchange"]},
            )  # fmt: skip
        emulator.reset_stats()
        pages = msi.federated_identity_credentials.list(RG, "id-top", top=2).by_page()
        sizes = [len(list(p)) for p in pages]
    assert sizes == [2, 2, 1]
    assert emulator.stats()["by_route"]["msi.fic.list"] == 3
