"""Role assignment lists: at/above/below semantics, filters, paging, and permissions."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from authz_world import (
    BASE,
    BLOB_READER,
    CONTRIBUTOR,
    KV_SECRETS_USER,
    MG,
    MG_PREFIX,
    MG_ROOT,
    OWNER,
    RBAC_ADMIN,
    READER,
    RG,
    RG2,
    SITE,
    SUB,
    SUB2,
    VAULT,
    World,
    error_code,
    make_world,
)

from local_azure.kernel import Settings

RA = "/providers/Microsoft.Authorization/roleAssignments"


@pytest.fixture(scope="module")
def world() -> World:
    """One assignment per scope level for `user`, plus a few for others."""
    w = make_world(Settings(page_size=3))
    scopes = {
        "root": "",
        "mg-root": MG_PREFIX + MG_ROOT,
        "mg": MG_PREFIX + MG,
        "sub": f"/subscriptions/{SUB}",
        "rg": f"/subscriptions/{SUB}/resourceGroups/{RG}",
        "site": SITE,
        "rg2": f"/subscriptions/{SUB}/resourceGroups/{RG2}",
        "sub2": f"/subscriptions/{SUB2}",
    }
    for label, scope in scopes.items():
        response = w.assign(scope, READER, w.user, name=_name(label))
        assert response.status == 201, response.body
    assert w.assign(VAULT, READER, w.operator, name=_name("vault-op")).status == 201
    assert w.assign(scopes["sub"], READER, w.group, name=_name("sub-group")).status == 201
    return w


def _name(label: str) -> str:
    digits = "".join(f"{ord(c):02x}" for c in label)[:12].ljust(12, "0")
    return f"00000000-0000-4000-8000-{digits}"


def listed(world: World, scope: str, flt: str | None = None) -> set[str]:
    query = {"$filter": flt} if flt is not None else None
    return {item["name"] for item in world.follow(f"{scope}{RA}", query=query)}


def names(*labels: str) -> set[str]:
    return {_name(label) for label in labels}


def test_no_filter_lists_at_above_and_below(world: World) -> None:
    rg = f"/subscriptions/{SUB}/resourceGroups/{RG}"
    assert listed(world, rg) == names("root", "mg-root", "mg", "sub", "rg", "site", "vault-op",
                                      "sub-group")  # fmt: skip
    assert listed(world, f"/subscriptions/{SUB}") == names(
        "root", "mg-root", "mg", "sub", "rg", "site", "rg2", "vault-op", "sub-group"
    )


def test_at_scope_lists_at_and_above_only(world: World) -> None:
    rg = f"/subscriptions/{SUB}/resourceGroups/{RG}"
    assert listed(world, rg, "atScope()") == names("root", "mg-root", "mg", "sub", "rg",
                                                   "sub-group")  # fmt: skip
    assert listed(world, SITE, "atScope()") == names("root", "mg-root", "mg", "sub", "rg", "site",
                                                     "sub-group")  # fmt: skip


@pytest.mark.parametrize(
    "template",
    [
        "principalId eq '{p}'",
        "principalId%20eq%20'{p}'",
        "principalId+eq+'{p}'",
        "principalId%20eq%20%27{p}%27",
        "assignedTo('{p}')",
    ],
)
def test_principal_filters_list_at_above_and_below(world: World, template: str) -> None:
    flt = template.format(p=world.user)
    assert listed(world, f"/subscriptions/{SUB}", flt) == names(
        "root", "mg-root", "mg", "sub", "rg", "site", "rg2"
    )
    assert listed(world, f"/subscriptions/{SUB}", template.format(p=world.operator)) == names(
        "vault-op"
    )


def test_at_scope_and_assigned_to(world: World) -> None:
    rg = f"/subscriptions/{SUB}/resourceGroups/{RG}"
    flt = f"atScope() and assignedTo('{world.user}')"
    assert listed(world, rg, flt) == names("root", "mg-root", "mg", "sub", "rg")


def test_management_group_scope_reaches_its_subscriptions(world: World) -> None:
    everything = listed(world, MG_PREFIX + MG)
    assert names("mg", "mg-root", "root", "sub", "sub2", "rg", "rg2", "site") <= everything
    assert listed(world, MG_PREFIX + MG, "atScope()") == names("root", "mg-root", "mg")
    assert listed(world, "", "atScope()") == names("root")


@pytest.mark.parametrize(
    "flt",
    [
        "principalId eq 11111111-1111-1111-1111-111111111111",
        "atScope() and principalId eq '11111111-1111-1111-1111-111111111111'",
        "roleDefinitionId eq 'x'",
        "atScope() and atScope() and atScope()",
        "principalId",
    ],
)
def test_unsupported_filters(world: World, flt: str) -> None:
    response = world.call("GET", f"/subscriptions/{SUB}{RA}", query={"$filter": flt})
    assert response.status == 400
    assert error_code(response) == "UnsupportedQuery"
    assert isinstance(response.body, dict)
    assert response.body["error"]["message"].endswith(
        "is not supported. Supported filters are either 'atScope()' or 'principalId eq "
        "'{value}' or assignedTo('{value}')'."
    )


def test_next_links_carry_filter_and_skip_token(world: World) -> None:
    flt = f"principalId eq '{world.user}'"
    first = world.call("GET", f"/subscriptions/{SUB}{RA}", query={"$filter": flt}).body
    assert isinstance(first, dict)
    assert len(first["value"]) == 3
    link = urlsplit(first["nextLink"])
    assert f"{link.scheme}://{link.netloc}" == BASE
    query = parse_qs(link.query)
    assert query["$filter"] == [flt]
    assert "$skipToken" in query  # the name the SDK uses for this operation
    assert query["api-version"] == ["2022-04-01"]
    # the SDK keeps only the link's own query and replaces api-version
    second = world.call(
        "GET", link.path, query={"$filter": flt, "$skipToken": query["$skipToken"][0]}
    )
    assert second.status == 200


def test_missing_scope_is_not_found(world: World) -> None:
    response = world.call("GET", f"/subscriptions/{SUB}/resourceGroups/rg-missing{RA}")
    assert error_code(response) == "ResourceGroupNotFound"


def test_permissions_of_the_caller(world: World) -> None:
    path = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Authorization/permissions"
    mine = world.follow(path, caller=world.user)
    assert len(mine) == 5  # root, two management groups, subscription, group
    assert all(p == {"actions": ["*/read"], "notActions": [], "dataActions": [],
                     "notDataActions": []} for p in mine)  # fmt: skip
    theirs = world.follow(VAULT + "/providers/Microsoft.Authorization/permissions",
                          caller=world.operator)  # fmt: skip
    assert len(theirs) == 1
    assert world.call("GET", path).body == {"value": []}


def test_a_walk_resumes_after_the_last_item_it_saw() -> None:
    """The skip token names where the walk stopped, not an offset: deleting an item already
    seen does not make the next page skip one, and an item created meanwhile comes last."""
    w = make_world(Settings(page_size=2))
    rg = f"/subscriptions/{SUB}/resourceGroups/{RG}"
    principal = w.principal()
    roles = [READER, CONTRIBUTOR, OWNER, RBAC_ADMIN, KV_SECRETS_USER, BLOB_READER]
    made = [_name(f"walk{i}") for i in range(5)]
    for name, role in zip(made, roles, strict=False):
        assert w.assign(rg, role, principal, name=name).status == 201
    flt = f"principalId eq '{principal}'"
    first = w.call("GET", rg + RA, query={"$filter": flt}).body
    assert isinstance(first, dict)
    assert [i["name"] for i in first["value"]] == made[:2]
    gone = w.call("DELETE", f"{rg}{RA}/{made[0]}")
    assert gone.status == 200, gone.body
    late = _name("walk-late")
    assert w.assign(rg, roles[5], principal, name=late).status == 201
    rest = w.follow(first["nextLink"][len(BASE) :])
    assert [i["name"] for i in rest] == [*made[2:], late]


def test_a_bad_skip_token_is_refused(world: World) -> None:
    response = world.call("GET", f"/subscriptions/{SUB}{RA}", query={"$skipToken": "x1"})
    assert response.status == 400
    assert error_code(response) == "InvalidSkipToken"
