"""The plan file: round trip, refusal of anything edited or foreign, determinism, ordering."""

from __future__ import annotations

import json

import pytest
from plan_factories import NOW, desired, l_identity, live, plan
from plan_scenarios import SCENARIOS, mixed

from identity_reconciler import __version__
from identity_reconciler.plan.model import (
    FORMAT_VERSION,
    ChangeKind,
    Plan,
    PlanFileError,
    checksum_of,
)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_json_round_trip_is_exact(name: str) -> None:
    p = SCENARIOS[name]()
    text = p.to_json()
    again = Plan.from_json(text)
    assert again == p
    assert again.to_json() == text


def test_header_fields() -> None:
    p = mixed()
    data = json.loads(p.to_json())
    assert data["format_version"] == FORMAT_VERSION == "1.0"
    assert data["tool_version"] == __version__
    assert data["created_at"] == NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert data["target"] == {
        "cloud": "local",
        "tenant_id": "72f988bf-86f1-41af-91ab-2d7cd011db47",
        "subscriptions": ["11111111-1111-1111-1111-111111111111"],
    }
    assert data["spec_digest"] == "sha256:specs"
    assert data["live_requests"] == 7
    assert data["checksum"] == checksum_of(data)
    assert set(data["summary"]) == {"add", "change", "destroy", "replace"}


def test_same_inputs_give_the_same_plan_file() -> None:
    assert mixed().to_json() == mixed().to_json()


def _tamper(edit: object) -> str:
    data = json.loads(mixed().to_json())
    edit(data)  # type: ignore[operator]
    return json.dumps(data)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        pytest.param(lambda d: d["changes"][0].update(actions=["create"]), "checksum", id="action"),
        pytest.param(
            lambda d: d["changes"][-1]["operations"][0].update(id="/subscriptions/x"),
            "checksum",
            id="operation-target",
        ),
        pytest.param(
            lambda d: d["safety"].update(safe=True, violations=[]), "checksum", id="safety"
        ),
        pytest.param(lambda d: d.pop("checksum"), "checksum", id="no-checksum"),
        pytest.param(
            lambda d: d.update(format_version="2.0"), "format_version", id="future-format"
        ),
        pytest.param(lambda d: d.pop("format_version"), "format_version", id="no-format"),
    ],
)
def test_edited_plans_are_refused(edit: object, match: str) -> None:
    with pytest.raises(PlanFileError, match=match):
        Plan.from_json(_tamper(edit))


def _resealed(edit: object) -> str:
    """An edit that recomputes the checksum: only structural validation can catch it."""
    data = json.loads(mixed().to_json())
    edit(data)  # type: ignore[operator]
    data["checksum"] = checksum_of(data)
    return json.dumps(data)


@pytest.mark.parametrize(
    ("edit", "where"),
    [
        pytest.param(
            lambda d: d["changes"][0].update(actions=["explode"]), "changes.0.actions", id="action"
        ),
        pytest.param(
            lambda d: d["changes"][0].update(kind="database"), "changes.0.kind", id="kind"
        ),
        pytest.param(
            lambda d: d["changes"][0].update(surprise=1), "changes.0.surprise", id="extra"
        ),
        pytest.param(lambda d: d["changes"][0].pop("address"), "changes.0.address", id="missing"),
        pytest.param(
            lambda d: d["changes"][0].update(actions=["create", "delete"]),
            "changes.0.actions",
            id="reversed-replace",
        ),
    ],
)
def test_malformed_plans_are_refused_with_the_place(edit: object, where: str) -> None:
    with pytest.raises(PlanFileError, match=f"malformed at {where}"):
        Plan.from_json(_resealed(edit))


@pytest.mark.parametrize("text", ["", "not json", "[]", '"plan"', b"\xff\xfe"])
def test_non_plans_are_refused(text: str | bytes) -> None:
    with pytest.raises(PlanFileError):
        Plan.from_json(text)


def test_changes_are_in_dependency_then_address_order() -> None:
    p = mixed()
    keys = [(ChangeKind(c.kind).rank, c.address) for c in p.changes]
    assert keys == sorted(keys)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_dependencies_name_changes_in_the_plan_and_form_no_cycle(name: str) -> None:
    p = SCENARIOS[name]()
    graph = {c.address: set(c.depends_on) for c in p.changes}
    assert all(dep in graph for deps in graph.values() for dep in deps)
    done: set[str] = set()
    while graph:
        ready = {a for a, deps in graph.items() if deps <= done}
        assert ready, f"cycle among {sorted(graph)}"
        done |= ready
        graph = {a: d for a, d in graph.items() if a not in ready}


def test_credential_rename_waits_for_the_delete_in_the_mixed_plan() -> None:
    create = mixed().change(
        "federated_credential.rg-myapp-prod-uks-01/id-myapp-prod-uks-01/github-prod"
    )
    assert create.depends_on == (
        "federated_credential.rg-myapp-prod-uks-01/id-myapp-prod-uks-01/github-main",
    )


def test_no_secrets_or_tokens_in_a_plan() -> None:
    text = mixed().to_json().lower()
    for word in ('token":', 'secret":', "password", "bearer", "client_secret"):
        assert word not in text


def test_plan_with_no_changes_is_sealed_too() -> None:
    p = plan(desired(), live([l_identity("id-x", owned=False)]))
    assert not p.has_changes
    assert not p.has_errors
    assert Plan.from_json(p.to_json()) == p
