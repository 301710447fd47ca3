"""The SQL planner on catalogs read from the fake database: ownership, prune, SIDs, errors."""

from __future__ import annotations

import dataclasses

import pytest
from sql_fakes import FakeCatalog, RecordingConnection, sid_of

from identity_reconciler.core import armid
from identity_reconciler.core.state import (
    DesiredSqlDatabase,
    DesiredSqlUser,
    PrincipalKind,
    PrincipalRef,
    SourceRef,
)
from identity_reconciler.sql import (
    DatabasePlan,
    LiveSqlDatabase,
    SqlExecutionError,
    execute,
    plan_database,
    read_database,
    tsql,
)
from identity_reconciler.sql.model import app_id_of
from identity_reconciler.sql.quote import UnsafeName

SUB = "11111111-1111-1111-1111-111111111111"
SERVER = armid.resource_id(SUB, "rg-1", "Microsoft.Sql/servers", "sql-1")
IDENT = armid.identity_id(SUB, "rg-1", "id-app")
PRINCIPAL = PrincipalRef(PrincipalKind.USER_ASSIGNED, IDENT)
CLIENT = "6a3e1f0c-9b2d-4e8f-a1c3-5d7b9e0f2a46"
OBJECT = "3c1d5e7f-2a4b-4c6d-8e0f-1a2b3c4d5e6f"  # the identity's principal (object) id
OLD_CLIENT = "0f0e0d0c-0b0a-4909-8807-060504030201"
USER_SRC = SourceRef("specs/a.yaml", 12, 20)
DB_SRC = SourceRef("specs/a.yaml", 9, 5)


def desired(*roles: str, prune: bool = False, name: str = "id-app",
            by_object_id: bool = True) -> DesiredSqlDatabase:
    user = DesiredSqlUser(PRINCIPAL, name, tuple(roles), USER_SRC, by_object_id)
    return DesiredSqlDatabase(SERVER, "appdb", (user,), prune, DB_SRC)


def live(catalog: FakeCatalog) -> LiveSqlDatabase:
    return read_database(RecordingConnection(catalog), SERVER, "appdb")


def run(
    catalog: FakeCatalog, want: DesiredSqlDatabase, *, adopt: bool = False,
    recreated: frozenset[str] = frozenset(),
) -> DatabasePlan:
    return plan_database(want, live(catalog), app_ids={PRINCIPAL.key: CLIENT},
                         recreated=recreated, adopt=adopt, object_ids={PRINCIPAL.key: OBJECT})


def summary(plan: DatabasePlan) -> list[tuple[str, tuple[str, ...], str | None]]:
    return [(c.kind, c.actions, c.role) for c in plan.changes]


def codes(plan: DatabasePlan) -> list[tuple[str, bool]]:
    return [(i.code, i.error) for i in plan.issues]


def test_catalog_reader_sees_users_roles_marks_and_sids() -> None:
    catalog = FakeCatalog()
    catalog.add("id-app", app_id=CLIENT, owned=True, roles=["db_datareader"])
    catalog.add("someone", "X", app_id=OLD_CLIENT)
    db = live(catalog)
    user = db.user("ID-APP")
    assert user is not None
    assert (user.type, user.owned, set(user.roles), user.app_id) == (
        "E", True, {"db_datareader"}, CLIENT,
    )
    assert db.user("someone").owned is False  # type: ignore[union-attr]
    assert db.role("DB_DataWriter") == "db_datawriter"
    assert db.role("id-app") is None  # users are not roles
    dbo = db.user("dbo")
    assert dbo is not None
    assert dbo.type == "S"


def test_app_id_of_reads_sql_server_sid_layout() -> None:
    assert app_id_of(sid_of(CLIENT)) == CLIENT
    assert app_id_of("0x01") is None
    assert app_id_of(None) is None
    assert app_id_of("0xzz") is None


