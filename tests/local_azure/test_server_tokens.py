"""The App Service-style managed identity endpoint: guarded by the identity header, selects
principals like App Service does, and issues tokens azure-identity accepts unchanged."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import jwt
import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import ManagedIdentityCredential

from local_azure.api import RunningEmulator
from local_azure.store import Principal

ARM = "https://management.azure.com/"


def _token_request(
    emu: RunningEmulator, *, header: str | None = "default", **params: str
) -> requests.Response:
    query = {"api-version": "2019-08-01", "resource": ARM, **params}
    headers = {} if header is None else {"X-IDENTITY-HEADER": emu.info.identity_header}
    if header not in (None, "default"):
        headers["X-IDENTITY-HEADER"] = header
    return requests.get(
        emu.info.identity_endpoint,
        params={k: v for k, v in query.items() if v},
        headers=headers,
        verify=emu.info.ca_bundle,
        timeout=10,
    )


def _claims(emu: RunningEmulator, raw: str, audience: str = ARM) -> dict[str, Any]:
    """Verify a token the way a relying party would: through the published JWKS."""
    jwks = requests.get(
        emu.info.endpoint + "/_emulator/jwks", verify=emu.info.ca_bundle, timeout=10
    ).json()
    key = jwt.PyJWK(jwks["keys"][0])
    assert jwt.get_unverified_header(raw)["kid"] == key.key_id
    return jwt.decode(raw, key, algorithms=["RS256"], audience=audience)


@pytest.fixture(scope="module")
def identity(emulator: RunningEmulator) -> Principal:
    """A user-assigned identity's service principal, as msi PUT would create it."""
    name = f"id-token-test-{uuid.uuid4().hex[:8]}"
    sub = (emulator.info.subscription_ids or ["0"])[0]
    rid = (
        f"/subscriptions/{sub}/resourceGroups/rg-x/providers/"
        f"Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
    )
    p = Principal(
        object_id=str(uuid.uuid4()),
        kind="ServicePrincipal",
        display_name=name,
        app_id=str(uuid.uuid4()),
        resource_id=rid,
        tenant_id=emulator.info.tenant_id,
        created_at=time.time(),
    )
    emulator.context.store.add_principal(p)
    return p


def test_missing_identity_header_is_401(emulator: RunningEmulator) -> None:
    resp = _token_request(emulator, header=None)
    assert resp.status_code == 401
    assert resp.json()["statusCode"] == 401


def test_wrong_identity_header_is_403(emulator: RunningEmulator) -> None:
    resp = _token_request(emulator, header="not-the-secret")
    assert resp.status_code == 403
    assert "access_token" not in resp.json()


def test_resource_and_api_version_are_required(emulator: RunningEmulator) -> None:
    assert _token_request(emulator, resource="").status_code == 400
    resp = _token_request(emulator, **{"api-version": "2018-02-01"})
    assert resp.status_code == 400
    assert "2019-08-01" in resp.json()["message"]


def test_no_selector_gives_the_operator_a_token_shaped_like_entra(
    emulator: RunningEmulator,
) -> None:
    before = int(time.time())
    resp = _token_request(emulator)
    assert resp.status_code == 200
    body = resp.json()
    assert set(body) >= {"access_token", "expires_on", "resource", "token_type", "client_id"}
    assert body["token_type"] == "Bearer"
    assert body["resource"] == ARM
    assert isinstance(body["expires_on"], str)
    assert int(body["expires_on"]) >= before + 23 * 3600
    claims = _claims(emulator, body["access_token"])
    store = emulator.context.store
    assert claims["oid"] == claims["sub"] == store.meta_get("operator_object_id")
    assert claims["appid"] == body["client_id"] == store.meta_get("operator_app_id")
    assert claims["tid"] == emulator.info.tenant_id
    assert claims["iss"] == f"https://sts.windows.net/{emulator.info.tenant_id}/"
    assert claims["idtyp"] == "app"
    assert claims["nbf"] <= before <= claims["exp"]
    assert claims["uti"]
    assert "xms_mirid" not in claims


