"""Drift from the plan's diff plus what plans leave alone: every kind, fixability, the views."""

from __future__ import annotations

import json

import pytest
from plan_factories import (
    BLOB_READER,
    RG,
    d_grant,
    d_identity,
    d_resource,
    desired,
    fic,
    l_fic,
    l_grant,
    l_identity,
    l_resource,
    live,
    plan,
    resource_id,
    rg_scope,
    system,
    user,
    vault,
)

from identity_reconciler.core.live import LiveState
from identity_reconciler.core.state import DesiredState
from identity_reconciler.plan.drift import Drift, DriftItem, DriftReport, drift_report
from identity_reconciler.plan.drift_render import (
    NO_DRIFT,
    render_drift_json,
    render_drift_markdown,
    render_drift_text,
)

CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
APP = resource_id("app-myapp-prod-uks-01")
FUNC = resource_id("func-myapp-prod-uks-01")
ID = f"identity.{RG}/id-myapp"


def report(d: DesiredState, state: LiveState, *, adopt: bool = False) -> DriftReport:
    return drift_report(plan(d, state, adopt=adopt), d, state, adopt=adopt)


def items(r: DriftReport) -> dict[str, DriftItem]:
    return {i.address: i for i in r.items}


def estate() -> tuple[DesiredState, LiveState]:
    """An identity with a credential, an attachment and a grant; a function with a system
    identity and a grant. Live matches the specs exactly."""
    ident = d_identity("id-myapp", fics=[fic()])
    func_live = l_resource(FUNC, type_="SystemAssigned")
    li = l_identity("id-myapp", fics=[l_fic()])
    d = desired(
        [ident],
        [d_resource(APP, users=[ident.id]), d_resource(FUNC, system=True)],
        [d_grant(user(ident), vault()), d_grant(system(FUNC), rg_scope(), BLOB_READER)],
    )
    state = live(
        [li],
        [l_resource(APP, type_="UserAssigned", users=[li.id]), func_live],
        [
            l_grant(li.principal_id, vault()),
            l_grant(func_live.system_principal_id or "", rg_scope(), BLOB_READER),
        ],
    )
    return d, state


def test_live_matching_the_specs_is_no_drift() -> None:
    d, state = estate()
    r = report(d, state)
    assert not r.has_drift
    assert r.items == []
    assert render_drift_text(r) == NO_DRIFT + "\n"


@pytest.mark.parametrize(
    ("change", "address", "drift", "hint"),
    [
        ("fic_removed", f"federated_credential.{RG}/id-myapp/github-main", Drift.MISSING,
         "removed outside git?"),
        ("fic_added", f"federated_credential.{RG}/id-myapp/by-hand", Drift.EXTRA,
         "added outside git?"),
        ("detached", f"attachment.{RG}/sites/app-myapp-prod-uks-01/{RG}/id-myapp", Drift.MISSING,
         "detached outside git?"),
        ("system_off", f"system_assigned.{RG}/sites/func-myapp-prod-uks-01", Drift.MISSING,
         "switched off outside git?"),
        ("grant_removed",
         f"grant.{RG}/id-myapp/Key Vault Secrets User@{RG}/vaults/kv-myapp-prod-uks-01",
         Drift.MISSING, "removed outside git?"),
        ("identity_deleted", ID, Drift.MISSING, "deleted outside git?"),
    ],
)
def test_each_out_of_band_change_is_named(
    change: str, address: str, drift: Drift, hint: str
) -> None:
    d, state = estate()
    li = next(iter(state.identities.values()))
    key = next(iter(state.identities))
    if change == "fic_removed":
        state.identities[key] = l_identity("id-myapp", fics=[])
    elif change == "fic_added":
        state.identities[key] = l_identity("id-myapp", fics=[l_fic(), l_fic("by-hand", "x")])
    elif change == "detached":
        state.resources = {k: r for k, r in state.resources.items() if "app-myapp" not in k}
        state.resources[APP.lower()] = l_resource(APP)
    elif change == "system_off":
        state.resources = {k: r for k, r in state.resources.items() if "func-myapp" not in k}
        state.resources[FUNC.lower()] = l_resource(FUNC)
    elif change == "grant_removed":
        state.grants = {k: g for k, g in state.grants.items() if g.principal_id != li.principal_id}
    elif change == "identity_deleted":
        state.identities = {}
    found = items(report(d, state))
    assert address in found, sorted(found)
    assert found[address].drift is drift
    assert hint in found[address].summary
    assert found[address].fixable


def test_changed_tags_show_both_sides() -> None:
    d, state = estate()
    key = next(iter(state.identities))
    state.identities[key] = l_identity("id-myapp", fics=[l_fic()], tags={"owner": "someone"})
    item = items(report(d, state))[ID]
    assert item.drift is Drift.CHANGED
    assert item.summary == "live differs from the specs: tags differ"
    assert item.details == ('tags.owner: live "someone", specs "platform"',)
    assert item.source == "specs/app.yaml:3:5"


def test_changed_credential_subject() -> None:
    d, state = estate()
    key = next(iter(state.identities))
    state.identities[key] = l_identity("id-myapp", fics=[l_fic(subject="repo:evil/x:ref:main")])
    item = items(report(d, state))[f"federated_credential.{RG}/id-myapp/github-main"]
    assert item.drift is Drift.CHANGED
    assert "subject differs" in item.summary
    assert 'subject: live "repo:evil/x:ref:main", specs "repo:contoso/myapp:ref:refs/heads/main"' \
        in item.details


