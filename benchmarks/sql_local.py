"""Azure SQL users on the local Azure: plan, apply and re-plan, with requests counted.

`--identities` identities, each a user of one database with two roles, on the embedded local
Azure's SQL endpoint through the reconciler's DB-API connection. Prints seconds and requests
for the read (ARM and SQL apart), the apply, and the re-plan that must find no changes; the
SQL reads are three per database whatever the number of users.

    python benchmarks/sql_local.py [--identities 100] [--databases 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from identity_reconciler.apply import ApplyOptions, apply_plan
from identity_reconciler.apply.sql_apply import SqlChangeRunner
from identity_reconciler.azure.clients import Session, open_session
from identity_reconciler.azure.reader import read_live
from identity_reconciler.core.state import DesiredState
from identity_reconciler.plan import Plan, compute_plan
from identity_reconciler.reconcile.sql_plan import plan_with_sql
from identity_reconciler.spec import validate

SUB = "11111111-1111-1111-1111-111111111111"


def specs(folder: Path, identities: int, databases: int) -> Path:
    lines = [
        f"subscription: {SUB}",
        "defaults: {location: uksouth, resource_group: rg-bench-prod-uks-01}",
        "identities:",
        *(f"  - name: id-bench{i:04d}-prod-uks-01" for i in range(identities)),
        "sql:",
    ]
    for d in range(databases):
        lines += ["  - server: sql-bench-prod-uks-01", f"    database: db{d:02d}", "    users:"]
        lines += [
            f"      - {{identity: id-bench{i:04d}-prod-uks-01, roles: [db_datareader, "
            "db_datawriter]}"
            for i in range(identities) if i % databases == d
        ]
    path = folder / "bench.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def sql_requests(session: Session) -> int:
    """The SQL endpoint's batches: the only POSTs a plan or a SQL change sends."""
    return session.counter.by_method().get("POST", 0)


def plan(session: Session, desired: DesiredState) -> tuple[Plan, float, int, int]:
    """The plan, its seconds, and its ARM and SQL requests."""
    started, before, sql_before = time.perf_counter(), session.requests, sql_requests(session)
    live = read_live(session, desired)
    full = plan_with_sql(session, desired, live, compute_plan(desired, live))
    sql = sql_requests(session) - sql_before
    return full, time.perf_counter() - started, session.requests - before - sql, sql


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--identities", type=int, default=100)
    parser.add_argument("--databases", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        desired = validate([specs(Path(tmp), args.identities, args.databases)]).desired
        assert desired is not None
        with open_session("local", state_dir=Path(tmp) / "state", desired=desired) as session:
            first, seconds, arm, sql = plan(session, desired)
            sql_changes = sum(c.kind.value.startswith("sql") for c in first.changes)
            print(f"plan     {seconds:6.2f} s  {arm} ARM + {sql} SQL requests  "
                  f"({len(first.changes)} changes, {sql_changes} SQL)")
            runner = SqlChangeRunner(session, sleep=lambda s: None)
            started, before = time.perf_counter(), session.requests
            sql_before = sql_requests(session)
            try:
                result = apply_plan(session, first, options=ApplyOptions(sql=runner))
            finally:
                runner.close()
            elapsed = time.perf_counter() - started
            sql = sql_requests(session) - sql_before
            print(f"apply    {elapsed:6.2f} s  {session.requests - before - sql} ARM + {sql} SQL "
                  f"requests  ok={result.ok}  ({sql / max(sql_changes, 1):.1f} SQL requests "
                  "per SQL change)")
            again, seconds, arm, sql = plan(session, desired)
            print(f"re-plan  {seconds:6.2f} s  {arm} ARM + {sql} SQL requests  "
                  f"({len(again.changes)} changes; {sql / args.databases:.0f} SQL reads per "
                  "database)")


if __name__ == "__main__":
    main()
