"""Flexible federated credentials through the real SDK pipeline against the emulator.

azure-mgmt-msi (2024-11-30) has no `claimsMatchingExpression`; `flexible_credentials` sends
those requests at 2025-01-31-preview through the msi client's own pipeline. These tests hold it
to what that promises: plan and apply converge (a later plan is empty, although the typed reads
cannot see the expression), the second read is paid only by identities that have flexible
credentials, and the pipeline's retries, request counter and per-call options are the ones
every other call gets.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError

from identity_reconciler.azure import execute, flexible_credentials, reader
from identity_reconciler.azure.clients import Session, connect_emulator
from identity_reconciler.azure.errors import ArmRequestError, NotFound, arm_errors
from identity_reconciler.azure.live_reads import current_fingerprint
from identity_reconciler.core import armid, ownership
from identity_reconciler.core.live import LiveState
from identity_reconciler.core.state import (
    ClaimsExpression,
    DesiredIdentity,
    DesiredState,
    FederatedCredential,
)
from identity_reconciler.plan import Plan
from identity_reconciler.reconcile.live import apply_live, plan_live
from local_azure.api import RunningEmulator

SUB = "11111111-1111-1111-1111-111111111111"
RG = "rg-myapp-prod-uks-01"
RG_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}"
MI = f"{RG_ID}/providers/Microsoft.ManagedIdentity/userAssignedIdentities"
GITHUB = "https://token.actions.githubusercontent.com"
BRANCHES = "claims['sub'] matches 'repo:contoso/myapp:ref:refs/heads/*'"
WITH_REPO = f"{BRANCHES} and claims['repository_id'] eq '123456'"
OWNED = {ownership.OWNER_TAG: ownership.OWNER_TAG_VALUE}


def flexible(name: str, expression: str = WITH_REPO) -> FederatedCredential:
    return FederatedCredential(
        name, GITHUB, None, claims_matching_expression=ClaimsExpression(expression)
    )


MAIN = "repo:contoso/myapp:ref:refs/heads/main"


def exact(name: str, subject: str = MAIN) -> FederatedCredential:
    return FederatedCredential(name, GITHUB, subject)


def identity(name: str, *creds: FederatedCredential) -> DesiredIdentity:
    return DesiredIdentity(
        f"{MI}/{name}", SUB, RG, name, "uksouth", OWNED, federated_credentials=creds
    )


def desired(*identities: DesiredIdentity) -> DesiredState:
    return DesiredState(
        subscriptions=(SUB,), identities={armid.key(i.id): i for i in identities}
    )


def converge(session: Session, state: DesiredState) -> tuple[Plan, LiveState]:
    plan = plan_live(session, state).plan
    assert not plan.has_errors, plan.errors
    result = apply_live(session, plan)
    assert result.ok, result.failed
    again, live = plan_live(session, state)
    assert not again.has_changes, [(c.address, c.reason) for c in again.changes]
    return plan, live


@pytest.fixture
def emulator(fresh_emulator: Callable[..., RunningEmulator]) -> RunningEmulator:
    return fresh_emulator()


@pytest.fixture
def session(emulator: RunningEmulator) -> Iterator[Session]:
    with connect_emulator(emulator.info) as s:
        yield s


def test_plan_apply_converge_through_every_kind_of_change(session: Session) -> None:
    ident = identity("id-flex", flexible("gh-branches"), exact("gh-main"))
    plan, live = converge(session, desired(ident))
    assert {c.address.rsplit("/", 1)[-1]: c.reason for c in plan.changes if "/gh-" in c.address} \
        == {"gh-branches": "create_because_not_live", "gh-main": "create_because_not_live"}
    (read,) = live.identities.values()
    assert {c.name: (c.subject, c.claims_matching_expression)
            for c in read.federated_credentials or ()} == {
        "gh-branches": (None, ClaimsExpression(WITH_REPO)),
        "gh-main": ("repo:contoso/myapp:ref:refs/heads/main", None),
    }  # fmt: skip
    # An SDK pinned to 2024-11-30 sees the flexible credential without what it matches.
    typed = session.msi(SUB).federated_identity_credentials.get(RG, "id-flex", "gh-branches")
    assert (typed.issuer, typed.subject) == (GITHUB, None)

    steps = [
        (identity("id-flex", flexible("gh-branches", BRANCHES), exact("gh-main")),
         "update_because_claims_matching_expression_differs"),
        (identity("id-flex", flexible("gh-branches", BRANCHES), flexible("gh-main")),
         "update_because_claims_matching_expression_differs"),
        (identity("id-flex", exact("gh-branches", "repo:contoso/myapp:pull_request"),
                  flexible("gh-main")), "update_because_subject_differs"),
    ]  # fmt: skip
    for wanted, reason in steps:
        plan, live = converge(session, desired(wanted))
        assert [c.reason for c in plan.changes] == [reason]
    (read,) = live.identities.values()
    back = next(c for c in read.federated_credentials or () if c.name == "gh-branches")
    assert (back.subject, back.claims_matching_expression) == (
        "repo:contoso/myapp:pull_request", None
    )
    fic_id = f"{MI}/id-flex/federatedIdentityCredentials/gh-branches"
    answer = flexible_credentials.get_credential(session, fic_id)
    assert answer.claims_matching_expression is None  # cleared, not kept out of sight


def test_only_identities_with_flexible_credentials_pay_a_second_list(session: Session) -> None:
    converge(session, desired(identity("id-exact", exact("gh-main")),
                              identity("id-flex", flexible("gh-branches"), exact("gh-main"))))
    costs = {}
    for name in ("id-exact", "id-flex"):
        before = session.requests
        creds = reader.list_credentials(session, f"{MI}/{name}")
        costs[name] = session.requests - before
        assert all(not flexible_credentials.hidden(c) for c in creds)
    assert costs == {"id-exact": 1, "id-flex": 2}


def test_a_single_read_fingerprints_a_flexible_credential_as_the_list_does(
    session: Session,
) -> None:
    _, live = converge(session, desired(identity("id-flex", flexible("gh-branches"))))
    (listed,) = next(iter(live.identities.values())).federated_credentials or ()

    @dataclasses.dataclass
    class Change:
        kind: str
        id: str | None

    assert current_fingerprint(session, Change("federated_credential", listed.id)) == (
        listed.fingerprint
    )
    missing = listed.id.replace("gh-branches", "gh-gone")
    assert current_fingerprint(session, Change("federated_credential", missing)) is None
    with pytest.raises(NotFound), arm_errors():
        flexible_credentials.get_credential(session, missing)


def test_writes_go_through_the_pipeline_with_its_retries_and_per_call_options(
    emulator: RunningEmulator, session: Session
) -> None:
    converge(session, desired(identity("id-flex")))
    fic_id = f"{MI}/id-flex/federatedIdentityCredentials/gh-branches"
    body = {"properties": {"issuer": GITHUB, "audiences": ["api://AzureADTokenExchange"],
                           "claimsMatchingExpression": {"value": WITH_REPO,
                                                        "languageVersion": 1}}}  # fmt: skip
    raw = json.dumps(body).encode()
    emulator.configure(error_rate=1.0)
    # apply's per-call options (no azure-core retries: apply retries) reach this pipeline too
    before = session.requests
    with pytest.raises(HttpResponseError) as info:
        flexible_credentials.put_credential(session, fic_id, raw, {"retry_total": 0})
    assert info.value.status_code in (500, 503)
    assert session.requests - before == 1
    # the session's RetryPolicy is the one that retries, and the counter sees every attempt
    before = session.requests
    with pytest.raises(HttpResponseError):
        flexible_credentials.put_credential(session, fic_id, raw, {"retry_total": 1})
    assert session.requests - before == 2
    emulator.configure(error_rate=0.0)
    answered = flexible_credentials.put_credential(session, fic_id, raw)
    assert answered["properties"]["claimsMatchingExpression"]["value"] == WITH_REPO


def test_a_refused_expression_is_a_clear_error(session: Session) -> None:
    converge(session, desired(identity("id-flex")))

    @dataclasses.dataclass
    class Op:
        method: str
        id: str
        body: dict[str, Any] | None

    fic_id = f"{MI}/id-flex/federatedIdentityCredentials/gh-bad"
    body: dict[str, Any] = {"properties": {"issuer": GITHUB, "audiences": ["api://AzureADTokenExchange"],
                           "claimsMatchingExpression": {"value": "sub == 'x'",
                                                        "languageVersion": 1}}}  # fmt: skip
    with pytest.raises(ArmRequestError) as info:
        execute.run_operation(session, "federated_credential", Op("PUT", fic_id, body))
    assert (info.value.status, info.value.code) == (400, "BadRequest")
    assert "not a valid expression" in info.value.summary()
