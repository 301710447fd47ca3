"""Pure parts of the Azure boundary: identity-block patches, read scope, error mapping, world."""

from __future__ import annotations

import json
from typing import Any

import pytest
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
    ServiceRequestError,
)

from identity_reconciler.azure import errors
from identity_reconciler.azure.clients import open_session
from identity_reconciler.azure.localworld import world_for
from identity_reconciler.azure.reader import read_scope
from identity_reconciler.azure.resource_types import TypeCatalog
from identity_reconciler.core import armid
from identity_reconciler.core.state import (
    DesiredGrant,
    DesiredIdentity,
    DesiredResourceIdentity,
    DesiredSqlDatabase,
    DesiredState,
    FederatedCredential,
    PrincipalKind,
    PrincipalRef,
)

SUB = "11111111-1111-1111-1111-111111111111"
RG = f"/subscriptions/{SUB}/resourceGroups/rg-a"
UA1 = f"{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-1"
UA2 = f"{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-2"
SITE = f"{RG}/providers/Microsoft.Web/sites/app-a"
KV = f"{RG}/providers/Microsoft.KeyVault/vaults/kv-a"
MG = "/providers/Microsoft.Management/managementGroups/mg-x"
BOTH = "SystemAssigned, UserAssigned"


# --------------------------------------------------------------------------- read_scope


def desired_state() -> DesiredState:
    owned = {"managed-by": "identity-reconciler"}
    ident = DesiredIdentity(UA1, SUB, "rg-a", "id-1", "uksouth", owned,
                            federated_credentials=(FederatedCredential("gh", "https://i", "s"),))
    plain = DesiredIdentity(UA2, SUB, "rg-a", "id-2", "uksouth", {})
    other_sub = "33333333-3333-3333-3333-333333333333"
    grants = [
        DesiredGrant(PrincipalRef(PrincipalKind.USER_ASSIGNED, UA1), KV, "g1", "Reader"),
        DesiredGrant(PrincipalRef(PrincipalKind.USER_ASSIGNED, UA1), MG, "g2", "Reader"),
        DesiredGrant(PrincipalRef(PrincipalKind.SYSTEM_ASSIGNED, SITE),
                     f"/subscriptions/{other_sub}", "g3", "Reader"),
    ]
    return DesiredState(
        subscriptions=(SUB,),
        identities={armid.key(UA1): ident, armid.key(UA2): plain},
        resources={armid.key(SITE): DesiredResourceIdentity(SITE, "microsoft.web/SITES",
                                                              user_assigned=(UA1,))},
        grants={g.key: g for g in grants},
        sql=(DesiredSqlDatabase(
            f"{RG}/providers/Microsoft.Sql/servers/sql-a", "appdb"),),
    )


def test_read_scope() -> None:
    scope = read_scope(desired_state())
    assert scope.subscriptions == (SUB, "33333333-3333-3333-3333-333333333333")
    assert scope.management_groups == (MG,)
    assert scope.resources == {SITE: "Microsoft.Web/sites"}
    # only id-1's spec lists credentials; id-2's are not managed, so not read
    assert scope.credentials_of == frozenset({UA1.lower()})


# --------------------------------------------------------------------------- world_for


def test_world_for_adds_what_specs_reference() -> None:
    base: dict[str, Any] = {"tenant_id": "t", "subscriptions": [{"id": SUB, "resource_groups": [
        {"name": "RG-A", "location": "westeurope", "resources": [
            {"type": "Microsoft.Web/sites", "name": "app-a", "kind": "functionapp"}]}]}]}
    world = world_for(desired_state(), base)
    assert base["subscriptions"][0]["resource_groups"][0]["resources"] == [
        {"type": "Microsoft.Web/sites", "name": "app-a", "kind": "functionapp"}]  # not mutated
    subs = {s["id"]: s for s in world["subscriptions"]}
    assert set(subs) == {SUB, "33333333-3333-3333-3333-333333333333"}
    (rg,) = subs[SUB]["resource_groups"]
    assert rg["location"] == "westeurope"  # existing group kept as it was
    by_type = {(r["type"], r["name"]): r for r in rg["resources"]}
    assert by_type[("Microsoft.Web/sites", "app-a")]["kind"] == "functionapp"
    assert ("Microsoft.KeyVault/vaults", "kv-a") in by_type
    sql = by_type[("Microsoft.Sql/servers", "sql-a")]
    assert sql["databases"] == ["appdb"]
    assert sql["entra_admin"]["object_id"]
    assert [g["name"] for g in world["management_groups"]] == ["mg-x"]


def test_world_for_new_group_takes_identity_location() -> None:
    world = world_for(desired_state(), {"subscriptions": []})
    (sub,) = [s for s in world["subscriptions"] if s["id"] == SUB]
    assert sub["resource_groups"][0]["location"] == "uksouth"


# --------------------------------------------------------------------------- errors


class FakeResponse:
    def __init__(self, status: int, body: dict[str, Any] | None, headers: dict[str, str]) -> None:
        self.status_code = status
        self.reason = "Reason"
        self.headers = headers
        self._body = json.dumps(body) if body is not None else "not json"
        self.request = None

    def text(self, encoding: str | None = None) -> str:
        return self._body