def test_new_user_is_created_with_its_roles() -> None:
    plan = run(FakeCatalog(), desired("db_datareader", "db_datawriter"))
    assert summary(plan) == [
        ("sql_user", ("create",), None),
        ("sql_role_member", ("create",), "db_datareader"),
        ("sql_role_member", ("create",), "db_datawriter"),
    ]
    assert plan.changes[0].statements == (tsql.create_user("id-app", OBJECT),)
    assert f"FROM EXTERNAL PROVIDER WITH OBJECT_ID = '{OBJECT}';" in plan.changes[0].statements[0]
    assert plan.changes[0].after == {
        "database": "sql-1/appdb", "user": "id-app", "type": "E", "app_id": CLIENT,
        "managed_by": "identity-reconciler",
    }
    assert all(c.source == USER_SRC and c.principal == PRINCIPAL for c in plan.changes)
    assert plan.issues == ()
    assert plan.existing == 0


def test_owned_user_with_its_roles_needs_nothing() -> None:
    catalog = FakeCatalog()
    catalog.add("ID-App", app_id=CLIENT, owned=True, roles=["db_datareader", "db_datawriter"])
    plan = run(catalog, desired("db_datareader", "DB_DATAWRITER"))
    assert plan.changes == ()
    assert plan.issues == ()
    assert plan.existing == 3  # the user and its two memberships


@pytest.mark.parametrize("prune", [False, True])
def test_missing_role_added_extra_role_dropped_only_with_prune(prune: bool) -> None:
    catalog = FakeCatalog()
    catalog.add("id-app", app_id=CLIENT, owned=True, roles=["db_datareader", "db_owner"])
    plan = run(catalog, desired("db_datareader", "db_datawriter", prune=prune))
    expected = [("sql_role_member", ("create",), "db_datawriter")]
    if prune:
        expected.append(("sql_role_member", ("delete",), "db_owner"))
        assert plan.changes[1].statements == (tsql.drop_member("db_owner", "id-app"),)
        assert codes(plan) == []
    else:
        assert codes(plan) == [("sql_role_member_not_pruned", False)]
        assert "db_owner" in plan.issues[0].message
    assert summary(plan) == expected
    assert {c.live_fingerprint for c in plan.changes} == {live(catalog).users["id-app"].fingerprint}


def test_user_someone_else_made_is_left_alone_unless_adopted() -> None:
    catalog = FakeCatalog()
    catalog.add("id-app", app_id=CLIENT, roles=["db_datareader"])
    refused = run(catalog, desired("db_datareader", "db_datawriter"))
    assert refused.changes == ()
    assert codes(refused) == [("sql_takeover_refused", False)]
    assert refused.issues[0].source == USER_SRC

    adopted = run(catalog, desired("db_datareader", "db_datawriter"), adopt=True)
    assert summary(adopted) == [
        ("sql_user", ("update",), None),
        ("sql_role_member", ("create",), "db_datawriter"),
    ]
    assert adopted.changes[0].reason == "update_because_adopted"
    assert adopted.changes[0].statements == (tsql.mark_owned("id-app"),)
    assert adopted.changes[0].before["managed_by"] is None  # type: ignore[index]
    assert adopted.changes[0].after["managed_by"] == "identity-reconciler"  # type: ignore[index]


@pytest.mark.parametrize(("type_", "words"), [("S", "SQL user"), ("X", "Microsoft Entra group")])
def test_principal_of_another_kind_under_the_name_is_an_error(type_: str, words: str) -> None:
    catalog = FakeCatalog()
    catalog.add("id-app", type_, app_id=CLIENT if type_ == "X" else None, owned=True)
    plan = run(catalog, desired("db_datareader"))
    assert plan.changes == ()
    assert codes(plan) == [("sql_user_conflict", True)]
    assert words in plan.issues[0].message


