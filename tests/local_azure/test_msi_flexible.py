"""Flexible federated credentials (`claimsMatchingExpression`, api-version 2025-01-31-preview
and later) through the real SDK: azure-mgmt-resource's generic resource client writes them at
that api-version, and azure-mgmt-msi (2024-11-30) still reads and lists the identity's
credentials. Azure's rules: a subject or an expression, never both; language version 1; a
well-formed expression; issuer and expression unique per identity."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.identity import ManagedIdentityCredential
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.resource.resources import ResourceManagementClient

SUB = "11111111-1111-1111-1111-111111111111"
RG = "rg-myapp-prod-uks-01"
FLEX = "2025-01-31-preview"
ISSUER = "https://token.actions.githubusercontent.com"
AUDIENCES = ["api://AzureADTokenExchange"]
EXPRESSION = {"languageVersion": 1, "value": "claims['sub'] matches 'repo:contoso/app:*'"}


@pytest.fixture
def clients(
    credential: ManagedIdentityCredential, sdk_kwargs: dict[str, Any]
) -> Iterator[tuple[ResourceManagementClient, ManagedServiceIdentityClient, str]]:
    with (
        ResourceManagementClient(credential, SUB, **sdk_kwargs) as rm,
        ManagedServiceIdentityClient(credential, SUB, **sdk_kwargs) as msi,
    ):
        name = f"id-flex-{uuid.uuid4().hex[:8]}"
        identity = msi.user_assigned_identities.create_or_update(RG, name, {"location": "uksouth"})
        yield rm, msi, str(identity.id)
        msi.user_assigned_identities.delete(RG, name)


def _put(rm: ResourceManagementClient, fic_id: str, props: dict[str, Any], version: str) -> Any:
    return rm.resources.begin_create_or_update_by_id(
        fic_id, {"properties": props}, api_version=version
    ).result(timeout=20)


def test_flexible_credential_round_trip(clients: Any) -> None:
    rm, msi, identity_id = clients
    fic_id = f"{identity_id}/federatedIdentityCredentials/github-any-branch"
    props = {"issuer": ISSUER, "audiences": AUDIENCES, "claimsMatchingExpression": EXPRESSION}
    created = _put(rm, fic_id, props, FLEX)
    assert created.properties == props
    got = rm.resources.get_by_id(fic_id, api_version=FLEX)
    assert got.properties["claimsMatchingExpression"] == EXPRESSION
    assert "subject" not in got.properties
    # an SDK pinned before 2025-01-31-preview sees the credential without the expression
    name = identity_id.rsplit("/", 1)[-1]
    old = msi.federated_identity_credentials.get(RG, name, "github-any-branch")
    assert old.issuer == ISSUER
    assert old.subject is None
    assert [f.name for f in msi.federated_identity_credentials.list(RG, name)] == [
        "github-any-branch"
    ]


@pytest.mark.parametrize(
    ("props", "target"),
    [
        ({"subject": "repo:contoso/app:main", "claimsMatchingExpression": EXPRESSION},
         "properties.claimsMatchingExpression"),
        ({"claimsMatchingExpression": {"languageVersion": 2, "value": EXPRESSION["value"]}},
         "properties.claimsMatchingExpression.languageVersion"),
        ({"claimsMatchingExpression": {"languageVersion": 1, "value": "sub == 'x'"}},
         "properties.claimsMatchingExpression.value"),
        ({"claimsMatchingExpression": {"languageVersion": 1}},
         "properties.claimsMatchingExpression.value"),
    ],
)  # fmt: skip
def test_flexible_credential_validation(clients: Any, props: dict[str, Any], target: str) -> None:
    rm, _msi, identity_id = clients
    fic_id = f"{identity_id}/federatedIdentityCredentials/bad"
    with pytest.raises(HttpResponseError) as info:
        _put(rm, fic_id, {"issuer": ISSUER, "audiences": AUDIENCES, **props}, FLEX)
    assert info.value.status_code == 400
    assert info.value.error is not None
    assert info.value.error.code == "BadRequest"
    assert info.value.error.target == target


def test_an_and_inside_quotes_belongs_to_the_comparand(clients: Any) -> None:
    """Quotes delimit a comparand, so `and` inside one does not split the clause (splitting
    first refused what validate accepts, and failed an apply halfway)."""
    rm, _msi, identity_id = clients
    value = (
        "claims['sub'] matches 'repo:contoso/rock and roll:*' and "
        "claims['repository_id'] eq '123'"
    )
    expression = {"languageVersion": 1, "value": value}
    props = {"issuer": ISSUER, "audiences": AUDIENCES, "claimsMatchingExpression": expression}
    created = _put(rm, f"{identity_id}/federatedIdentityCredentials/quoted-and", props, FLEX)
    assert created.properties["claimsMatchingExpression"] == expression
    bad = {**expression, "value": "claims['sub'] matches 'x' and"}  # a dangling `and`
    dangling = {**props, "claimsMatchingExpression": bad}
    with pytest.raises(HttpResponseError) as info:
        _put(rm, f"{identity_id}/federatedIdentityCredentials/dangling", dangling, FLEX)
    assert info.value.status_code == 400


@pytest.mark.parametrize("version", ["2024-11-30", "2026-04-30", "2026-05-31"])
def test_versions_without_the_expression_refuse_it(clients: Any, version: str) -> None:
    """Older versions, and the stable versions published after the previews, do not define
    claimsMatchingExpression: a write naming one is refused, even beside a subject, rather than
    stored as a plain subject credential."""
    rm, _msi, identity_id = clients
    fic_id = f"{identity_id}/federatedIdentityCredentials/too-old"
    for extra in ({}, {"subject": "repo:contoso/app:ref:refs/heads/main"}):
        props = {"issuer": ISSUER, "audiences": AUDIENCES, "claimsMatchingExpression": EXPRESSION}
        with pytest.raises(HttpResponseError) as info:
            _put(rm, fic_id, {**props, **extra}, version)
        assert info.value.status_code == 400
        assert info.value.error is not None
        assert info.value.error.target == "properties.claimsMatchingExpression"
    with pytest.raises(HttpResponseError) as gone:
        rm.resources.get_by_id(fic_id, api_version=FLEX)
    assert gone.value.status_code == 404


@pytest.mark.parametrize("version", ["2026-05-31", "2024-11-30"])
def test_versions_without_the_expression_read_it_without_one(clients: Any, version: str) -> None:
    rm, _msi, identity_id = clients
    fic_id = f"{identity_id}/federatedIdentityCredentials/flexible"
    props = {"issuer": ISSUER, "audiences": AUDIENCES, "claimsMatchingExpression": EXPRESSION}
    _put(rm, fic_id, props, "2025-05-31-preview")
    got = rm.resources.get_by_id(fic_id, api_version=version)
    assert got.properties == {"issuer": ISSUER, "audiences": AUDIENCES}
    assert rm.resources.get_by_id(fic_id, api_version=FLEX).properties == props


def test_a_subject_put_at_a_flexible_version_replaces_the_expression(clients: Any) -> None:
    rm, _msi, identity_id = clients
    fic_id = f"{identity_id}/federatedIdentityCredentials/switch"
    flexible = {"issuer": ISSUER, "audiences": AUDIENCES, "claimsMatchingExpression": EXPRESSION}
    _put(rm, fic_id, flexible, FLEX)
    exact = {"issuer": ISSUER, "audiences": AUDIENCES, "subject": "repo:contoso/app:pull_request"}
    assert _put(rm, fic_id, {**exact, "claimsMatchingExpression": None}, FLEX).properties == exact
    assert rm.resources.get_by_id(fic_id, api_version=FLEX).properties == exact


def test_issuer_and_expression_are_unique_per_identity(clients: Any) -> None:
    rm, _msi, identity_id = clients
    props = {"issuer": ISSUER, "audiences": AUDIENCES, "claimsMatchingExpression": EXPRESSION}
    _put(rm, f"{identity_id}/federatedIdentityCredentials/first", props, FLEX)
    with pytest.raises(HttpResponseError) as info:
        _put(rm, f"{identity_id}/federatedIdentityCredentials/second", props, FLEX)
    assert info.value.status_code == 400
    assert "claimsMatchingExpression" in str(info.value)
