"""The up-front stale check: which object each change is compared with, and when.

`check_plan` reads every fingerprint in bulk before apply's first write. A change whose object
differs is stale; a credential whose identity the plan deletes first is compared later (it is
gone by then), and only that credential: every other credential change is in the bulk check.
The bulk check runs against the emulator over HTTPS, as apply does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from apply_factories import (
    RG,
    SUB,
    attachment,
    credential,
    grant,
    ident_id,
    identity,
    system_switch,
)
from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters
from azure.mgmt.msi.models import FederatedIdentityCredential

from identity_reconciler.apply.stale import (
    STALE_CODE,
    Stale,
    StaleChange,
    Target,
    _under_deleted_parent,
    check_plan,
    checkable,
    is_block,
    successor_of,
    target_of,
)
from identity_reconciler.azure.clients import Session, connect_emulator
from identity_reconciler.azure.fingerprints import current_fingerprints, fingerprint_key
from identity_reconciler.core import armid
from identity_reconciler.plan import KNOWN_AFTER_APPLY, Change, ChangeKind, Operation, Plan
from local_azure.api import RunningEmulator

SEEDED_RG = "rg-myapp-prod-uks-01"
ASSIGNMENTS = "/providers/Microsoft.Authorization/roleAssignments/"


def fic(subject: str) -> FederatedIdentityCredential:
    return FederatedIdentityCredential(
        issuer="https://issuer.example", subject=subject, audiences=["api://AzureADTokenExchange"]
    )


def plan_of(*changes: Change) -> Plan:
    return Plan.model_validate(
        {
            "format_version": "1.0",
            "tool_version": "0",
            "created_at": "now",
            "target": {"cloud": "local", "tenant_id": "", "subscriptions": [SUB]},
            "spec_digest": "sha256:x",
            "options": {},
            "changes": [c.model_dump() for c in changes],
            "summary": {},
            "safety": {"safe": True, "existing": 0},
            "checksum": "sha256:x",
        }
    )


def with_(change: Change, **fields: Any) -> Change:
    return change.model_copy(update=fields)


# --------------------------------------------------------------------------- pure


def test_the_stale_messages_say_what_happened() -> None:
    gone = Stale("identity.a", "/x", "sha256:1", None)
    new = Stale("identity.a", "/x", None, "sha256:2")
    changed = Stale("identity.a", "/x", "sha256:1", "sha256:2")
    assert gone.message == "plan is stale: re-run plan — identity.a (/x) no longer exists"
    assert new.message.endswith("identity.a (/x) now exists (the plan saw none)")
    assert changed.message.endswith("identity.a (/x) changed since the plan was made")
    error = StaleChange(changed)
    assert (error.code, str(error), error.stale) == (STALE_CODE, changed.message, changed)
    assert STALE_CODE == "PlanStale"


def test_a_change_is_compared_with_its_own_object() -> None:
    change = identity("id-a", ("update",))
    assert target_of(change) == Target("identity", ident_id("id-a"))
    assert checkable(change)


def test_a_replaced_grant_is_compared_with_the_assignment_it_deletes_first() -> None:
    old = f"/subscriptions/{SUB}/resourceGroups/{RG}{ASSIGNMENTS}old"
    replaced = with_(
        grant("id-a", principal_id="p"),
        actions=("delete", "create"),
        operations=(
            Operation(method="DELETE", id=old),
            Operation(method="PUT", id=KNOWN_AFTER_APPLY),
        ),
        id=None,
    )
    assert target_of(replaced) == Target("grant", old)


def test_a_first_delete_known_only_after_apply_falls_back_to_the_change_id() -> None:
    change = with_(
        identity("id-a", ("update",)),
        operations=(Operation(method="DELETE", id=KNOWN_AFTER_APPLY),),
    )
    assert target_of(change) == Target("identity", ident_id("id-a"))
    first_put = with_(identity("id-a", ("update",)), id=ident_id("id-b"))
    assert target_of(first_put) == Target("identity", ident_id("id-b"))


@pytest.mark.parametrize(
    "change",
    [
        grant("id-new"),  # its principal, and so its name, is known only after apply
        with_(identity("id-a"), id=None),
        with_(identity("id-a"), id=KNOWN_AFTER_APPLY, operations=()),
        with_(identity("id-a"), kind=ChangeKind.SQL_USER),
        with_(identity("id-a"), kind=ChangeKind.SQL_ROLE_MEMBER),
    ],
    ids=["new-principal", "no-id", "id-known-after-apply", "sql-user", "sql-role-member"],
)
def test_what_cannot_be_compared_up_front(change: Change) -> None:
    assert target_of(change) is None
    assert not checkable(change)


def test_only_attachments_and_system_switches_share_a_resource_block() -> None:
    assert is_block(attachment("app", "id-a"))
    assert is_block(system_switch("app"))
    assert not is_block(identity("id-a"))
    assert not is_block(credential("id-a", "gh"))
    assert not is_block(grant("id-a", principal_id="p"))


@pytest.mark.parametrize(
    ("parent", "later"),
    [
        (identity("id-a", ("delete",)), True),
        (identity("id-a", ("delete", "create")), True),
        (identity("id-a", ("update",)), False),
        (identity("id-b", ("delete",)), False),
        (with_(identity("id-a", ("delete",)), id=ident_id("id-a").upper()), True),
        (with_(identity("id-a", ("delete",)), id=None), False),
        (with_(identity("id-a", ("delete",)), kind=ChangeKind.SYSTEM_ASSIGNED), False),
    ],
    ids=[
        "deleted",
        "replaced",
        "updated",
        "another-identity",
        "upper-case-id",
        "no-id",
        "not-an-identity",
    ],
)
def test_a_credential_is_compared_later_only_under_a_deleted_identity(
    parent: Change, later: bool
) -> None:
    fic = credential("id-a", "github", ("update",))
    other = credential("id-c", "github", ("update",))
    no_id = with_(credential("id-a", "github2"), id=None)
    found = _under_deleted_parent(plan_of(parent, fic, other, no_id))
    assert found == ({fic.address} if later else set())


def test_a_credential_id_that_starts_with_the_segment_is_not_cut_at_zero() -> None:
    odd = with_(credential("id-a", "gh"), id="/federatedIdentityCredentials/github")
    root = with_(identity("id-a", ("delete",)), id="/")
    assert _under_deleted_parent(plan_of(root, odd)) == set()


# --------------------------------------------------------------------------- against ARM


@pytest.fixture
def session(fresh_emulator: Callable[..., RunningEmulator]) -> Iterator[Session]:
    with connect_emulator(fresh_emulator().info) as s:
        yield s


def _make_identity(session: Session, name: str) -> str:
    session.msi(SUB).user_assigned_identities.create_or_update(
        SEEDED_RG, name, {"location": "uksouth"}
    )
    return armid.identity_id(SUB, SEEDED_RG, name)


def _fingerprint(session: Session, kind: str, object_id: str) -> str | None:
    return current_fingerprints(session, [Target(kind, object_id)])[
        fingerprint_key(kind, object_id)
    ]


def _change(
    kind: ChangeKind, object_id: str, fingerprint: str | None, address: str, action: str = "update"
) -> Change:
    method = {"create": "PUT", "update": "PATCH", "delete": "DELETE"}[action]
    return Change(
        address=address,
        kind=kind,
        actions=(action,),  # type: ignore[arg-type]
        reason="r",
        group=address,
        id=object_id,
        before=None,
        after=None,
        live_fingerprint=fingerprint,
        operations=(Operation(method=method, id=object_id),),  # type: ignore[arg-type]
    )


def test_check_plan_against_arm(session: Session) -> None:
    kept = _make_identity(session, "id-kept")
    changed = _make_identity(session, "id-changed")
    doomed = _make_identity(session, "id-doomed")
    msi = session.msi(SUB)
    msi.federated_identity_credentials.create_or_update(SEEDED_RG, "id-kept", "github", fic("s1"))
    msi.federated_identity_credentials.create_or_update(SEEDED_RG, "id-doomed", "github", fic("s1"))
    kept_fic = f"{kept}/federatedIdentityCredentials/github"
    doomed_fic = f"{doomed}/federatedIdentityCredentials/github"
    fresh = {
        oid: _fingerprint(session, kind, oid)
        for kind, oid in [
            ("identity", kept),
            ("identity", changed),
            ("identity", doomed),
            ("federated_credential", kept_fic),
            ("federated_credential", doomed_fic),
        ]
    }
    assert all(fresh.values())
    # Between plan and apply: one identity's tags change, both credentials' subjects change.
    msi.user_assigned_identities.create_or_update(
        SEEDED_RG, "id-changed", {"location": "uksouth", "tags": {"touched": "yes"}}
    )
    for name in ("id-kept", "id-doomed"):
        msi.federated_identity_credentials.create_or_update(SEEDED_RG, name, "github", fic("s2"))
    missing = kept.replace("id-kept", "id-missing")
    plan = plan_of(
        _change(ChangeKind.IDENTITY, kept, fresh[kept], "identity.kept"),
        _change(ChangeKind.IDENTITY, changed, fresh[changed], "identity.changed"),
        _change(ChangeKind.IDENTITY, doomed, fresh[doomed], "identity.doomed", "delete"),
        _change(ChangeKind.FEDERATED_CREDENTIAL, kept_fic, fresh[kept_fic], "fic.kept"),
        _change(ChangeKind.FEDERATED_CREDENTIAL, doomed_fic, fresh[doomed_fic], "fic.doomed"),
        _change(ChangeKind.IDENTITY, missing, "sha256:seen", "identity.missing"),
        _change(ChangeKind.IDENTITY, missing + "2", None, "identity.new", "create"),
        grant("id-new"),
        with_(identity("id-a"), kind=ChangeKind.SQL_USER, live_fingerprint="sha256:x"),
    )
    stale = check_plan(session, plan, parallelism=2)
    by_address = {s.address: s for s in stale}
    assert sorted(by_address) == ["fic.kept", "identity.changed", "identity.missing"]
    assert by_address["identity.changed"].expected == fresh[changed]
    assert by_address["identity.changed"].found not in (None, fresh[changed])
    assert by_address["identity.changed"].object_id == changed
    assert by_address["identity.missing"].found is None
    assert by_address["fic.kept"].object_id == kept_fic


def test_a_change_that_deletes_two_objects_is_refused() -> None:
    two = with_(
        identity("id-a", ("delete",)),
        operations=(
            Operation(method="DELETE", id=ident_id("id-a")),
            Operation(method="DELETE", id=ident_id("id-b")),
        ),
    )
    with pytest.raises(ValueError, match="more than one object"):
        target_of(two)
    same = with_(
        identity("id-a", ("delete",)),
        operations=(
            Operation(method="DELETE", id=ident_id("id-a")),
            Operation(method="DELETE", id=ident_id("id-a").upper()),
        ),
    )
    assert target_of(same) == Target("identity", ident_id("id-a"))


def test_the_successor_of_a_replaced_grant_is_its_new_assignment() -> None:
    old = f"/subscriptions/{SUB}/resourceGroups/{RG}{ASSIGNMENTS}old"
    new = f"/subscriptions/{SUB}/resourceGroups/{RG}{ASSIGNMENTS}new"
    replaced = with_(
        grant("id-a", principal_id="p"),
        actions=("delete", "create"),
        id=new,
        operations=(Operation(method="DELETE", id=old), Operation(method="PUT", id=new)),
    )
    assert successor_of(replaced) == Target("grant", new)
    assert successor_of(with_(replaced, id=old.upper())) is None  # the same object
    assert successor_of(with_(replaced, id=None)) is None
    assert successor_of(with_(replaced, id=KNOWN_AFTER_APPLY)) is None
    assert successor_of(grant("id-new")) is None  # nothing to compare yet
    assert successor_of(identity("id-a", ("update",))) is None


def test_a_replaced_grant_whose_new_assignment_already_exists_is_stale(session: Session) -> None:
    identity_id = _make_identity(session, "id-granted")
    principal = str(
        session.msi(SUB).user_assigned_identities.get(SEEDED_RG, "id-granted").principal_id
    )
    scope = f"/subscriptions/{SUB}/resourceGroups/{SEEDED_RG}"
    new_name = "5d0c3b2a-1f0e-4d9c-8b7a-695847362514"
    made = session.authorization(SUB).role_assignments.create(
        scope,
        new_name,
        RoleAssignmentCreateParameters(
            role_definition_id=f"/subscriptions/{SUB}/providers/Microsoft.Authorization/"
            "roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7",
            principal_id=principal,
            principal_type="ServicePrincipal",
        ),
    )
    old = f"{scope}{ASSIGNMENTS}0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d"
    new = f"{scope}{ASSIGNMENTS}{new_name}"
    replaced = Change(
        address="grant.replaced",
        kind=ChangeKind.GRANT,
        actions=("delete", "create"),
        reason="r",
        group=identity_id,
        id=new,
        before=None,
        after=None,
        live_fingerprint=None,
        operations=(Operation(method="DELETE", id=old), Operation(method="PUT", id=new)),
    )
    (stale,) = check_plan(session, plan_of(replaced), parallelism=2)
    assert (stale.address, stale.expected) == ("grant.replaced", None)
    assert armid.key(stale.object_id) == armid.key(str(made.id))
    assert stale.found is not None


def test_targets_and_stale_findings_are_frozen_values() -> None:
    target = Target("identity", ident_id("id-a"))
    stale = Stale("identity.a", "/x", None, "sha256:2")
    with pytest.raises(dataclasses.FrozenInstanceError):
        target.id = "/y"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        stale.found = None  # type: ignore[misc]
    assert {target: 1}[Target("identity", ident_id("id-a"))] == 1