def test_unknown_role_is_a_located_error_and_the_rest_still_planned() -> None:
    plan = run(FakeCatalog(), desired("db_datareader", "app_reporting"))
    assert summary(plan) == [
        ("sql_user", ("create",), None),
        ("sql_role_member", ("create",), "db_datareader"),
    ]
    assert codes(plan) == [("sql_role_not_found", True)]
    assert plan.issues[0].source == USER_SRC
    assert "'app_reporting' does not exist in sql-1/appdb" in plan.issues[0].message


def test_custom_role_that_exists_is_used_as_the_catalog_spells_it() -> None:
    catalog = FakeCatalog()
    catalog.add("App_Reporting", "R")
    plan = run(catalog, desired("app_reporting"))
    assert plan.changes[1].statements == (tsql.add_member("App_Reporting", "id-app"),)


def test_owned_user_of_an_earlier_principal_is_replaced() -> None:
    catalog = FakeCatalog()
    catalog.add("id-app", app_id=OLD_CLIENT, owned=True, roles=["db_datareader"])
    plan = run(catalog, desired("db_datareader"))
    assert summary(plan) == [
        ("sql_user", ("delete", "create"), None),
        ("sql_role_member", ("create",), "db_datareader"),  # DROP USER took the membership
    ]
    user = plan.changes[0]
    assert user.reason == "replace_because_principal_replaced"
    assert user.statements == (tsql.drop_user("id-app"), tsql.create_user("id-app", OBJECT))
    assert (user.before["app_id"], user.after["app_id"]) == (OLD_CLIENT, CLIENT)  # type: ignore[index]


def test_user_of_a_principal_this_plan_recreates_is_replaced() -> None:
    catalog = FakeCatalog()
    catalog.add("id-app", app_id=CLIENT, owned=True, roles=["db_datareader"])
    plan = run(catalog, desired("db_datareader"), recreated=frozenset({PRINCIPAL.key}))
    assert summary(plan)[0] == ("sql_user", ("delete", "create"), None)
    assert plan.changes[0].after["app_id"] == "(known after apply)"  # type: ignore[index]
    # The new principal's object id is not the old one's: apply fills it in.
    assert "WITH OBJECT_ID = '(known after apply)';" in plan.changes[0].statements[1]


def test_display_name_form_is_kept_as_an_option() -> None:
    plan = run(FakeCatalog(), desired("db_datareader", by_object_id=False))
    assert plan.changes[0].statements == (tsql.create_user("id-app"),)
    assert "OBJECT_ID" not in plan.changes[0].statements[0]


def test_object_id_is_filled_in_only_as_a_guid() -> None:
    pending = tsql.create_user("id-app", tsql.OBJECT_ID_AFTER_APPLY)
    assert tsql.needs_object_id(pending)
    assert tsql.bind_object_id(pending, OBJECT) == tsql.create_user("id-app", OBJECT)
    with pytest.raises(UnsafeName):
        tsql.bind_object_id(pending, "x'; DROP USER [dbo]; --")
    with pytest.raises(UnsafeName):
        tsql.create_user("id-app", "not-a-guid")


def test_someone_elses_user_of_an_earlier_principal_is_an_error() -> None:
    catalog = FakeCatalog()
    catalog.add("id-app", app_id=OLD_CLIENT, roles=["db_datareader"])
    plan = run(catalog, desired("db_datareader"))
    assert plan.changes == ()
    assert codes(plan) == [("sql_user_other_principal", True)]


@pytest.mark.parametrize("prune", [False, True])
def test_our_users_no_spec_lists_are_dropped_only_with_prune(prune: bool) -> None:
    catalog = FakeCatalog()
    catalog.add("id-app", app_id=CLIENT, owned=True, roles=["db_datareader"])
    catalog.add("id-gone", app_id=OLD_CLIENT, owned=True, roles=["db_datawriter"])
    catalog.add("dba-made", app_id=OLD_CLIENT, roles=["db_owner"])  # never ours: never dropped
    plan = run(catalog, desired("db_datareader", prune=prune))
    assert plan.existing == 4
    if not prune:
        assert plan.changes == ()
        assert codes(plan) == [("sql_user_not_pruned", False)]
        assert plan.issues[0].source == DB_SRC
        return
    (drop,) = plan.changes
    assert (drop.kind, drop.actions, drop.user, drop.principal) == (
        "sql_user", ("delete",), "id-gone", None,
    )
    assert drop.statements == (tsql.drop_user("id-gone"),)
    assert drop.before["roles"] == ["db_datawriter"]  # type: ignore[index]


