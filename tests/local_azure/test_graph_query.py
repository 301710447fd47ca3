"""The Graph endpoint's OData: `$filter` clauses, `$select`, `$top` and skip tokens (pure)."""

from __future__ import annotations

import pytest

from local_azure.graph.query import (
    GraphError,
    next_link,
    page_size,
    parse_filter,
    project,
    select,
    skip,
)

ALLOWED = {"appId": "string", "displayName": "string", "servicePrincipalNames": "list"}
SPS = [
    {"id": "1", "appId": "a1", "displayName": "O'Brien app", "servicePrincipalNames": ["a1"]},
    {"id": "2", "appId": "a2", "displayName": "id-web", "servicePrincipalNames": ["a2", "x"]},
    {"id": "3", "appId": "a3", "displayName": "ID-WEB-2", "servicePrincipalNames": ["a3"]},
]


def ids(text: str) -> list[str]:
    clauses, joiner = parse_filter(text, ALLOWED, "ServicePrincipal")
    return [o["id"] for o in select(SPS, clauses, joiner)]


def test_clauses_match_as_graph_does() -> None:
    assert ids("appId eq 'a2'") == ["2"]
    assert ids("displayName eq 'o''brien app'") == ["1"]  # quotes doubled; case ignored
    assert ids("startswith(displayName,'id-web')") == ["2", "3"]
    assert ids("servicePrincipalNames/any(c:c eq 'x')") == ["2"]
    assert ids("appId in ('a1', 'a3')") == ["1", "3"]
    assert ids("appId eq 'a1' or appId eq 'a3'") == ["1", "3"]
    assert ids("startswith(displayName,'id') and appId eq 'a3'") == ["3"]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("notes eq 'x'", "Request_UnsupportedQuery"),
        ("appId/any(c:c eq 'x')", "Request_UnsupportedQuery"),  # not a collection
        ("servicePrincipalNames eq 'x'", "Request_UnsupportedQuery"),  # a collection
        ("appId eq 'a' and appId eq 'b' or appId eq 'c'", "BadRequest"),
        ("appId = 'a'", "BadRequest"),
        ("servicePrincipalNames/any(c:d eq 'x')", "BadRequest"),
    ],
)
def test_filters_graph_cannot_run_are_400(text: str, code: str) -> None:
    with pytest.raises(GraphError) as info:
        parse_filter(text, ALLOWED, "ServicePrincipal")
    assert info.value.status == 400
    assert info.value.code == code
    assert "innerError" in info.value.body()["error"]


def test_paging_and_select() -> None:
    assert page_size(None) == 100
    assert page_size("999") == 999
    for bad in ("0", "1000", "x"):
        with pytest.raises(GraphError):
            page_size(bad)
    assert skip(None) == 0
    assert skip("20") == 20
    with pytest.raises(GraphError):
        skip("abc")
    link = next_link("https://h", "/graph/v1.0/users", {"$top": "2", "$skiptoken": "2"}, 4)
    assert link == "https://h/graph/v1.0/users?$top=2&$skiptoken=4"
    assert project(SPS[0], "displayName") == {"id": "1", "displayName": "O'Brien app"}
    assert project(SPS[0], None) == SPS[0]
