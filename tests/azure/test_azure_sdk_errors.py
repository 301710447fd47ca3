"""ARM failures reach callers as our own error types, with code and x-ms-request-id, via the SDK."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from azure.core.credentials import AccessToken
from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters

from identity_reconciler.azure import errors, execute, reader
from identity_reconciler.azure.clients import Session, connect, connect_emulator
from identity_reconciler.core import ownership
from local_azure.api import RunningEmulator
from local_azure.kernel import Settings

SUB = "11111111-1111-1111-1111-111111111111"
RG = "rg-myapp-prod-uks-01"
RG_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}"
ID_E = f"{RG_ID}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-errors"
KV = f"{RG_ID}/providers/Microsoft.KeyVault/vaults/kv-myapp-prod-uks-01"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
ADA = "a1f4c2d8-3e5b-4a79-8c61-0d2e9f7b4c13"  # a user with Reader on the resource group


@dataclass(frozen=True)
class Op:
    """One planned ARM write, as apply sends it (`plan.Operation`)."""

    method: str
    id: str
    body: dict[str, Any] | None = None


def grant_body(principal_id: str) -> dict[str, Any]:
    return {"properties": {
        "roleDefinitionId": f"/providers/Microsoft.Authorization/roleDefinitions/{READER}",
        "principalId": principal_id,
    }}


class StaticCredential:
    """A fixed bearer token (a chosen principal's, or garbage)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self.token, int(time.time()) + 3600)


def session_as(emu: RunningEmulator, token: str, **kw: Any) -> Session:
    return connect(emu.info.endpoint, StaticCredential(token), ca_bundle=emu.info.ca_bundle,
                   tenant_id=emu.info.tenant_id, **kw)


def assert_request_id(exc: errors.ArmRequestError) -> None:
    assert exc.request_id
    assert f"x-ms-request-id: {exc.request_id}" in str(exc)


def test_not_found(emulator: RunningEmulator) -> None:
    with connect_emulator(emulator.info) as s:
        with pytest.raises(errors.NotFound) as info:
            reader.list_identities(s, "99999999-9999-9999-9999-999999999999")
        assert info.value.status == 404
        assert info.value.code == "SubscriptionNotFound"
        assert_request_id(info.value)
        missing = f"{RG_ID}/providers/Microsoft.Web/sites/app-missing"
        assert not reader.read_resource(s, missing, "Microsoft.Web/sites").exists
        with pytest.raises(errors.NotFound):
            execute.run_operation(
                s, "system_assigned", Op("PATCH", missing, {"identity": {"type": "SystemAssigned"}})
            )


def test_role_assignment_exists_and_principal_not_found(
    fresh_emulator: Callable[..., RunningEmulator],
) -> None:
    emu = fresh_emulator()
    with connect_emulator(emu.info) as s:
        principal_id = execute.run_operation(
            s, "identity", Op("PUT", ID_E, {"location": "uksouth", "tags": {}})
        ).principal_id
        assert principal_id
        s.authorization(SUB).role_assignments.create(
            KV, "5d0c1f5e-7a63-4f2b-8a0e-6e3c9b1d2f47",
            RoleAssignmentCreateParameters(
                role_definition_id=f"/providers/Microsoft.Authorization/roleDefinitions/{READER}",
                principal_id=principal_id, principal_type="ServicePrincipal"))
        ours = f"{KV}/providers/Microsoft.Authorization/roleAssignments/" + (
            ownership.assignment_name(KV, READER, principal_id)
        )
        with pytest.raises(errors.RoleAssignmentExists) as exists:
            execute.run_operation(s, "grant", Op("PUT", ours, grant_body(principal_id)))
        assert exists.value.status == 409
        assert_request_id(exists.value)
        unknown = "0f6a5c1e-2b3d-4e5f-8a9b-0c1d2e3f4a5b"
        with pytest.raises(errors.PrincipalNotFound) as missing:
            execute.run_operation(s, "grant", Op("PUT", ours, grant_body(unknown)))
        assert missing.value.status == 400
        assert_request_id(missing.value)


def test_forbidden_names_action_and_scope(fresh_emulator: Callable[..., RunningEmulator]) -> None:
    emu = fresh_emulator(settings=Settings(enforce_rbac=True))
    with session_as(emu, emu.issue_token(ADA)) as s:
        assert reader.list_scope_grants(s, RG_ID, SUB) is not None  # Reader on the group: fine
        with pytest.raises(errors.Forbidden) as info:
            reader.list_identities(s, SUB)
    exc = info.value
    assert exc.status == 403
    assert exc.code == "AuthorizationFailed"
    assert exc.action == "Microsoft.ManagedIdentity/userAssignedIdentities/read"
    assert exc.scope == f"/subscriptions/{SUB}"
    assert_request_id(exc)


def test_bad_token_is_authentication_failed_without_the_token(emulator: RunningEmulator) -> None:
    token = "eyJhbGciOiJSUzI1NiJ9.eyJvaWQiOiJub2JvZHkifQ.bm90LWEtc2lnbmF0dXJl"
    with session_as(emulator, token) as s, pytest.raises(errors.AuthenticationFailed) as info:
        reader.list_identities(s, SUB)
    assert info.value.status == 401
    assert token not in str(info.value)
    assert "eyJ" not in str(info.value)


def test_throttled_is_retried_then_mapped(fresh_emulator: Callable[..., RunningEmulator]) -> None:
    emu = fresh_emulator(settings=Settings(throttle=True))
    emu.configure(throttle_limits={"reads": {"burst": 2, "per_second": 2}})
    with connect_emulator(emu.info) as s:
        for _ in range(3):  # the third waits out Retry-After and succeeds
            reader.list_identities(s, SUB)
        assert s.counter.by_method()["GET"] >= 4  # retries are counted
    emu.configure(throttle_limits={"reads": {"burst": 1, "per_second": 0.01}})
    with connect_emulator(emu.info, retries=0) as s:
        reader.list_identities(s, SUB)
        with pytest.raises(errors.Throttled) as info:
            reader.list_identities(s, SUB)
    assert info.value.status == 429
    assert info.value.retry_after is not None
    assert info.value.retry_after > 0
    assert_request_id(info.value)


def test_no_server_is_unavailable() -> None:
    s = connect("https://127.0.0.1:9", StaticCredential("x"), retries=0)
    with s, pytest.raises(errors.ArmUnavailable) as info:
        reader.list_identities(s, SUB)
    assert info.value.status == 0
    assert "127.0.0.1" in str(info.value) or "connect" in str(info.value).lower()
