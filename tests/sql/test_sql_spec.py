"""The `sql:` part of specs as SQL Server reads names: case-insensitively, `public` implicit."""

from __future__ import annotations

import json
from pathlib import Path

from identity_reconciler.spec import ValidationResult, validate
from identity_reconciler.spec.schema import render

HEAD = """\
subscription: 11111111-1111-1111-1111-111111111111
defaults: {location: uksouth, resource_group: rg-1}
identities:
  - {name: id-app-prod-uks-01, roles: [{role: Reader, scope: {resource_group: rg-1}}]}
  - {name: id-app-prod-uks-01, resource_group: rg-2,
     roles: [{role: Reader, scope: {resource_group: rg-1}}]}
"""
ID1 = ("/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-1/providers/"
       "Microsoft.ManagedIdentity/userAssignedIdentities/id-app-prod-uks-01")
ID2 = ID1.replace("rg-1", "rg-2")


def check(tmp_path: Path, sql: str) -> ValidationResult:
    path = tmp_path / "spec.yaml"
    path.write_text(HEAD + sql)
    return validate([path])


def errors(result: ValidationResult) -> list[tuple[str, int, int, str]]:
    return [(f.rule_id, f.line, f.column, f.message) for f in result.findings
            if f.severity.value == "error"]


def test_roles_repeated_in_another_case_are_one_role(tmp_path: Path) -> None:
    result = check(tmp_path, f"""\
sql:
  - server: sql-1
    database: appdb
    users: [{{identity: "{ID1}", roles: [db_datareader, DB_DataReader, db_datawriter]}}]
""")
    assert result.desired is not None, result.findings
    (user,) = result.desired.sql[0].users
    assert user.roles == ("db_datareader", "db_datawriter")


def test_public_cannot_be_granted(tmp_path: Path) -> None:
    result = check(tmp_path, f"""\
sql:
  - server: sql-1
    database: appdb
    users: [{{identity: "{ID1}", roles: [Public]}}]
""")
    ((_rule, line, _, message),) = errors(result)
    assert line == 10
    assert "every database user is in the role 'public'" in message


def test_two_identities_with_one_display_name_cannot_share_a_database(tmp_path: Path) -> None:
    result = check(tmp_path, f"""\
sql:
  - server: sql-1
    database: appdb
    users:
      - {{identity: "{ID1}"}}
      - {{identity: "{ID2}"}}
""")
    ((rule, line, column, message),) = errors(result)
    assert (rule, line, column) == ("IR033", 12, 20)
    assert "SQL user name 'id-app-prod-uks-01' is already taken at" in message
    assert f"{tmp_path / 'spec.yaml'}:11:20" in message


def test_schema_explains_prune() -> None:
    schema = json.loads(render())
    prune = schema["$defs"]["SqlDatabaseSpec"]["properties"]["prune"]
    assert prune["default"] is False
    assert "role memberships and users identity-reconciler created" in prune["description"]
