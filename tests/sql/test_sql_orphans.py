"""Owned SQL users whose principal no longer exists are dropped, even without prune.

ARM is the embedded emulator (through the real SDK); the database is the FakeCatalog of
`test_sql_roundtrip.py`. A user's SID carries its principal's client id: a user we made whose
client id belongs to no identity listed, and whose name is no identity's or system-assigned
resource's, is an orphan.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from sql_fakes import FakeCatalog
from test_sql_roundtrip import make_plan, seed

from identity_reconciler.azure.clients import Session, connect_emulator
from identity_reconciler.plan.sql_changes import sql_changes
from local_azure.api import RunningEmulator

GONE = "id-gone-prod-uks-01"
PREFIX = "sql_user.sql-myapp-prod-uks-01/appdb/"


@pytest.fixture
def session(fresh_emulator: Callable[..., RunningEmulator]) -> Iterator[Session]:
    emu = fresh_emulator()
    with connect_emulator(emu.info) as s:
        yield s


def test_an_owned_user_of_a_deleted_identity_is_dropped(session: Session) -> None:
    catalog = FakeCatalog()
    catalog.add(GONE, app_id=str(uuid.uuid4()), owned=True)  # its identity is gone
    catalog.add("someone-by-hand", app_id=str(uuid.uuid4()))  # not ours: never touched
    before = session.requests
    plan = make_plan(session, seed(), catalog)
    drops = [c for c in sql_changes(plan) if c.actions == ("delete",)]
    assert [(c.address, c.reason) for c in drops] == [
        (PREFIX + GONE, "delete_because_principal_deleted"),
    ]
    assert "DROP USER [id-gone-prod-uks-01]" in drops[0].operations[0].body["tsql"]  # type: ignore[index]
    assert session.requests - before > 0


def test_an_owned_user_whose_identity_lives_is_kept(session: Session) -> None:
    catalog = FakeCatalog()
    identity = session.msi("11111111-1111-1111-1111-111111111111")
    live = identity.user_assigned_identities.create_or_update(
        "rg-myapp-prod-uks-01", GONE, {"location": "uksouth"}
    )
    catalog.add(GONE, app_id=str(live.client_id), owned=True)  # alive, just not in the specs
    plan = make_plan(session, seed(), catalog)
    assert [c for c in sql_changes(plan) if c.actions == ("delete",)] == []
    assert "sql_user_not_pruned" in {n.code for n in plan.notices}


def test_a_user_of_an_identity_in_another_visible_subscription_is_kept(session: Session) -> None:
    shared = "33333333-3333-3333-3333-333333333333"
    session.resources(shared).resource_groups.create_or_update("rg-shared", {"location": "uksouth"})
    elsewhere = session.msi(shared).user_assigned_identities.create_or_update(
        "rg-shared", "id-shared-prod-uks-01", {"location": "uksouth"}
    )
    catalog = FakeCatalog()
    catalog.add("db-reader-elsewhere", app_id=str(elsewhere.client_id), owned=True)
    plan = make_plan(session, seed(), catalog)
    assert [c for c in sql_changes(plan) if c.actions == ("delete",)] == []
