"""The local Azure's SQL data plane without the reconciler: catalogs, statements, admin groups.

Statements are the forms the reconciler emits, written out here by hand (local_azure imports
nothing of the reconciler); the end-to-end path is tested in tests/sql/test_sql_local.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from local_azure import world
from local_azure.api import running
from local_azure.providers.sql import queries, statements
from local_azure.providers.sql.catalog import Catalog, sid_of
from local_azure.providers.sql.statements import Entra, NotSupported, SqlError

TENANT = "22222222-2222-2222-2222-222222222222"
SUB = "11111111-1111-1111-1111-111111111111"
APP = "6a3e1f0c-9b2d-4e8f-a1c3-5d7b9e0f2a46"
OID = "3c1d5e7f-2a4b-4c6d-8e0f-1a2b3c4d5e6f"


class Directory:
    def __init__(self, **names: list[Entra]) -> None:
        self.names = names

    def by_name(self, name: str) -> list[Entra]:
        return self.names.get(name.replace("-", "_"), [])

    def by_object_id(self, object_id: str) -> Entra | None:
        return next((e for es in self.names.values() for e in es if e.object_id == object_id),
                    None)


def test_a_new_database_holds_what_sql_server_puts_in_every_database() -> None:
    db = Catalog()
    assert {p.name for p in db.principals.values() if p.type == "S"} == {
        "dbo", "guest", "INFORMATION_SCHEMA", "sys"}
    assert db.principal("DB_OWNER") is not None
    assert db.schemas["db_owner"] == db.principal("db_owner").id  # type: ignore[union-attr]
    assert Catalog.from_json(db.to_json()) == db


def test_create_user_by_object_id_binds_the_applications_sid() -> None:
    db = Catalog()
    app = Entra(OID, APP, group=False)
    statements.run(db, f"CREATE USER [id-app] FROM EXTERNAL PROVIDER WITH OBJECT_ID = '{OID}';",
                   Directory(id_app=[app, Entra("other", "other", group=False)]))
    user = db.principal("id-app")
    assert user is not None
    assert (user.type, user.sid) == ("E", sid_of(APP))


@pytest.mark.parametrize(("names", "sql", "number"), [
    ({}, "CREATE USER [id-app] FROM EXTERNAL PROVIDER;", 33130),
    ({"id_app": [Entra(OID, APP, False), Entra("o2", "a2", False)]},
     "CREATE USER [id-app] FROM EXTERNAL PROVIDER;", 33131),
    ({}, f"CREATE USER [id-app] FROM EXTERNAL PROVIDER WITH OBJECT_ID = '{OID}';", 33134),
    ({"id_app": [Entra(OID, APP, False, visible=False)]},
     f"CREATE USER [id-app] FROM EXTERNAL PROVIDER WITH OBJECT_ID = '{OID}';", 33130),
    ({}, "CREATE USER [dbo] FROM EXTERNAL PROVIDER;", 15023),
    ({}, "DROP USER [nobody];", 15151),
])
def test_server_errors_carry_sql_servers_numbers(
    names: dict[str, list[Entra]], sql: str, number: int
) -> None:
    with pytest.raises(SqlError) as info:
        statements.run(Catalog(), sql, Directory(**names))
    assert info.value.number == number


@pytest.mark.parametrize("sql", [
    "DROP TABLE [orders];",
    "GRANT CONTROL TO [id-app];",
    "CREATE USER [x] WITHOUT LOGIN;",
    "ALTER ROLE [db_owner] ADD MEMBER [dbo]; DROP USER [dbo];",
    "/* hidden */ SET XACT_ABORT ON;",
    "IF EXISTS (SELECT 1 FROM sys.objects WHERE name = N'x') DROP USER [x];",
])
def test_anything_else_is_refused_with_a_clear_error(sql: str) -> None:
    with pytest.raises((NotSupported, ValueError)) as info:
        statements.run(Catalog(), sql, Directory())
    if isinstance(info.value, NotSupported):
        assert "runs only the statement forms identity-reconciler emits" in info.value.message


def test_a_schema_owner_cannot_be_dropped_until_dbo_owns_its_schema() -> None:
    db = Catalog()
    db.add("id-app", app_id=APP)
    db.add_schema("reporting", "id-app")
    with pytest.raises(SqlError) as info:
        statements.run(db, "DROP USER [id-app];", Directory())
    assert info.value.number == 15138
    statements.run(
        db,
        "IF EXISTS (SELECT 1 FROM sys.schemas WHERE name = N'reporting' AND principal_id = "
        "DATABASE_PRINCIPAL_ID(N'id-app')) ALTER AUTHORIZATION ON SCHEMA::[reporting] TO [dbo];",
        Directory(),
    )
    statements.run(db, "DROP USER [id-app];", Directory())
    assert db.principal("id-app") is None
    answer = queries.answer(queries.SCHEMA_OWNERS)
    assert answer is not None
    assert answer(db) == []


def test_unknown_queries_are_not_answered() -> None:
    assert queries.answer("SELECT name FROM sys.database_principals;") is None
    reformatted = queries.PRINCIPALS.replace("SELECT", "select").replace(" FROM ", "\n  FROM ")
    assert queries.answer(reformatted) is not None  # keyword case and whitespace aside


def _world(**principal: Any) -> dict[str, Any]:
    return {"tenant_id": TENANT, "subscriptions": [{"id": SUB, "display_name": "one"}],
            "principals": [{"object_id": OID, "kind": "Group", "display_name": "admins",
                            **principal}]}


def test_group_members_must_be_principals_and_only_groups_have_members() -> None:
    with pytest.raises(world.WorldError, match="is not among principals"):
        world.read(_world(members=[APP]))
    with pytest.raises(world.WorldError, match="only allowed on principals of kind Group"):
        world.read(_world(kind="User", members=[OID]))


def test_catalogs_survive_a_restart(tmp_path: Path) -> None:
    db_id = (f"/subscriptions/{SUB}/resourceGroups/rg-myapp-prod-uks-01/providers/Microsoft.Sql/"
             "servers/sql-myapp-prod-uks-01/databases/appdb")
    with running(state_dir=tmp_path) as emu, emu.sql_database(db_id) as db:
        db.add("id-app", app_id=APP, owned=True, roles=["db_datareader"])
    with running(state_dir=tmp_path) as emu, emu.sql_database(db_id) as db:
        assert db.roles_of("id-app") == {"db_datareader"}
        assert db.principal("id-app").properties == {  # type: ignore[union-attr]
            "managed-by": "identity-reconciler"}
