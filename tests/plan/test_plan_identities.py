"""Identities and federated credentials: every action and reason, ownership, adoption, quirks."""

from __future__ import annotations

import pytest
from plan_factories import (
    OWNED,
    RG,
    by_address,
    d_identity,
    desired,
    fic,
    identity_id,
    l_fic,
    l_identity,
    live,
    plan,
)

from identity_reconciler.plan.model import KNOWN_AFTER_APPLY

ADDR = f"identity.{RG}/id-myapp"
FIC_ADDR = f"federated_credential.{RG}/id-myapp"


def test_missing_identity_is_created_with_the_exact_body() -> None:
    p = plan(desired([d_identity("id-myapp", isolation_scope="Regional")]), live())
    change = p.change(ADDR)
    assert (change.actions, change.reason) == (("create",), "create_because_not_live")
    assert change.live_fingerprint is None
    assert change.id == identity_id("id-myapp")
    assert change.after is not None
    assert change.after["principal_id"] == KNOWN_AFTER_APPLY
    assert change.after["client_id"] == KNOWN_AFTER_APPLY
    (op,) = change.operations
    assert (op.method, op.id) == ("PUT", identity_id("id-myapp"))
    assert op.body == {
        "location": "uksouth",
        "tags": {**OWNED, "owner": "platform"},
        "properties": {"isolationScope": "Regional"},
    }
    assert change.source == "specs/app.yaml:3:5"


def test_matching_identity_is_quiet() -> None:
    p = plan(desired([d_identity("id-myapp")]), live([l_identity("id-myapp")]))
    assert p.changes == ()
    assert p.summary.add == p.summary.change == p.summary.destroy == 0


@pytest.mark.parametrize(
    ("want", "have"),
    [
        pytest.param({"env": "prod", "team": "a"}, {"team": "a", "env": "prod"}, id="tag-order"),
        pytest.param({"Env": "prod"}, {"env": "prod"}, id="tag-name-case"),
    ],
)
def test_tags_compare_as_maps(want: dict[str, str], have: dict[str, str]) -> None:
    p = plan(
        desired([d_identity("id-myapp", tags=want)]), live([l_identity("id-myapp", tags=have)])
    )
    assert p.changes == ()


@pytest.mark.parametrize(
    ("want", "have"),
    [("uksouth", "UK South"), ("westeurope", "WestEurope"), ("uksouth", "uksouth")],
)
def test_location_spellings_are_quiet(want: str, have: str) -> None:
    p = plan(
        desired([d_identity("id-myapp", location=want)]),
        live([l_identity("id-myapp", location=have)]),
    )
    assert p.changes == ()


@pytest.mark.parametrize(("want", "have"), [(None, "None"), (None, None), ("Regional", "regional")])
def test_isolation_scope_defaults_are_quiet(want: str | None, have: str | None) -> None:
    p = plan(
        desired([d_identity("id-myapp", isolation_scope=want)]),
        live([l_identity("id-myapp", isolation_scope=have)]),
    )
    assert p.changes == ()


def test_differing_tag_value_is_an_update_showing_before_and_after() -> None:
    p = plan(
        desired([d_identity("id-myapp", tags={"env": "prod"})]),
        live([l_identity("id-myapp", tags={"env": "dev"})]),
    )
    change = p.change(ADDR)
    assert (change.actions, change.reason) == (("update",), "update_because_tags_differ")
    assert change.before is not None
    assert change.after is not None
    assert change.before["tags"]["env"] == "dev"
    assert change.after["tags"]["env"] == "prod"
    # An update keeps the live principal: nothing is "known after apply".
    assert change.after["principal_id"] == change.before["principal_id"]
    assert change.live_fingerprint == l_identity("id-myapp", tags={"env": "dev"}).fingerprint
    assert change.operations[0].body is not None
    assert change.operations[0].body["tags"]["env"] == "prod"


