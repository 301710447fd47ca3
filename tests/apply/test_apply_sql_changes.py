"""T-SQL changes never reach ARM: they go to the SQL runner apply is given, or fail plainly."""

from __future__ import annotations

from typing import Any, cast

from identity_reconciler.apply import ApplyOptions, Status, apply_plan, build_graph
from identity_reconciler.azure.clients import Session
from identity_reconciler.plan import Change, ChangeKind, Operation, Plan
from identity_reconciler.plan.model import Options, Safety, Summary, Target
from identity_reconciler.sql import tsql

DB = (
    "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/"
    "Microsoft.Sql/servers/sql-1/databases/appdb"
)


class NoArm:
    """A session that must not be used: any ARM call would fail the test."""

    requests = 0

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"ARM was called ({name}) for a T-SQL change")


def sql_plan() -> Plan:
    user = Change(
        address="sql_user.sql-1/appdb/id-a",
        kind=ChangeKind.SQL_USER,
        actions=("create",),
        reason="create_because_not_live",
        group="identity.rg/id-a",
        id=DB,
        before=None,
        after={"user": "id-a"},
        live_fingerprint=None,
        operations=(
            Operation(
                method="TSQL",
                id=DB,
                body={"server": "sql-1", "database": "appdb", "tsql": tsql.create_user("id-a")},
            ),
        ),
    )
    member = user.model_copy(
        update={
            "address": "sql_role_member.sql-1/appdb/id-a/db_datareader",
            "kind": ChangeKind.SQL_ROLE_MEMBER,
            "depends_on": (user.address,),
            "after": {"user": "id-a", "role": "db_datareader"},
            "operations": (
                Operation(
                    method="TSQL",
                    id=DB,
                    body={
                        "server": "sql-1",
                        "database": "appdb",
                        "tsql": tsql.add_member("db_datareader", "id-a"),
                    },
                ),
            ),
        }
    )
    return Plan.sealed(
        format_version="1.0",
        tool_version="test",
        created_at="2026-01-01T00:00:00Z",
        target=Target(cloud="local", tenant_id="", subscriptions=()),
        spec_digest="sha256:x",
        options=Options(),
        changes=(user, member),
        summary=Summary.of((user, member)),
        safety=Safety(safe=True, existing=0),
    )


def test_sql_changes_share_a_lane_per_database() -> None:
    graph = build_graph(sql_plan().changes)
    lanes = {n.lane for n in graph.nodes.values()}
    assert lanes == {"database:" + DB.lower()}


def test_without_a_sql_runner_sql_changes_fail_and_their_dependents_are_skipped() -> None:
    result = apply_plan(cast(Session, NoArm()), sql_plan())
    first, second = result.actions
    assert first.status is Status.FAILED
    assert first.failure is not None
    assert first.failure.code == "SqlConnectionUnavailable"
    assert second.status is Status.SKIPPED
    assert not result.ok


def test_sql_changes_run_through_the_runner_in_order() -> None:
    ran: list[str] = []
    options = ApplyOptions(sql=lambda change: ran.append(change.address))
    result = apply_plan(cast(Session, NoArm()), sql_plan(), options=options)
    assert result.ok
    assert ran == ["sql_user.sql-1/appdb/id-a", "sql_role_member.sql-1/appdb/id-a/db_datareader"]