def test_names_from_the_catalog_that_cannot_be_shown_safely_are_errors_not_t_sql() -> None:
    catalog = FakeCatalog()
    catalog.add("x\n## Approved", "R")
    catalog.add("id-app", app_id=CLIENT, owned=True, roles=["db_datareader", "x\n## Approved"])
    catalog.add("gone\r\nuser", app_id=OLD_CLIENT, owned=True)
    plan = run(catalog, desired("db_datareader", "db_datawriter", prune=True))
    assert plan.changes == ()  # the user's whole plan is withdrawn, not half of it
    assert codes(plan) == [("sql_name_unsafe", True), ("sql_name_unsafe", True)]
    assert plan.issues[0].source == USER_SRC
    assert "contains control characters" in plan.issues[0].message


# --------------------------------------------------------------------------- schema owners


def test_catalog_reader_sees_the_schemas_a_user_owns() -> None:
    catalog = FakeCatalog()
    catalog.add("id-app", app_id=CLIENT, owned=True)
    catalog.add_schema("reporting", "id-app")
    assert live(catalog).user("id-app").schemas == {"reporting"}  # type: ignore[union-attr]


def test_dropping_a_user_that_owns_a_schema_is_refused_at_plan() -> None:
    catalog = FakeCatalog()
    catalog.add("id-old", app_id=OLD_CLIENT, owned=True)
    catalog.add_schema("reporting", "id-old")
    plan = run(catalog, desired(prune=True))
    assert [c for c in plan.changes if c.user == "id-old"] == []
    (issue,) = [i for i in plan.issues if i.code == "sql_user_owns_schema"]
    assert issue.error
    assert issue.source == DB_SRC  # located at the database entry
    assert "owns schema(s) reporting" in issue.message
    assert "transfer_schemas_to_dbo: true" in issue.message


def test_a_schema_is_handed_to_dbo_first_when_the_spec_says_so() -> None:
    catalog = FakeCatalog()
    catalog.add("id-old", app_id=OLD_CLIENT, owned=True)
    catalog.add_schema("reporting", "id-old")
    want = dataclasses.replace(desired(prune=True), transfer_schemas_to_dbo=True)
    plan = run(catalog, want)
    (drop,) = [c for c in plan.changes if c.user == "id-old"]
    assert drop.statements == (tsql.transfer_schema("reporting", "id-old"),
                               tsql.drop_user("id-old"))
    conn = RecordingConnection(catalog)
    execute(conn, drop.statements)
    assert catalog.principal("id-old") is None
    assert catalog.schemas["reporting"] == 1  # dbo


def test_the_drop_fails_at_apply_without_the_transfer_as_the_server_would() -> None:
    catalog = FakeCatalog()
    catalog.add("id-old", app_id=OLD_CLIENT, owned=True)
    catalog.add_schema("reporting", "id-old")
    with pytest.raises(SqlExecutionError, match="15138"):
        execute(RecordingConnection(catalog), [tsql.drop_user("id-old")])


def test_replacing_a_user_that_owns_a_schema_transfers_or_refuses() -> None:
    catalog = FakeCatalog()
    catalog.add("id-app", app_id=OLD_CLIENT, owned=True)
    catalog.add_schema("app", "id-app")
    refused = run(catalog, desired())
    assert [i.code for i in refused.issues] == ["sql_user_owns_schema"]
    assert refused.issues[0].source == USER_SRC
    moved = run(catalog, dataclasses.replace(desired(), transfer_schemas_to_dbo=True))
    assert moved.changes[0].statements[0] == tsql.transfer_schema("app", "id-app")
