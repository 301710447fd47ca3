"""The emulator's Microsoft Graph, reached as azure-cli reaches it: the Graph resource from
`/metadata/endpoints`, a token for that resource from the managed-identity endpoint through
azure-identity, and requests through an azure-core pipeline with bearer-token auth."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from azure.core import PipelineClient
from azure.core.pipeline.policies import BearerTokenCredentialPolicy, RetryPolicy
from azure.core.rest import HttpRequest
from azure.identity import ManagedIdentityCredential
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.msi import ManagedServiceIdentityClient

from local_azure.api import RunningEmulator

SUB = "11111111-1111-1111-1111-111111111111"
RG = "rg-myapp-prod-uks-01"
ADA = "a1f4c2d8-3e5b-4a79-8c61-0d2e9f7b4c13"
SQLADMINS = "b7e2d9c4-1a6f-4e38-9b50-2c8d4f1e6a97"
OPERATOR = "5c0b2f9e-7d4a-4c61-9a8e-3f1d6b2e9a70"
OPERATOR_APP = "8f3e1a27-2b6c-4d95-a0e4-6c7b9d1f2e35"


def graph_resource(emu: RunningEmulator) -> str:
    meta = requests.get(
        f"{emu.info.endpoint}/metadata/endpoints?api-version=2022-09-01",
        verify=emu.info.ca_bundle,
        timeout=10,
    ).json()
    return str(meta["microsoftGraphResourceId"])


class Graph:
    """What azure-cli's GraphClient does: `{resource without /}/v1.0{path}`, bearer auth."""

    def __init__(self, emu: RunningEmulator, credential: ManagedIdentityCredential) -> None:
        self.resource = graph_resource(emu)
        self.endpoint = self.resource.rstrip("/")
        scope = self.resource + ("" if self.resource.endswith("/") else "/") + ".default"
        self.client: PipelineClient[Any, Any] = PipelineClient(
            self.endpoint,
            policies=[
                RetryPolicy(retry_total=0),
                BearerTokenCredentialPolicy(credential, scope),
            ],
            connection_verify=emu.info.ca_bundle,
        )

    def send(self, method: str, path: str, **kw: Any) -> Any:
        url = path if path.startswith("https://") else f"{self.endpoint}/v1.0{path}"
        return self.client.send_request(HttpRequest(method, url, **kw))


@pytest.fixture
def graph(emulator: RunningEmulator, credential: ManagedIdentityCredential) -> Iterator[Graph]:
    g = Graph(emulator, credential)
    yield g
    g.client.close()


def test_metadata_advertises_the_emulators_graph_only(emulator: RunningEmulator) -> None:
    resource = graph_resource(emulator)
    assert resource == f"{emulator.info.endpoint}/graph/"
    for version in ("2015-01-01", "2019-05-01", "2022-09-01"):
        text = requests.get(
            f"{emulator.info.endpoint}/metadata/endpoints?api-version={version}",
            verify=emulator.info.ca_bundle,
            timeout=10,
        ).text
        assert "graph.microsoft.com" not in text
        assert "graph.windows.net" not in text


def test_get_by_ids_names_principals_of_role_assignments(
    graph: Graph, credential: ManagedIdentityCredential, sdk_kwargs: dict[str, Any]
) -> None:
    # what `az role assignment list` does: list assignments, then name their principals
    with AuthorizationManagementClient(credential, SUB, **sdk_kwargs) as auth:
        ids = sorted({a.principal_id for a in auth.role_assignments.list_for_subscription()})
    assert ADA in ids
    resp = graph.send("POST", "/directoryObjects/getByIds", json={"ids": [*ids, "0" * 32]})
    assert resp.status_code == 200
    body = resp.json()
    assert body["@odata.context"].endswith("/v1.0/$metadata#directoryObjects")
    by_id = {o["id"]: o for o in body["value"]}
    assert set(by_id) == set(ids)  # an unknown id is left out
    assert by_id[ADA]["@odata.type"] == "#microsoft.graph.user"
    assert by_id[ADA]["userPrincipalName"] == "ada@contoso.onmicrosoft.com"
    assert by_id[OPERATOR]["@odata.type"] == "#microsoft.graph.servicePrincipal"
    assert by_id[OPERATOR]["appId"] == OPERATOR_APP
    only_users = graph.send(
        "POST", "/directoryObjects/getByIds", json={"ids": ids, "types": ["user"]}
    ).json()
    assert [o["id"] for o in only_users["value"]] == [ADA]
    # azure-cli's `role assignment list` asks for these types
    az_types = ["user", "group", "servicePrincipal", "directoryObjectPartnerReference"]
    named = graph.send("POST", "/directoryObjects/getByIds", json={"ids": ids, "types": az_types})
    assert named.status_code == 200
    assert {o["id"] for o in named.json()["value"]} == set(ids)
    bad = graph.send("POST", "/directoryObjects/getByIds", json={"ids": ids, "types": ["nope"]})
    assert bad.status_code == 400


