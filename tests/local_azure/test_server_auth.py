"""ARM authentication and authorization at the front door: 401s shaped like ARM's (envelope
and WWW-Authenticate challenge), the api-version check, the admin API's guard, and the RBAC
hook's 403."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import jwt
import pytest
import requests
from azure.core import PipelineClient
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError
from azure.core.pipeline.policies import BearerTokenCredentialPolicy
from azure.core.rest import HttpRequest
from azure.identity import ManagedIdentityCredential
from azure.mgmt.resource.subscriptions import SubscriptionClient
from cryptography.hazmat.primitives.asymmetric import rsa

from local_azure.access import authorization_scope
from local_azure.api import RunningEmulator
from local_azure.kernel import Context, Request, Response, Settings
from local_azure.store import Principal

ARM = "https://management.azure.com/"


def _whoami(_ctx: Context, req: Request, _params: dict[str, str]) -> Response:
    assert req.caller is not None
    return Response(200, {"oid": req.caller.object_id, "appid": req.caller.app_id})


@pytest.fixture(scope="module")
def whoami(emulator: RunningEmulator) -> str:
    path = f"/subscriptions/{uuid.uuid4()}/providers/Test.Emulator/whoami"
    emulator.router.add("GET", path, _whoami, api_versions=["2024-01-01"], name="test.whoami")
    return path


def _get(emu: RunningEmulator, path: str, headers: dict[str, str] | None = None) -> Any:
    return requests.get(
        emu.info.endpoint + path,
        params={"api-version": "2024-01-01"},
        headers=headers or {},
        verify=emu.info.ca_bundle,
        timeout=10,
    )


def _assert_401(resp: Any, code: str, fragment: str) -> None:
    assert resp.status_code == 401
    error = resp.json()["error"]
    assert error["code"] == code
    assert fragment in error["message"]
    challenge = resp.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer authorization_uri=")
    assert 'error="invalid_token"' in challenge
    assert "Retry-After" not in resp.headers


def test_valid_operator_token_reaches_the_route(emulator: RunningEmulator, whoami: str) -> None:
    resp = _get(emulator, whoami, {"Authorization": f"Bearer {emulator.issue_token()}"})
    assert resp.status_code == 200
    assert resp.json()["oid"] == emulator.context.store.meta_get("operator_object_id")


@pytest.mark.parametrize("audience", [ARM, ARM.rstrip("/"), "https://management.core.windows.net/"])
def test_every_arm_audience_is_accepted(
    emulator: RunningEmulator, whoami: str, audience: str
) -> None:
    token = emulator.issue_token(resource=audience)
    assert _get(emulator, whoami, {"Authorization": f"Bearer {token}"}).status_code == 200


def test_missing_token(emulator: RunningEmulator, whoami: str) -> None:
    _assert_401(_get(emulator, whoami), "AuthenticationFailed", "'Authorization' header is missing")


def test_malformed_header(emulator: RunningEmulator, whoami: str) -> None:
    resp = _get(emulator, whoami, {"Authorization": "Basic dXNlcjpwdw=="})
    _assert_401(resp, "AuthenticationFailed", "invalid format")


def test_token_signed_by_another_key(emulator: RunningEmulator, whoami: str) -> None:
    genuine = jwt.decode(emulator.issue_token(), options={"verify_signature": False})
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(genuine, other, algorithm="RS256")
    resp = _get(emulator, whoami, {"Authorization": f"Bearer {forged}"})
    _assert_401(resp, "InvalidAuthenticationToken", "The access token is invalid")


def test_tampered_token(emulator: RunningEmulator, whoami: str) -> None:
    head, _payload, sig = emulator.issue_token().split(".")
    claims = jwt.decode(emulator.issue_token(), options={"verify_signature": False})
    claims["oid"] = str(uuid.uuid4())
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    resp = _get(emulator, whoami, {"Authorization": f"Bearer {head}.{payload}.{sig}"})
    _assert_401(resp, "InvalidAuthenticationToken", "invalid")


def test_expired_token(emulator: RunningEmulator, whoami: str) -> None:
    token = emulator.issue_token(lifetime_s=-3600)
    resp = _get(emulator, whoami, {"Authorization": f"Bearer {token}"})
    _assert_401(resp, "InvalidAuthenticationToken", "is earlier than current UTC time")


def test_token_within_clock_skew_is_still_accepted(emulator: RunningEmulator, whoami: str) -> None:
    token = emulator.issue_token(lifetime_s=-60)
    assert _get(emulator, whoami, {"Authorization": f"Bearer {token}"}).status_code == 200


def test_wrong_audience(emulator: RunningEmulator, whoami: str) -> None:
    token = emulator.issue_token(resource="https://database.windows.net/")
    resp = _get(emulator, whoami, {"Authorization": f"Bearer {token}"})
    _assert_401(resp, "InvalidAuthenticationTokenAudience", "wrong audience")


class _WrongAudience:
    """A credential handing out emulator tokens for Key Vault instead of ARM."""

    def __init__(self, emu: RunningEmulator) -> None:
        self._emu = emu

    def get_token(self, *_scopes: str, **_kw: Any) -> AccessToken:
        raw = self._emu.issue_token(resource="https://vault.azure.net")
        return AccessToken(raw, int(time.time()) + 3600)


def test_sdk_reports_401_as_client_authentication_error(emulator: RunningEmulator) -> None:
    """azure-mgmt-core's challenge policy gives up on invalid_token: one 401, no loop."""
    client = SubscriptionClient(
        _WrongAudience(emulator),
        base_url=emulator.info.endpoint,
        credential_scopes=[ARM + ".default"],
        connection_verify=emulator.info.ca_bundle,
    )
    emulator.reset_stats()
    with pytest.raises(ClientAuthenticationError) as info:
        list(client.subscriptions.list())
    assert info.value.error is not None
    assert info.value.error.code == "InvalidAuthenticationTokenAudience"
    assert emulator.stats()["by_status"] == {"401": 1}


