"""Golden T-SQL for the seed scenario: id-myapp-prod-uks-01 in sql-myapp-prod-uks-01/appdb.

Regenerate after an intended change with:
    UPDATE_GOLDEN=1 pytest tests/sql/test_sql_golden.py
and review the diff like any other change to what runs against production databases.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from sql_fakes import FakeCatalog, RecordingConnection

from identity_reconciler.core.live import LiveState
from identity_reconciler.plan import Plan, compute_plan
from identity_reconciler.plan.names import Namer
from identity_reconciler.plan.sql_changes import add_sql, principal_expectations, sql_changes
from identity_reconciler.spec import validate
from identity_reconciler.sql import plan_database, read_database

REPO = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def seed_plan(catalog: FakeCatalog) -> Plan:
    desired = validate([REPO / "specs" / "myapp-prod.yaml"]).desired
    assert desired is not None
    live = LiveState(tenant_id="22222222-2222-2222-2222-222222222222")
    arm = compute_plan(desired, live, now=NOW)
    app_ids, recreated = principal_expectations(arm, live)
    (db,) = desired.sql
    live_db = read_database(RecordingConnection(catalog), db.server_id, db.database)
    db_plan = plan_database(db, live_db, app_ids=app_ids, recreated=recreated)
    return add_sql(arm, [db_plan], policy=desired.safety, names=Namer.of(desired))


def render(plan: Plan) -> str:
    out: list[str] = []
    for change in sql_changes(plan):
        out.append(f"-- {change.address} ({', '.join(change.actions)}; {change.reason})")
        out.extend(str((op.body or {})["tsql"]) for op in change.operations)
    return "\n".join(out) + "\n"


def check(name: str, got: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(got, encoding="utf-8")
    assert path.exists(), f"missing {path}; run with UPDATE_GOLDEN=1 to create it"
    assert got == path.read_text(encoding="utf-8")


def test_seed_scenario_t_sql_on_an_empty_database() -> None:
    check("seed-create.sql", render(seed_plan(FakeCatalog())))


def test_seed_scenario_t_sql_replacing_a_stale_user() -> None:
    catalog = FakeCatalog()
    catalog.add("id-myapp-prod-uks-01", app_id="0f0e0d0c-0b0a-4909-8807-060504030201",
                owned=True, roles=["db_datareader", "db_owner"])
    check("seed-replace.sql", render(seed_plan(catalog)))