def test_isolation_scope_removed_is_an_update_sending_none() -> None:
    p = plan(
        desired([d_identity("id-myapp")]),
        live([l_identity("id-myapp", isolation_scope="Regional")]),
    )
    change = p.change(ADDR)
    assert change.reason == "update_because_isolation_scope_differs"
    assert change.operations[0].body is not None
    assert change.operations[0].body["properties"] == {"isolationScope": "None"}


def test_location_change_replaces_the_identity_and_recreates_its_credentials() -> None:
    p = plan(
        desired([d_identity("id-myapp", location="westeurope", fics=[fic()])]),
        live([l_identity("id-myapp", fics=[l_fic()])]),
    )
    change = p.change(ADDR)
    assert (change.actions, change.reason) == (
        ("delete", "create"),
        "replace_because_immutable_field",
    )
    assert [op.method for op in change.operations] == ["DELETE", "PUT"]
    assert change.after is not None
    assert change.after["principal_id"] == KNOWN_AFTER_APPLY
    cred = p.change(f"{FIC_ADDR}/github-main")
    assert (cred.actions, cred.reason) == (("create",), "create_because_parent_replaced")
    assert cred.depends_on == (ADDR,)
    assert p.summary.replace == 1
    assert p.summary.add == 2
    assert p.summary.destroy == 1


def test_owned_identity_absent_from_specs_in_a_managed_group_is_deleted() -> None:
    p = plan(desired(), live([l_identity("id-old")]))
    change = p.change(f"identity.{RG}/id-old")
    assert (change.actions, change.reason) == (("delete",), "delete_because_not_in_spec")
    assert change.after is None
    assert change.before is not None
    assert [op.method for op in change.operations] == ["DELETE"]


@pytest.mark.parametrize(
    "identity",
    [
        pytest.param(l_identity("id-old", owned=False), id="unowned"),
        pytest.param(l_identity("id-old", rg="rg-someone-else"), id="owned-outside-managed-groups"),
    ],
)
def test_identities_we_may_not_delete_are_left_alone(identity: object) -> None:
    p = plan(desired(), live([identity]))  # type: ignore[list-item]
    assert p.changes == ()


def test_managed_groups_may_be_given_as_ids() -> None:
    state = desired(
        managed_resource_groups=frozenset(
            {"/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/RG-Other"}
        )
    )
    p = plan(state, live([l_identity("id-old", rg="rg-other"), l_identity("id-kept")]))
    assert set(by_address(p)) == {"identity.rg-other/id-old"}


def test_unowned_identity_with_a_desired_name_is_not_taken_over() -> None:
    state = desired([d_identity("id-myapp", tags={"env": "prod"}, fics=[fic()])])
    p = plan(state, live([l_identity("id-myapp", owned=False, fics=[])]))
    assert p.changes == ()
    (notice,) = p.notices
    assert notice.code == "takeover_refused"
    assert notice.address == ADDR
    assert "--adopt" in notice.message


def test_adopt_tags_the_unowned_identity_and_manages_its_credentials() -> None:
    state = desired([d_identity("id-myapp", fics=[fic()])])
    p = plan(state, live([l_identity("id-myapp", owned=False, fics=[])]), adopt=True)
    change = p.change(ADDR)
    assert (change.actions, change.reason) == (("update",), "update_because_adopted")
    assert change.operations[0].body is not None
    assert change.operations[0].body["tags"]["managed-by"] == "identity-reconciler"
    assert by_address(p)[f"{FIC_ADDR}/github-main"] == (("create",), "create_because_not_live")
    assert p.options.adopt is True


def test_adopt_never_replaces_an_identity_it_does_not_own() -> None:
    state = desired([d_identity("id-myapp", location="westeurope")])
    p = plan(state, live([l_identity("id-myapp", owned=False)]), adopt=True)
    assert p.changes == ()
    assert [n.code for n in p.notices] == ["adoption_blocked"]


# --------------------------------------------------------------------------- credentials