def test_managed_identity_credential_token_reaches_the_route(
    emulator: RunningEmulator, whoami: str, credential: ManagedIdentityCredential
) -> None:
    pipeline: PipelineClient[Any, Any] = PipelineClient(
        base_url=emulator.info.endpoint,
        policies=[BearerTokenCredentialPolicy(credential, ARM + ".default")],
        connection_verify=emulator.info.ca_bundle,
    )
    url = emulator.info.endpoint + whoami
    resp = pipeline.send_request(HttpRequest("GET", url, params={"api-version": "2024-01-01"}))
    assert resp.status_code == 200
    assert resp.json()["oid"] == emulator.context.store.meta_get("operator_object_id")


def test_missing_api_version_is_400(emulator: RunningEmulator, whoami: str) -> None:
    resp = requests.get(
        emulator.info.endpoint + whoami,
        headers={"Authorization": f"Bearer {emulator.issue_token()}"},
        verify=emulator.info.ca_bundle,
        timeout=10,
    )
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "MissingApiVersionParameter"


def _add_sp(emu: RunningEmulator) -> Principal:
    p = Principal(
        object_id=str(uuid.uuid4()),
        kind="ServicePrincipal",
        display_name="someone-else",
        app_id=str(uuid.uuid4()),
        resource_id=None,
        tenant_id=emu.info.tenant_id,
        created_at=time.time(),
    )
    emu.context.store.add_principal(p)
    return p


def test_admin_api_is_guarded(emulator: RunningEmulator) -> None:
    url = emulator.info.endpoint + "/_emulator/stats"
    verify = emulator.info.ca_bundle
    assert requests.get(url, verify=verify, timeout=10).status_code == 401
    other = emulator.issue_token(_add_sp(emulator).object_id)
    resp = requests.get(
        url, headers={"Authorization": f"Bearer {other}"}, verify=verify, timeout=10
    )
    assert resp.status_code == 403
    wrong_secret = {"X-IDENTITY-HEADER": "nope"}
    assert requests.get(url, headers=wrong_secret, verify=verify, timeout=10).status_code == 401
    secret = {"X-IDENTITY-HEADER": emulator.info.identity_header}
    assert requests.get(url, headers=secret, verify=verify, timeout=10).status_code == 200
    operator = {"Authorization": f"Bearer {emulator.issue_token()}"}
    assert requests.get(url, headers=operator, verify=verify, timeout=10).status_code == 200


@pytest.mark.parametrize(
    ("path", "scope"),
    [
        ("/subscriptions/s/resourceGroups/rg", "/subscriptions/s/resourceGroups/rg"),
        ("/subscriptions/s/resourcegroups", "/subscriptions/s"),
        ("/subscriptions/s/resourceGroups/rg/resources", "/subscriptions/s/resourceGroups/rg"),
        (
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities",
            "/subscriptions/s/resourceGroups/rg",
        ),
        (
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1",
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1",
        ),
        (
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1/federatedIdentityCredentials",
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1",
        ),
        (
            "/subscriptions/s/providers/Microsoft.Authorization/roleAssignments/g1",
            "/subscriptions/s/providers/Microsoft.Authorization/roleAssignments/g1",
        ),
        ("/subscriptions/s/providers/Microsoft.Authorization/roleAssignments", "/subscriptions/s"),
        (
            "/providers/Microsoft.Management/managementGroups/mg/providers/Microsoft.Authorization/roleAssignments",
            "/providers/Microsoft.Management/managementGroups/mg",
        ),
        ("/providers/Microsoft.Authorization/roleDefinitions", "/"),
        ("/subscriptions/s", "/subscriptions/s"),
    ],
)
def test_authorization_scope(path: str, scope: str) -> None:
    assert authorization_scope(path) == scope


