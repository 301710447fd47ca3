"""RBAC enforced on the emulator's callers, end to end: a user-assigned identity signs in through
the managed-identity endpoint and is allowed exactly what its role assignments grant."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.identity import ManagedIdentityCredential
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.msi import ManagedServiceIdentityClient

from local_azure.api import RunningEmulator
from local_azure.kernel import Settings

SUB = "11111111-1111-1111-1111-111111111111"
RG = "rg-myapp-prod-uks-01"
SCOPE = f"/subscriptions/{SUB}/resourceGroups/{RG}"
USER = "a1f4c2d8-3e5b-4a79-8c61-0d2e9f7b4c13"
RD = f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
RBAC_ADMIN = "f58310d9-a9f6-439a-9e8d-f62e7b41a168"
KV_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
CONSTRAINED = (
    "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR "
    "(@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] "
    f"ForAnyOfAnyValues:GuidEquals {{{KV_SECRETS_USER}}}))"
)


@pytest.fixture
def cloud(fresh_emulator: Any, identity_env: Any) -> Iterator[tuple[RunningEmulator, Any, Any]]:
    emu = fresh_emulator(settings=Settings(enforce_rbac=True))
    identity_env(emu)
    operator = ManagedIdentityCredential(connection_verify=emu.info.ca_bundle)
    with (
        ManagedServiceIdentityClient(operator, SUB, **emu.sdk_kwargs()) as msi,
        AuthorizationManagementClient(operator, SUB, **emu.sdk_kwargs()) as auth,
    ):
        yield emu, msi, auth
    operator.close()


def grant(auth: AuthorizationManagementClient, role: str, principal: str, **extra: Any) -> None:
    params = {"role_definition_id": f"{RD}/{role}", "principal_id": principal, **extra}
    auth.role_assignments.create(SCOPE, str(uuid.uuid4()), params)


def denied(err: pytest.ExceptionInfo[HttpResponseError]) -> bool:
    return err.value.status_code == 403 and getattr(err.value.error, "code", "") == (
        "AuthorizationFailed"
    )


def test_an_identity_gets_what_its_roles_grant(cloud: Any) -> None:
    emu, msi, auth = cloud
    worker = msi.user_assigned_identities.create_or_update(RG, "id-worker", {"location": "uksouth"})
    as_worker = ManagedIdentityCredential(
        client_id=worker.client_id, connection_verify=emu.info.ca_bundle
    )
    with (
        ManagedServiceIdentityClient(as_worker, SUB, **emu.sdk_kwargs()) as worker_msi,
        AuthorizationManagementClient(as_worker, SUB, **emu.sdk_kwargs()) as worker_auth,
    ):
        with pytest.raises(HttpResponseError) as before:
            list(worker_msi.user_assigned_identities.list_by_resource_group(RG))
        assert denied(before)

        grant(auth, READER, worker.principal_id, principal_type="ServicePrincipal")
        assert "id-worker" in [
            i.name for i in worker_msi.user_assigned_identities.list_by_resource_group(RG)
        ]
        with pytest.raises(HttpResponseError) as write:
            worker_msi.user_assigned_identities.create_or_update(
                RG, "id-x", {"location": "uksouth"}
            )
        assert denied(write)

        grant(auth, RBAC_ADMIN, worker.principal_id, principal_type="ServicePrincipal",
              condition=CONSTRAINED, condition_version="2.0")  # fmt: skip
        grant(worker_auth, KV_SECRETS_USER, USER, principal_type="User")
        with pytest.raises(HttpResponseError) as escalate:
            grant(worker_auth, OWNER, USER, principal_type="User")
        assert denied(escalate)
    as_worker.close()
