"""Flexible federated credentials in the plan: what is written, what is shown, when it differs,
and that a plan file cannot send another expression than the one reviewed."""

from __future__ import annotations

import json

import pytest
from plan_factories import RG, by_address, d_identity, desired, fic, l_fic, l_identity, live, plan

from identity_reconciler.core import armid
from identity_reconciler.plan.binding import unbound
from identity_reconciler.plan.model import Plan, checksum_of
from identity_reconciler.plan.removed import with_removed_credentials

FIC_ADDR = f"federated_credential.{RG}/id-myapp"
BRANCHES = "claims['sub'] matches 'repo:contoso/myapp:ref:refs/heads/*'"
WITH_REPO = f"{BRANCHES} and claims['repository_id'] eq '123456'"
GITHUB = "https://token.actions.githubusercontent.com"
AUDIENCES = ["api://AzureADTokenExchange"]


def test_a_flexible_credential_is_created_with_its_expression_and_no_subject() -> None:
    p = plan(desired([d_identity("id-myapp", fics=[fic("any", expression=WITH_REPO)])]),
             live([l_identity("id-myapp")]))  # fmt: skip
    change = p.change(f"{FIC_ADDR}/any")
    assert (change.actions, change.reason) == (("create",), "create_because_not_live")
    assert change.after == {
        "name": "any", "issuer": GITHUB, "claims_matching_expression": WITH_REPO,
        "language_version": 1, "audiences": AUDIENCES,
    }  # fmt: skip
    (op,) = change.operations
    assert op.body == {"properties": {
        "issuer": GITHUB, "audiences": AUDIENCES,
        "claimsMatchingExpression": {"value": WITH_REPO, "languageVersion": 1},
    }}  # fmt: skip
    assert unbound(p) == []


def test_the_same_expression_read_back_plans_nothing() -> None:
    state = desired([d_identity("id-myapp", fics=[fic("any", expression=f" {WITH_REPO}")])])
    p = plan(state, live([l_identity("id-myapp", fics=[l_fic("any", expression=WITH_REPO)])]))
    assert p.changes == ()


@pytest.mark.parametrize(
    ("live_fic", "reason"),
    [
        (l_fic("any", expression=BRANCHES), "update_because_claims_matching_expression_differs"),
        (l_fic("any", expression=WITH_REPO, language_version=2),
         "update_because_claims_matching_expression_differs"),
        (l_fic("any", "repo:contoso/myapp:ref:refs/heads/main"),
         "update_because_claims_matching_expression_differs"),
        (l_fic("any", expression=WITH_REPO, issuer="https://gitlab.com"),
         "update_because_issuer_differs"),
        (l_fic("any", expression=WITH_REPO, audiences=("api://other",)),
         "update_because_audiences_differ"),
    ],
)  # fmt: skip
def test_what_makes_a_flexible_credential_differ(live_fic: object, reason: str) -> None:
    state = desired([d_identity("id-myapp", fics=[fic("any", expression=WITH_REPO)])])
    p = plan(state, live([l_identity("id-myapp", fics=[live_fic])]))  # type: ignore[list-item]
    assert by_address(p) == {f"{FIC_ADDR}/any": (("update",), reason)}


def test_a_subject_credential_becoming_flexible_shows_one_going_and_the_other_coming() -> None:
    old = l_fic("any", "repo:contoso/myapp:ref:refs/heads/main")
    state = desired([d_identity("id-myapp", fics=[fic("any", expression=WITH_REPO)])])
    change = plan(state, live([l_identity("id-myapp", fics=[old])])).change(f"{FIC_ADDR}/any")
    assert change.before is not None
    assert change.after is not None
    assert change.before["subject"] == "repo:contoso/myapp:ref:refs/heads/main"
    assert "claims_matching_expression" not in change.before
    assert "subject" not in change.after
    assert change.live_fingerprint == old.fingerprint


def test_a_flexible_credential_going_back_to_a_subject_clears_the_expression() -> None:
    state = desired([d_identity("id-myapp", fics=[fic("any", "repo:contoso/myapp:pull_request")])])
    p = plan(state, live([l_identity("id-myapp", fics=[l_fic("any", expression=WITH_REPO)])]))
    change = p.change(f"{FIC_ADDR}/any")
    assert change.reason == "update_because_subject_differs"
    (op,) = change.operations
    assert op.body == {"properties": {
        "issuer": GITHUB, "subject": "repo:contoso/myapp:pull_request", "audiences": AUDIENCES,
        "claimsMatchingExpression": None,
    }}  # fmt: skip
    assert unbound(p) == []


def test_a_renamed_flexible_credential_frees_its_expression_first() -> None:
    state = desired([d_identity("id-myapp", fics=[fic("new", expression=WITH_REPO)])])
    p = plan(state, live([l_identity("id-myapp", fics=[l_fic("old", expression=WITH_REPO)])]))
    assert p.change(f"{FIC_ADDR}/new").depends_on == (f"{FIC_ADDR}/old",)
    # A subject that reads like the expression is another pair: nothing to wait for.
    state = desired([d_identity("id-myapp", fics=[fic("new", WITH_REPO)])])
    p = plan(state, live([l_identity("id-myapp", fics=[l_fic("old", expression=WITH_REPO)])]))
    assert p.change(f"{FIC_ADDR}/new").depends_on == ()


def _resealed(p: Plan, edit: dict[str, object] | None) -> Plan:
    data = json.loads(p.to_json())
    change = next(c for c in data["changes"] if c["kind"] == "federated_credential")
    change["operations"][0]["body"]["properties"]["claimsMatchingExpression"] = edit
    data["checksum"] = checksum_of(data)
    return Plan.from_json(json.dumps(data))


@pytest.mark.parametrize(
    "edit",
    [
        {"value": "claims['sub'] matches '*'", "languageVersion": 1},
        {"value": WITH_REPO, "languageVersion": 2},
        None,
    ],
)
def test_a_plan_file_cannot_send_another_expression_than_it_shows(
    edit: dict[str, object] | None,
) -> None:
    p = plan(desired([d_identity("id-myapp", fics=[fic("any", expression=WITH_REPO)])]),
             live([l_identity("id-myapp")]))  # fmt: skip
    problems = unbound(_resealed(p, edit))
    assert problems == [
        f"{FIC_ADDR}/any: its write sends another claims matching expression than the change "
        "shows"
    ]


def test_an_identity_delete_lists_its_flexible_credentials_by_expression() -> None:
    gone = l_identity("id-myapp", fics=[l_fic("any", expression=WITH_REPO)])
    p = plan(desired([]), live([gone]))
    shown = with_removed_credentials(p, {armid.key(gone.id): gone.federated_credentials or ()})
    before = shown.change(f"identity.{RG}/id-myapp").before
    assert before is not None
    assert before["federated_credentials"] == [f"any ({WITH_REPO})"]