def http_error(cls: type[HttpResponseError], status: int, code: str, message: str,
               headers: dict[str, str] | None = None) -> HttpResponseError:
    resp = FakeResponse(status, {"error": {"code": code, "message": message}},
                        {"x-ms-request-id": "req-1", **(headers or {})})
    return cls(response=resp)


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (http_error(ResourceNotFoundError, 404, "ResourceNotFound", "gone"), errors.NotFound),
        (http_error(ResourceExistsError, 409, "RoleAssignmentExists", "exists"),
         errors.RoleAssignmentExists),
        (http_error(ResourceExistsError, 409, "Conflict", "busy"), errors.Conflict),
        (http_error(HttpResponseError, 400, "PrincipalNotFound", "Principal x"),
         errors.PrincipalNotFound),
        (http_error(HttpResponseError, 400, "InvalidRoleAssignmentId", "bad"), errors.BadRequest),
        (http_error(HttpResponseError, 429, "TooManyRequests", "slow", {"Retry-After": "7"}),
         errors.Throttled),
        (http_error(HttpResponseError, 503, "ServiceUnavailable", "x"), errors.ServerError),
        (http_error(ClientAuthenticationError, 401, "InvalidAuthenticationToken", "x"),
         errors.AuthenticationFailed),
        (ClientAuthenticationError("no credential"), errors.AuthenticationFailed),
        (ServiceRequestError("Connection refused"), errors.ArmUnavailable),
    ],
)
def test_translate(exc: Exception, expected: type[errors.ArmRequestError]) -> None:
    out = errors.translate(exc)
    assert type(out) is expected
    if isinstance(exc, HttpResponseError) and exc.status_code:
        assert out.request_id == "req-1"
        assert out.status == exc.status_code
        assert "x-ms-request-id: req-1" in str(out)


def test_throttled_carries_retry_after() -> None:
    out = errors.translate(http_error(HttpResponseError, 429, "TooManyRequests", "slow",
                                      {"Retry-After": "7"}))
    assert isinstance(out, errors.Throttled)
    assert out.retry_after == 7.0


def test_forbidden_parses_action_and_scope() -> None:
    msg = ("The client 'c' with object id 'o' does not have authorization to perform action "
           f"'Microsoft.Authorization/roleAssignments/write' over scope '{KV}' or the scope is "
           "invalid. If access was recently granted, please refresh your credentials.")
    out = errors.translate(http_error(HttpResponseError, 403, "AuthorizationFailed", msg))
    assert isinstance(out, errors.Forbidden)
    assert out.action == "Microsoft.Authorization/roleAssignments/write"
    assert out.scope == KV


def test_tokens_never_reach_messages() -> None:
    token = "eyJhbGciOiJSUzI1NiJ9.eyJvaWQiOiJ4In0.c2lnbmF0dXJl"
    out = errors.translate(http_error(HttpResponseError, 400, "Bad", f"Bearer {token} rejected"))
    assert token not in str(out)
    assert "<redacted>" in str(out)


def test_arm_errors_context_translates_and_drops_chain() -> None:
    with pytest.raises(errors.NotFound) as info, errors.arm_errors():
        raise http_error(ResourceNotFoundError, 404, "NotFound", "gone")
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


# --------------------------------------------------------------------------- clouds


@pytest.mark.parametrize(
    ("cloud", "endpoint", "scope"),
    [
        ("azure", "https://management.azure.com", "https://management.azure.com/.default"),
        ("azure-china", "https://management.chinacloudapi.cn",
         "https://management.chinacloudapi.cn/.default"),
        ("azure-usgov", "https://management.usgovcloudapi.net",
         "https://management.core.usgovcloudapi.net/.default"),
    ],
)
def test_clouds_differ_only_in_endpoint_and_audience(cloud: str, endpoint: str, scope: str) -> None:
    with open_session(cloud) as session:  # builds clients; no request is sent
        assert (session.arm_endpoint, session.scope) == (endpoint, scope)
        client = session.msi(SUB)
        assert client._config.credential_scopes == [scope]
        assert client._client._base_url == endpoint
        assert session.authorization(SUB) is session.authorization(SUB)  # one per subscription
        assert session.requests == 0


def test_unknown_cloud() -> None:
    with pytest.raises(ValueError, match="azure-usgov"):
        open_session("azure-germany")


# --------------------------------------------------------------------------- resource types


def test_known_types_need_no_lookup_and_unknown_ones_ask_once_per_namespace() -> None:
    asked: list[str] = []

    def lookup(namespace: str) -> dict[str, list[str]]:
        asked.append(namespace)
        return {"widgets": ["2021-01-01", "2024-05-01", "2025-01-01-preview"], "gadgets": []}

    catalog = TypeCatalog()
    assert catalog.get("microsoft.web/SITES", lookup).api_version == "2024-11-01"
    assert asked == []
    widget = catalog.get("Contoso.Things/widgets", lookup)
    assert (widget.name, widget.api_version) == ("Contoso.Things/widgets", "2024-05-01")
    assert catalog.get("contoso.things/WIDGETS", lookup) is widget
    with pytest.raises(errors.ArmRequestError, match="not registered"):
        catalog.get("Contoso.Things/gizmos", lookup)
    assert asked == ["Contoso.Things"]