def test_service_principals_by_id_and_filter(
    graph: Graph, credential: ManagedIdentityCredential, sdk_kwargs: dict[str, Any]
) -> None:
    with ManagedServiceIdentityClient(credential, SUB, **sdk_kwargs) as msi:
        identity = msi.user_assigned_identities.create_or_update(
            RG, "id-graph-sp", {"location": "uksouth"}
        )
    sp = graph.send("GET", f"/servicePrincipals/{identity.principal_id}").json()
    assert sp["id"] == identity.principal_id
    assert sp["appId"] == identity.client_id
    assert sp["displayName"] == "id-graph-sp"
    assert sp["servicePrincipalType"] == "ManagedIdentity"
    assert sp["alternativeNames"] == ["isExplicit=True", identity.id]
    assert sp["@odata.context"].endswith("$metadata#servicePrincipals/$entity")

    for clause in (
        f"appId eq '{identity.client_id}'",
        "displayName eq 'id-graph-sp'",
        f"servicePrincipalNames/any(c:c eq '{identity.client_id}')",
        "startswith(displayName,'id-graph-')",
    ):
        found = graph.send("GET", "/servicePrincipals", params={"$filter": clause}).json()
        assert [o["id"] for o in found["value"]] == [identity.principal_id], clause
    by_app = graph.send("GET", f"/servicePrincipals(appId='{identity.client_id}')").json()
    assert by_app["id"] == identity.principal_id
    unsupported = graph.send("GET", "/servicePrincipals", params={"$filter": "notes eq 'x'"})
    assert unsupported.status_code == 400
    assert unsupported.json()["error"]["code"] == "Request_UnsupportedQuery"
    missing = graph.send("GET", f"/servicePrincipals/{ADA}")  # a user, not a service principal
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "Request_ResourceNotFound"


def test_users_groups_and_paging(graph: Graph) -> None:
    user = graph.send("GET", f"/users/{ADA}").json()
    assert user["displayName"] == "ada@contoso.onmicrosoft.com"
    assert user["userPrincipalName"] == "ada@contoso.onmicrosoft.com"
    group = graph.send("GET", f"/groups/{SQLADMINS}", params={"$select": "displayName"}).json()
    assert group == {
        "@odata.context": group["@odata.context"],
        "id": SQLADMINS,
        "displayName": "sqladmins",
    }
    assert graph.send("GET", f"/groups/{ADA}").status_code == 404
    first = graph.send("GET", "/servicePrincipals", params={"$top": "1"}).json()
    assert len(first["value"]) == 1
    seen = [first["value"][0]["id"]]
    link = first.get("@odata.nextLink")
    while link:
        page = graph.send("GET", link).json()
        seen += [o["id"] for o in page["value"]]
        link = page.get("@odata.nextLink")
    everything = graph.send("GET", "/servicePrincipals").json()["value"]
    assert seen == [o["id"] for o in everything]
    assert len(seen) >= 1


def test_graph_and_arm_keep_their_audiences(
    emulator: RunningEmulator, graph: Graph, credential: ManagedIdentityCredential
) -> None:
    arm_token = emulator.issue_token()
    resp = requests.get(
        f"{graph.endpoint}/v1.0/users/{ADA}",
        headers={"Authorization": f"Bearer {arm_token}"},
        verify=emulator.info.ca_bundle,
        timeout=10,
    )
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert "innerError" in resp.json()["error"]
    graph_token = credential.get_token(graph.resource + ".default").token
    resp = requests.get(
        f"{emulator.info.endpoint}/subscriptions?api-version=2022-12-01",
        headers={"Authorization": f"Bearer {graph_token}"},
        verify=emulator.info.ca_bundle,
        timeout=10,
    )
    assert resp.status_code == 401
    # the public Graph name is accepted by the emulator's Graph too
    public = emulator.issue_token(resource="https://graph.microsoft.com")
    resp = requests.get(
        f"{graph.endpoint}/v1.0/users/{ADA}",
        headers={"Authorization": f"Bearer {public}"},
        verify=emulator.info.ca_bundle,
        timeout=10,
    )
    assert resp.status_code == 200


def test_unknown_graph_paths_answer_like_graph(graph: Graph) -> None:
    resp = graph.send("GET", "/applications")
    assert resp.status_code == 400
    assert resp.json()["error"]["message"] == "Resource not found for the segment 'applications'."
