"""The example specs and well-formed specs validate, and build the DesiredState they mean."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from spec_text import HEAD, RG, SUB, check, rules, write

from identity_reconciler import cli
from identity_reconciler.core import armid
from identity_reconciler.core.ownership import OWNER_TAG, OWNER_TAG_VALUE
from identity_reconciler.core.state import PrincipalKind
from identity_reconciler.spec import validate

SPECS = Path(__file__).parents[2] / "specs"
IDENTITY_ID = armid.identity_id(SUB, RG, "id-myapp-prod-uks-01")
APP_ID = armid.resource_id(SUB, RG, "Microsoft.Web/sites", "app-myapp-prod-uks-01")
FUNC_ID = armid.resource_id(SUB, RG, "Microsoft.Web/sites", "func-myapp-prod-uks-01")
KV_ID = armid.resource_id(SUB, RG, "Microsoft.KeyVault/vaults", "kv-myapp-prod-uks-01")
ST_ID = armid.resource_id(SUB, RG, "Microsoft.Storage/storageAccounts", "stmyappproduks01")
KV_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
BLOB_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"


def test_examples_validate_through_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["validate", str(SPECS)]) == 0
    out, err = capsys.readouterr()
    assert "error" not in out
    assert err.strip().endswith(", 1 warning")
    assert " 0 errors" in err


def test_seed_scenario_builds_the_expected_state() -> None:
    result = validate([SPECS / "myapp-prod.yaml"])
    assert result.ok, result.findings
    assert result.findings == []
    desired = result.desired
    assert desired is not None
    assert desired.subscriptions == (SUB,)
    ident = desired.identities[armid.key(IDENTITY_ID)]
    assert ident.id == IDENTITY_ID
    assert (ident.name, ident.location, ident.resource_group) == (
        "id-myapp-prod-uks-01", "uksouth", RG,
    )
    assert ident.tags[OWNER_TAG] == OWNER_TAG_VALUE
    assert ident.tags["owner"] == "platform"
    assert ident.federated_credentials is not None
    (fic,) = ident.federated_credentials
    assert fic.issuer == "https://token.actions.githubusercontent.com"
    assert fic.subject == "repo:contoso/myapp:environment:production"
    assert fic.audiences == ("api://AzureADTokenExchange",)
    app = desired.resources[armid.key(APP_ID)]
    assert app.user_assigned == (IDENTITY_ID,)
    assert app.system_assigned is None
    assert app.resource_type == "Microsoft.Web/sites"
    (grant,) = desired.grants.values()
    assert grant.scope == KV_ID
    assert grant.role_definition_guid == KV_SECRETS_USER
    assert grant.role_name == "Key Vault Secrets User"
    assert grant.principal.kind is PrincipalKind.USER_ASSIGNED
    assert grant.principal.id == IDENTITY_ID
    assert list(desired.grants) == [grant.key]
    (db,) = desired.sql
    server = armid.resource_id(SUB, RG, "Microsoft.Sql/servers", "sql-myapp-prod-uks-01")
    assert db.server_id == server
    assert db.database == "appdb"
    (user,) = db.users
    assert user.user_name == "id-myapp-prod-uks-01"
    assert user.roles == ("db_datareader", "db_datawriter")
    assert user.principal.id == IDENTITY_ID
    assert desired.managed_resource_groups == frozenset(
        {armid.key(f"/subscriptions/{SUB}/resourceGroups/{RG}")}
    )
    assert desired.digest.startswith("sha256:")


def test_function_app_example_uses_its_system_identity() -> None:
    result = validate([SPECS / "myapp-func-prod.yaml"])
    assert result.ok
    assert rules(result) == ["IR105"]
    assert result.desired is not None
    func = result.desired.resources[armid.key(FUNC_ID)]
    assert func.system_assigned is True
    (grant,) = result.desired.grants.values()
    assert grant.principal.kind is PrincipalKind.SYSTEM_ASSIGNED
    assert grant.principal.id == FUNC_ID
    assert (grant.scope, grant.role_definition_guid) == (ST_ID, BLOB_READER)


def test_examples_start_with_the_schema_comment() -> None:
    for path in sorted(SPECS.glob("*.yaml")):
        first = path.read_text().splitlines()[0]
        assert first == "# yaml-language-server: $schema=../schemas/spec.schema.json", path


def test_json_format_lists_findings(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["validate", "--format", "json", str(SPECS)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["files"] == 2
    assert doc["errors"] == 0
    assert [f["rule_id"] for f in doc["findings"]] == ["IR105"]
    assert doc["findings"][0]["file"].endswith("myapp-func-prod.yaml")


def test_strict_fails_on_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["validate", "--strict", str(SPECS)]) == 1
    assert cli.main(["validate", "--strict", str(SPECS / "myapp-prod.yaml")]) == 0


def test_list_rules(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["validate", "--list-rules"]) == 0
    out = capsys.readouterr().out
    assert "IR102" in out
    assert "privileged" in out


def test_no_paths_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["validate"]) == 1
    assert "spec file or folder" in capsys.readouterr().err


def test_missing_path_and_empty_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("not a spec")
    code = cli.main(["validate", str(tmp_path / "nope.yaml"), str(tmp_path / "empty")])
    out = capsys.readouterr().out
    assert code == 1
    assert "nope.yaml: no such file or folder" in out
    assert "no *.yaml or *.yml spec files under" in out


def test_multi_document_files_and_folders(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", f"""\
        {HEAD.replace(chr(10), chr(10) + '        ')}
        identities:
          - name: id-myapp-prod-uks-01
            roles: [{{role: Reader, scope: {{resource_group: {RG}}}}}]
        ---
        subscription: {SUB}
        defaults: {{location: uksouth, resource_group: {RG}}}
        identities:
          - name: id-myapp-prod-uks-02
            roles: [{{role: Reader, scope: {{resource_group: {RG}}}}}]
        ---
        """)
    write(tmp_path, "deeper/b.yml", f"""\
        subscription: {SUB}
        defaults: {{location: uksouth, resource_group: {RG}}}
        identities:
          - name: id-myapp-prod-uks-03
            roles: [{{role: Reader, scope: {{resource_group: {RG}}}}}]
        """)
    write(tmp_path, ".hidden/c.yaml", "not: [valid")
    write(tmp_path, "README.md", "# not a spec")
    result = validate([tmp_path])
    assert result.ok, result.findings
    assert result.desired is not None
    assert sorted(i.name for i in result.desired.identities.values()) == [
        "id-myapp-prod-uks-01", "id-myapp-prod-uks-02", "id-myapp-prod-uks-03",
    ]
    assert [p.name for p in result.files] == ["a.yaml", "b.yml"]


def test_anchors_and_merge_keys_are_plain_data(tmp_path: Path) -> None:
    result = check(tmp_path, f"""\
        subscription: {SUB}
        defaults: {{location: uksouth, resource_group: {RG}}}
        identities:
          - &base
            name: id-myapp-prod-uks-01
            roles:
              - &kv {{role: Key Vault Secrets User, scope: {{type: Microsoft.KeyVault/vaults,
                     name: kv-myapp-prod-uks-01}}}}
          - <<: *base
            name: id-myapp-prod-uks-02
            tags: {{team: web}}
        """)
    assert result.ok, result.findings
    assert result.desired is not None
    assert len(result.desired.identities) == 2
    assert len(result.desired.grants) == 2


def test_digest_follows_content_not_time(tmp_path: Path) -> None:
    path = write(tmp_path, "spec.yaml", HEAD)
    first = validate([path]).desired
    again = validate([path]).desired
    path.write_text(HEAD + "# a comment changes the reviewed text\n")
    changed = validate([path]).desired
    assert first is not None
    assert again is not None
    assert changed is not None
    assert first.digest == again.digest
    assert first.digest != changed.digest


def test_a_file_named_twice_is_read_once(tmp_path: Path) -> None:
    path = write(tmp_path, "spec.yaml", HEAD)
    result = validate([path, tmp_path, str(path)])
    assert len(result.files) == 1


def test_errors_mean_no_desired_state(tmp_path: Path) -> None:
    result = check(tmp_path, HEAD + "identities: [{name: x}]\n")
    assert not result.ok
    assert result.desired is None


def test_schema_errors_are_capped_per_document(tmp_path: Path) -> None:
    roles = ", ".join(["1"] * 150)
    result = check(tmp_path, HEAD + f"sql: [{{server: s1, database: db, users: "
                   f"[{{identity: x, roles: [{roles}]}}]}}]\n")
    assert len(result.findings) == 101
    assert any("50 more schema errors" in f.message for f in result.findings)