def test_credentials_are_created_updated_and_deleted() -> None:
    state = desired(
        [
            d_identity(
                "id-myapp",
                fics=[fic("new", "repo:a"), fic("same", "repo:b"), fic("moved", "repo:c2")],
            )
        ]
    )
    have = [l_fic("same", "repo:b"), l_fic("moved", "repo:c1"), l_fic("stale", "repo:d")]
    p = plan(state, live([l_identity("id-myapp", fics=have)]))
    assert by_address(p) == {
        f"{FIC_ADDR}/new": (("create",), "create_because_not_live"),
        f"{FIC_ADDR}/moved": (("update",), "update_because_subject_differs"),
        f"{FIC_ADDR}/stale": (("delete",), "delete_because_not_in_spec"),
    }
    moved = p.change(f"{FIC_ADDR}/moved")
    assert moved.before is not None
    assert moved.before["subject"] == "repo:c1"
    assert moved.operations[0].body == {
        "properties": {
            "issuer": "https://token.actions.githubusercontent.com",
            "subject": "repo:c2",
            "audiences": ["api://AzureADTokenExchange"],
        }
    }
    assert moved.live_fingerprint == l_fic("moved", "repo:c1").fingerprint


def test_credential_audiences_compare_as_sets() -> None:
    state = desired([d_identity("id-myapp", fics=[fic(audiences=("b", "a"))])])
    p = plan(state, live([l_identity("id-myapp", fics=[l_fic(audiences=("a", "b", "a"))])]))
    assert p.changes == ()


def test_credential_issuer_change_is_an_update() -> None:
    state = desired([d_identity("id-myapp", fics=[fic(issuer="https://issuer.example/")])])
    p = plan(state, live([l_identity("id-myapp", fics=[l_fic()])]))
    assert p.changes[0].reason == "update_because_issuer_differs"


def test_credential_name_case_is_the_same_credential() -> None:
    state = desired([d_identity("id-myapp", fics=[fic("GitHub-Main")])])
    p = plan(state, live([l_identity("id-myapp", fics=[l_fic("github-main")])]))
    assert p.changes == ()


def test_renamed_credential_frees_its_subject_before_the_new_one_is_written() -> None:
    state = desired([d_identity("id-myapp", fics=[fic("github-prod")])])
    p = plan(state, live([l_identity("id-myapp", fics=[l_fic("github-main")])]))
    create = p.change(f"{FIC_ADDR}/github-prod")
    assert create.depends_on == (f"{FIC_ADDR}/github-main",)
    assert p.change(f"{FIC_ADDR}/github-main").actions == ("delete",)


def test_credentials_not_read_for_an_existing_identity_is_an_error() -> None:
    p = plan(
        desired([d_identity("id-myapp", fics=[fic()])]), live([l_identity("id-myapp", fics=None)])
    )
    assert [e.code for e in p.errors] == ["credentials_not_read"]
    assert p.errors[0].source == "specs/app.yaml:3:5"


def test_credentials_of_a_deleted_identity_are_not_planned_separately() -> None:
    p = plan(desired(), live([l_identity("id-old", fics=[l_fic(identity="id-old")])]))
    assert [c.kind for c in p.changes] == ["identity"]


def test_unmanaged_credentials_are_neither_compared_nor_deleted() -> None:
    # No `federated_credentials` key in the spec: the reader does not list them (one request
    # per identity saved) and the plan leaves whatever is live alone, read or not.
    state = desired([d_identity("id-myapp", fics=None)])
    assert plan(state, live([l_identity("id-myapp", fics=[l_fic("by-hand")])])).changes == ()
    assert plan(state, live([l_identity("id-myapp", fics=None)])).changes == ()
    assert plan(state, live([l_identity("id-myapp", fics=None)])).errors == ()


def test_an_empty_credential_list_manages_them_and_deletes_the_live_ones() -> None:
    state = desired([d_identity("id-myapp", fics=[])])
    p = plan(state, live([l_identity("id-myapp", fics=[l_fic("by-hand")])]))
    assert by_address(p) == {
        f"{FIC_ADDR}/by-hand": (("delete",), "delete_because_not_in_spec"),
    }
