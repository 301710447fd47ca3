"""CPU cost of planning Azure SQL users: catalog reading, the T-SQL planner, and the plan merge.

The estate: `--databases` databases with `--users` desired users each (two roles apiece). In
every database a third of the users are missing, a third are ours with one role missing and
one extra (pruned), and a third match; each catalog also holds as many unrelated principals.
The catalog comes from an in-memory DB-API connection answering the three catalog queries, so
the figures are this package's own cost; a real server adds one round trip per query.

    python benchmarks/sql_plan.py [--databases 50] [--users 300]
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Sequence
from typing import Any

from identity_reconciler.core import armid
from identity_reconciler.core.live import LiveState
from identity_reconciler.core.state import (
    DesiredSqlDatabase,
    DesiredSqlUser,
    DesiredState,
    PrincipalKind,
    PrincipalRef,
    SafetyPolicy,
)
from identity_reconciler.plan import compute_plan, render_text
from identity_reconciler.plan.names import Namer
from identity_reconciler.plan.sql_changes import add_sql
from identity_reconciler.sql import (
    PRINCIPALS_QUERY,
    ROLE_MEMBERS_QUERY,
    SCHEMAS_QUERY,
    DatabasePlan,
    plan_database,
    read_database,
)

SUB = "11111111-1111-1111-1111-111111111111"
ROLES = ("db_datareader", "db_datawriter", "db_ddladmin")


class Catalog:
    """Answers the catalog queries from prepared rows (a cursor and a connection at once)."""

    def __init__(self, principals: list[tuple[Any, ...]], members: list[tuple[Any, ...]]) -> None:
        self.answers = {PRINCIPALS_QUERY: principals, ROLE_MEMBERS_QUERY: members,
                        SCHEMAS_QUERY: []}
        self.rows: list[tuple[Any, ...]] = []

    def cursor(self) -> Catalog:
        return self

    def execute(self, operation: str, *parameters: Any) -> Catalog:
        self.rows = self.answers[operation]
        return self

    def fetchall(self) -> Sequence[Sequence[Any]]:
        return self.rows

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        pass


def estate(db: int, users: int) -> tuple[DesiredSqlDatabase, Catalog]:
    server = armid.resource_id(SUB, "rg-sql", "Microsoft.Sql/servers", f"sql-{db:03d}")
    desired: list[DesiredSqlUser] = []
    principals: list[tuple[Any, ...]] = [(r, "R", None, None) for r in ROLES]
    members: list[tuple[Any, ...]] = []
    for i in range(users):
        name = f"id-app{i:05d}-prod-uks-01"
        ref = PrincipalRef(PrincipalKind.SYSTEM_ASSIGNED, f"{server}/x/{name}")
        desired.append(DesiredSqlUser(ref, name, ROLES[:2]))
        sid = "0x" + uuid.uuid4().bytes_le.hex().upper()
        principals.append((f"other-{i}", "E", sid, None))
        if i % 3 == 0:
            continue
        principals.append((name, "E", sid, "identity-reconciler"))
        held = ROLES[:2] if i % 3 == 2 else (ROLES[0], ROLES[2])
        members += [(role, name) for role in held]
    return DesiredSqlDatabase(server, "appdb", tuple(desired), prune=True), Catalog(
        principals, members
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", type=int, default=50)
    parser.add_argument("--users", type=int, default=300)
    args = parser.parse_args()
    estates = [estate(d, args.users) for d in range(args.databases)]

    started = time.perf_counter()
    lives = [read_database(conn, db.server_id, db.database) for db, conn in estates]
    read_s = time.perf_counter() - started

    started = time.perf_counter()
    plans: list[DatabasePlan] = [
        plan_database(db, live) for (db, _), live in zip(estates, lives, strict=True)
    ]
    plan_s = time.perf_counter() - started

    desired = DesiredState()
    arm = compute_plan(desired, LiveState())
    started = time.perf_counter()
    merged = add_sql(
        arm, plans, policy=SafetyPolicy(min_existing=10**9), names=Namer.of(desired)
    )
    merge_s = time.perf_counter() - started

    started = time.perf_counter()
    text = render_text(merged)
    render_s = time.perf_counter() - started

    users = args.databases * args.users
    changes = len(merged.changes)
    statements = sum(len(c.operations) for c in merged.changes)
    print(f"databases {args.databases}, desired users {users:,}, changes {changes:,}, "
          f"statements {statements:,}")
    per_db = read_s / args.databases * 1000
    print(f"read catalogs      {read_s * 1000:8.1f} ms  ({per_db:.2f} ms/db)")
    print(f"plan T-SQL         {plan_s * 1000:8.1f} ms  ({plan_s / users * 1e6:.1f} us/user)")
    per_change = merge_s / max(changes, 1) * 1e6
    print(f"merge into plan    {merge_s * 1000:8.1f} ms  ({per_change:.1f} us/change)")
    print(f"render text        {render_s * 1000:8.1f} ms  ({len(text) / 1e6:.1f} MB)")
    print("ARM reads per server for the admin check: 3 (server, administrators, databases)")


if __name__ == "__main__":
    main()