def test_a_grant_added_by_hand_is_reported_but_never_fixable() -> None:
    d, state = estate()
    li = next(iter(state.identities.values()))
    hand = l_grant(li.principal_id, rg_scope(), CONTRIBUTOR, owned=False, description=None)
    state.grants[hand.id.lower()] = hand
    r = report(d, state)
    assert plan(d, state).changes == ()  # the plan leaves it alone: not ours
    item = items(r)[f"grant.{RG}/id-myapp/Contributor@{RG}"]
    assert item.drift is Drift.UNMANAGED  # not "extra", which is said of what is ours
    assert not item.fixable
    assert "never deletes it" in (item.why_not or "")
    assert f"live: role assignment {hand.id}" in item.details
    assert r.fixable == []


def test_a_hand_grant_on_a_system_identity_is_reported() -> None:
    d, state = estate()
    pid = next(r.system_principal_id for r in state.resources.values() if r.system_principal_id)
    hand = l_grant(pid or "", vault(), CONTRIBUTOR, owned=False)
    state.grants[hand.id.lower()] = hand
    item = items(report(d, state))[
        f"grant.{RG}/sites/func-myapp-prod-uks-01/Contributor@{RG}/vaults/kv-myapp-prod-uks-01"
    ]
    assert not item.fixable


def test_unowned_grant_equal_to_the_specs_is_not_drift() -> None:
    d, state = estate()
    li = next(iter(state.identities.values()))
    state.grants = {k: g for k, g in state.grants.items() if g.principal_id != li.principal_id}
    equal = l_grant(li.principal_id, vault(), owned=False)
    state.grants[equal.id.lower()] = equal
    r = report(d, state)
    assert r.items == []
    assert [n.code for n in r.notices] == ["grant_not_owned"]


def test_grants_of_principals_the_specs_do_not_manage_are_not_drift() -> None:
    d, state = estate()
    other = l_identity("id-other", owned=False)
    state.identities[other.id.lower()] = other
    for g in (
        l_grant(other.principal_id, rg_scope(), CONTRIBUTOR, owned=False),
        l_grant("a1f4c2d8-3e5b-4a79-8c61-0d2e9f7b4c13", rg_scope(), principal_type="User",
                owned=False),
    ):
        state.grants[g.id.lower()] = g
    assert report(d, state).items == []


def test_owned_grant_no_longer_in_the_specs_is_fixable_drift() -> None:
    d, state = estate()
    li = next(iter(state.identities.values()))
    old = l_grant(li.principal_id, rg_scope(), CONTRIBUTOR)
    state.grants[old.id.lower()] = old
    item = items(report(d, state))[f"grant.{RG}/id-myapp/Contributor@{RG}"]
    assert (item.drift, item.fixable) == (Drift.EXTRA, True)
    assert "no spec declares it" in item.summary


def test_identity_that_lost_its_ownership_tag() -> None:
    d, state = estate()
    key = next(iter(state.identities))
    state.identities[key] = l_identity("id-myapp", fics=[l_fic()], owned=False)
    item = items(report(d, state))[ID]
    assert (item.drift, item.fixable) == (Drift.NOT_OWNED, False)
    assert "--adopt" in (item.why_not or "")
    adopted = items(report(d, state, adopt=True))[ID]
    assert (adopted.drift, adopted.fixable) == (Drift.NOT_OWNED, True)
    assert adopted.reason == "update_because_adopted"


def test_views_agree_and_json_is_complete() -> None:
    d, state = estate()
    li = next(iter(state.identities.values()))
    hand = l_grant(li.principal_id, rg_scope(), CONTRIBUTOR, owned=False)
    state.grants[hand.id.lower()] = hand
    state.identities[next(iter(state.identities))] = l_identity("id-myapp", fics=[])
    r = report(d, state)
    data = json.loads(render_drift_json(r))
    assert data["drift"] is True
    assert data["counts"] == {
        "missing": 1, "extra": 0, "changed": 0, "not_owned": 0, "unmanaged": 1,
        "acknowledged": 0,
    }
    assert data["fixable"] == 1
    text = render_drift_text(r)
    # the signs of the plan that fixes it: + for what --fix creates
    assert f"  + federated_credential.{RG}/id-myapp/github-main" in text
    assert f"  ! grant.{RG}/id-myapp/Contributor@{RG}" in text
    assert "not fixed by --fix" in text
    assert text.rstrip().endswith("Drift: 1 missing, 1 unmanaged.")
    md = render_drift_markdown(r)
    assert md.startswith("### identity-reconciler drift: 2 differences\n")
    assert f"| + | `federated_credential.{RG}/id-myapp/github-main` |" in md
    assert "| no |" in md
    assert "| yes |" in md


def test_markdown_stays_under_the_issue_limit() -> None:
    d, state = estate()
    li = next(iter(state.identities.values()))
    for i in range(600):
        hand = l_grant(li.principal_id, f"{rg_scope()}/providers/Microsoft.Storage/"
                       f"storageAccounts/st{i:04d}", CONTRIBUTOR, owned=False)
        state.grants[hand.id.lower()] = hand
    md = render_drift_markdown(report(d, state), max_bytes=20_000)
    assert len(md.encode()) <= 20_000
    assert "of 600 differences are not shown" in md


def test_an_owned_grant_changed_outside_git() -> None:
    d, state = estate()
    li = next(iter(state.identities.values()))
    key = next(k for k, g in state.grants.items() if g.principal_id == li.principal_id)
    state.grants[key] = l_grant(li.principal_id, vault(), description="edited in the portal")
    item = items(report(d, state))[
        f"grant.{RG}/id-myapp/Key Vault Secrets User@{RG}/vaults/kv-myapp-prod-uks-01"
    ]
    assert (item.drift, item.fixable) == (Drift.CHANGED, True)
    assert item.summary == "live differs from the specs: description differs"
    assert item.details == (
        'description: live "edited in the portal", specs "[managed-by identity-reconciler]"',
    )