@pytest.mark.parametrize("selector", ["client_id", "object_id", "mi_res_id"])
def test_each_selector_picks_the_identity(
    emulator: RunningEmulator, identity: Principal, selector: str
) -> None:
    value = {
        "client_id": identity.app_id,
        "object_id": identity.object_id,
        "mi_res_id": identity.resource_id,
    }[selector]
    assert value is not None
    resp = _token_request(emulator, **{selector: value.upper()})
    assert resp.status_code == 200, resp.text
    claims = _claims(emulator, resp.json()["access_token"])
    assert claims["oid"] == identity.object_id
    assert claims["appid"] == identity.app_id
    assert claims["xms_mirid"].lower() == (identity.resource_id or "").lower()


def test_unknown_identity_is_400(emulator: RunningEmulator) -> None:
    resp = _token_request(emulator, client_id=str(uuid.uuid4()))
    assert resp.status_code == 400
    assert "Managed Identity" in resp.json()["message"]


def test_any_resource_can_be_requested(emulator: RunningEmulator) -> None:
    resp = _token_request(emulator, resource="https://database.windows.net/")
    assert resp.status_code == 200
    _claims(emulator, resp.json()["access_token"], audience="https://database.windows.net/")


def test_managed_identity_credential_end_to_end(
    emulator: RunningEmulator, credential: ManagedIdentityCredential
) -> None:
    token = credential.get_token("https://management.azure.com/.default")
    assert token.expires_on > time.time() + 3600
    claims = _claims(emulator, token.token, audience="https://management.azure.com")
    assert claims["oid"] == emulator.context.store.meta_get("operator_object_id")
    sql = credential.get_token("https://database.windows.net/.default")
    assert _claims(emulator, sql.token, audience="https://database.windows.net")["aud"]


def test_managed_identity_credential_with_client_id(
    emulator: RunningEmulator,
    identity: Principal,
    identity_env: Callable[[RunningEmulator], None],
) -> None:
    identity_env(emulator)
    with ManagedIdentityCredential(
        client_id=identity.app_id, connection_verify=emulator.info.ca_bundle
    ) as cred:
        token = cred.get_token("https://management.azure.com/.default")
    assert _claims(emulator, token.token, audience="https://management.azure.com")["oid"] == (
        identity.object_id
    )


def test_managed_identity_credential_with_resource_id(
    emulator: RunningEmulator,
    identity: Principal,
    identity_env: Callable[[RunningEmulator], None],
) -> None:
    identity_env(emulator)
    assert identity.resource_id is not None
    with ManagedIdentityCredential(
        identity_config={"resource_id": identity.resource_id},
        connection_verify=emulator.info.ca_bundle,
    ) as cred:
        token = cred.get_token("https://management.azure.com/.default")
    claims = _claims(emulator, token.token, audience="https://management.azure.com")
    assert claims["oid"] == identity.object_id


def test_managed_identity_credential_reports_an_unknown_identity(
    emulator: RunningEmulator, identity_env: Callable[[RunningEmulator], None]
) -> None:
    identity_env(emulator)
    with (
        ManagedIdentityCredential(
            client_id=str(uuid.uuid4()), connection_verify=emulator.info.ca_bundle
        ) as cred,
        pytest.raises(ClientAuthenticationError),
    ):
        cred.get_token("https://management.azure.com/.default")


def test_admin_token_endpoint_mints_tokens_for_any_principal(
    emulator: RunningEmulator, identity: Principal
) -> None:
    resp = requests.post(
        emulator.info.endpoint + "/_emulator/token",
        json={"object_id": identity.object_id, "lifetime_s": 600},
        headers={"X-IDENTITY-HEADER": emulator.info.identity_header},
        verify=emulator.info.ca_bundle,
        timeout=10,
    )
    assert resp.status_code == 200
    body = resp.json()
    claims = _claims(emulator, body["access_token"])
    assert claims["oid"] == identity.object_id
    assert claims["exp"] == int(body["expires_on"])
    assert claims["exp"] - time.time() <= 600
    missing = requests.post(
        emulator.info.endpoint + "/_emulator/token",
        json={"object_id": str(uuid.uuid4())},
        headers={"X-IDENTITY-HEADER": emulator.info.identity_header},
        verify=emulator.info.ca_bundle,
        timeout=10,
    )
    assert missing.status_code == 404