def test_rbac_enforcement_answers_403_for_callers_without_a_role(
    fresh_emulator: Callable[..., RunningEmulator],
) -> None:
    rbac = pytest.importorskip("local_azure.rbac")
    emu = fresh_emulator(settings=Settings(enforce_rbac=True))
    path = "/subscriptions/11111111-1111-1111-1111-111111111111/resourcegroups"
    action = rbac.action_for("GET", path)
    emu.router.add("GET", path, _whoami, name="test.rgs", priority=50)
    stranger = _add_sp(emu)
    resp = requests.get(
        emu.info.endpoint + path,
        headers={"Authorization": f"Bearer {emu.issue_token(stranger.object_id)}"},
        verify=emu.info.ca_bundle,
        timeout=10,
    )
    assert resp.status_code == 403
    error = resp.json()["error"]
    assert error["code"] == "AuthorizationFailed"
    scope = "/subscriptions/11111111-1111-1111-1111-111111111111"
    assert error["message"] == (
        f"The client '{stranger.app_id}' with object id '{stranger.object_id}' does not have "
        f"authorization to perform action '{action}' over scope '{scope}' or the scope is "
        "invalid. If access was recently granted, please refresh your credentials."
    )
    operator = {"Authorization": f"Bearer {emu.issue_token()}"}
    resp = requests.get(
        emu.info.endpoint + path, headers=operator, verify=emu.info.ca_bundle, timeout=10
    )
    assert resp.status_code == 200


class _TokenFor:
    """A credential handing out emulator tokens for one principal."""

    def __init__(self, emu: RunningEmulator, object_id: str | None = None) -> None:
        self._emu = emu
        self._oid = object_id

    def get_token(self, *_scopes: str, **_kw: Any) -> AccessToken:
        return AccessToken(self._emu.issue_token(self._oid), int(time.time()) + 3600)


def test_rbac_through_the_sdk_guards_role_assignment_writes(
    fresh_emulator: Callable[..., RunningEmulator],
) -> None:
    pytest.importorskip("local_azure.rbac")
    from azure.core.exceptions import HttpResponseError
    from azure.mgmt.authorization import AuthorizationManagementClient

    emu = fresh_emulator(settings=Settings(enforce_rbac=True))
    sub = emu.info.subscription_ids[0]
    stranger = _add_sp(emu)
    reader = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
    scope = f"/subscriptions/{sub}"
    definitions = "/providers/Microsoft.Authorization/roleDefinitions"
    params = {
        "properties": {
            "roleDefinitionId": f"{scope}{definitions}/{reader}",
            "principalId": stranger.object_id,
            "principalType": "ServicePrincipal",
        }
    }
    name = str(uuid.uuid4())

    as_stranger = AuthorizationManagementClient(
        _TokenFor(emu, stranger.object_id), sub, **emu.sdk_kwargs()
    )
    # tenant-level reads of built-in role definitions need no role
    role = as_stranger.role_definitions.get_by_id(f"{definitions}/{reader}")
    assert role.role_name == "Reader"
    with pytest.raises(HttpResponseError) as denied:
        as_stranger.role_assignments.create(scope, name, params)
    assert denied.value.status_code == 403
    assert denied.value.error is not None
    assert denied.value.error.code == "AuthorizationFailed"
    message = str(denied.value.error.message)
    assert "'Microsoft.Authorization/roleAssignments/write'" in message
    assert f"over scope '{scope}/providers/Microsoft.Authorization/roleAssignments/{name}'" in (
        message
    )

    as_operator = AuthorizationManagementClient(_TokenFor(emu), sub, **emu.sdk_kwargs())
    created = as_operator.role_assignments.create(scope, name, params)
    assert created.principal_id == stranger.object_id
    # now a Reader at the subscription: reads pass, writes still do not
    assert [a.name for a in as_stranger.role_assignments.list_for_subscription()]
    with pytest.raises(HttpResponseError) as again:
        as_stranger.role_assignments.delete(scope, name)
    assert again.value.status_code == 403


def test_metadata_endpoints_and_jwks_need_no_token(emulator: RunningEmulator) -> None:
    if emulator.router.match("GET", "/metadata/endpoints") is None:
        pytest.skip("the resources provider serves /metadata/endpoints")
    for path in ("/metadata/endpoints?api-version=2022-09-01", "/_emulator/jwks"):
        resp = requests.get(
            emulator.info.endpoint + path, verify=emulator.info.ca_bundle, timeout=10
        )
        assert resp.status_code == 200, path
