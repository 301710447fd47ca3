"""DesiredState building: defaults, scopes, role ids, attachments, SQL users, policy."""

from __future__ import annotations

from pathlib import Path

import pytest
from spec_text import HEAD, RG, SUB, SUB2, check, only, rules, write

from identity_reconciler.core import armid, roles
from identity_reconciler.core.ownership import OWNER_TAG
from identity_reconciler.core.state import PrincipalKind, SafetyPolicy
from identity_reconciler.spec import validate

KV = "Key Vault Secrets User"
KV_GUID = "4633458b-17de-408a-b874-0445c86b69e6"


def _grant_scopes(tmp_path: Path, scope: str) -> list[str]:
    result = check(tmp_path, HEAD + f"""\
identities:
  - name: id-myapp-prod-uks-01
    roles:
      - role: Reader
        scope: {scope}
""")
    assert result.desired is not None, result.findings
    return [g.scope for g in result.desired.grants.values()]


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ("{type: Microsoft.KeyVault/vaults, name: kv-1}",
         f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.KeyVault/vaults/kv-1"),
        ("{resource_group: rg-other, type: Microsoft.Sql/servers/databases, name: sql-1/appdb}",
         f"/subscriptions/{SUB}/resourceGroups/rg-other/providers/Microsoft.Sql/servers/sql-1"
         "/databases/appdb"),
        ("{resource_group: rg-other}", f"/subscriptions/{SUB}/resourceGroups/rg-other"),
        (f"{{subscription: {SUB2}, resource_group: rg-x}}",
         f"/subscriptions/{SUB2}/resourceGroups/rg-x"),
        (f"{{subscription: {SUB2.upper()}}}", f"/subscriptions/{SUB2}"),
        ("{management_group: mg-platform}",
         "/providers/Microsoft.Management/managementGroups/mg-platform"),
        (f"/SUBSCRIPTIONS/{SUB.upper()}/resourcegroups/rg-x",
         f"/subscriptions/{SUB}/resourceGroups/rg-x"),
        ("/providers/microsoft.management/managementgroups/mg-1",
         "/providers/Microsoft.Management/managementGroups/mg-1"),
    ],
)
def test_scope_forms_normalise(tmp_path: Path, scope: str, expected: str) -> None:
    assert _grant_scopes(tmp_path, scope) == [expected]


@pytest.mark.parametrize(
    "role",
    [
        KV, "  key vault   SECRETS user ", KV_GUID, KV_GUID.upper(),
        f"/providers/Microsoft.Authorization/roleDefinitions/{KV_GUID}",
        f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{KV_GUID}",
    ],
)
def test_role_by_name_or_id(tmp_path: Path, role: str) -> None:
    result = check(tmp_path, HEAD + f"""\
identities:
  - name: id-myapp-prod-uks-01
    roles: [{{role: "{role}", scope: {{type: Microsoft.KeyVault/vaults, name: kv-1}}}}]
""")
    assert result.findings == []
    assert result.desired is not None
    (grant,) = result.desired.grants.values()
    assert (grant.role_definition_guid, grant.role_name) == (KV_GUID, KV)


def test_former_role_name_warns_and_resolves(tmp_path: Path) -> None:
    result = check(tmp_path, HEAD + """\
identities:
  - name: id-myapp-prod-uks-01
    roles:
      - {role: Role Based Access Control Administrator (Preview), scope: {resource_group: rg-a}}
""")
    finding = only(result, "IR023")
    assert "Role Based Access Control Administrator" in (finding.fix or "")
    assert result.desired is not None
    (grant,) = result.desired.grants.values()
    assert grant.role_definition_guid == roles.RBAC_ADMINISTRATOR


def test_custom_role_guid_warns(tmp_path: Path) -> None:
    guid = "0b5fe9a2-1234-4a5b-9c8d-0123456789ab"
    result = check(tmp_path, HEAD + f"""\
identities:
  - name: id-myapp-prod-uks-01
    roles: [{{role: {guid}, scope: {{resource_group: rg-a}}}}]
""")
    assert rules(result) == ["IR022"]
    assert result.ok
    assert result.desired is not None
    (grant,) = result.desired.grants.values()
    assert (grant.role_definition_guid, grant.role_name) == (guid, guid)


def test_unknown_role_suggests(tmp_path: Path) -> None:
    result = check(tmp_path, HEAD + """\
identities:
  - name: id-myapp-prod-uks-01
    roles: [{role: Storage Blob Data Reeder, scope: {resource_group: rg-a}}]
""")
    finding = only(result, "IR021")
    assert "did you mean 'Storage Blob Data Reader'" in (finding.fix or "")
    assert (finding.line, finding.column) == (7, 20)


def test_identity_overrides_and_tags(tmp_path: Path) -> None:
    result = check(tmp_path, f"""\
subscription: {SUB}
defaults:
  location: UK South
  resource_group: {RG}
  tags: {{owner: platform, env: prod}}
identities:
  - name: id-other-dev-weu-01
    subscription: {SUB2}
    resource_group: rg-other
    location: westeurope
    isolation_scope: Regional
    tags: {{env: dev, managed-by: identity-reconciler}}
    roles: [{{role: Reader, scope: {{resource_group: rg-other}}}}]
  - name: id-myapp-prod-uks-01
    roles: [{{role: Reader, scope: {{resource_group: rg-other}}}}]
""")
    assert result.ok, result.findings
    desired = result.desired
    assert desired is not None
    other_id = armid.identity_id(SUB2, "rg-other", "id-other-dev-weu-01")
    other = desired.identities[armid.key(other_id)]
    assert other.location == "westeurope"
    assert other.isolation_scope == "Regional"
    assert other.tags == {"owner": "platform", "env": "dev", OWNER_TAG: "identity-reconciler"}
    (grant,) = [g for g in desired.grants.values() if g.principal.id == other.id]
    assert grant.scope == f"/subscriptions/{SUB2}/resourceGroups/rg-other"
    mine = desired.identities[armid.key(armid.identity_id(SUB, RG, "id-myapp-prod-uks-01"))]
    assert mine.location == "uksouth"
    assert desired.subscriptions == (SUB, SUB2)
    assert desired.managed_resource_groups == frozenset(
        {armid.key(f"/subscriptions/{SUB2}/resourceGroups/rg-other"),
         armid.key(f"/subscriptions/{SUB}/resourceGroups/{RG}")}
    )


def test_attachments_and_system_identity_merge_on_one_resource(tmp_path: Path) -> None:
    app = armid.resource_id(SUB, RG, "Microsoft.Web/sites", "app-1")
    result = check(tmp_path, HEAD + f"""\
identities:
  - name: id-myapp-prod-uks-01
    assigned_to: [{{type: microsoft.web/SITES, name: app-1}}]
    roles: [{{role: Reader, scope: {{resource_group: {RG}}}}}]
  - name: id-myapp-prod-uks-02
    assigned_to: ["{app.lower()}"]
    roles: [{{role: Reader, scope: {{resource_group: {RG}}}}}]
resources:
  - {{type: Microsoft.Web/sites, name: app-1,
     roles: [{{role: Reader, scope: {{resource_group: {RG}}}}}]}}
  - {{type: Microsoft.App/containerApps, name: ca-1, system_assigned: false}}
""")
    assert rules(result) == [], result.findings
    assert result.desired is not None
    block = result.desired.resources[armid.key(app)]
    assert block.resource_id == app
    assert block.system_assigned is True
    assert [armid.key(i) for i in block.user_assigned] == [
        armid.key(armid.identity_id(SUB, RG, "id-myapp-prod-uks-01")),
        armid.key(armid.identity_id(SUB, RG, "id-myapp-prod-uks-02")),
    ]
    ca = armid.resource_id(SUB, RG, "Microsoft.App/containerApps", "ca-1")
    assert result.desired.resources[armid.key(ca)].system_assigned is False
    kinds = sorted(g.principal.kind.value for g in result.desired.grants.values())
    assert kinds == ["system_assigned", "user_assigned", "user_assigned"]


def test_sql_users_resolve_by_name_id_and_system_identity(tmp_path: Path) -> None:
    ident = armid.identity_id(SUB, RG, "id-myapp-prod-uks-01")
    write(tmp_path, "a.yaml", HEAD + f"""\
identities:
  - name: id-myapp-prod-uks-01
    roles: [{{role: Reader, scope: {{resource_group: {RG}}}}}]
resources:
  - {{type: Microsoft.Web/sites, name: func-myapp-dev-uks-01}}
""")
    write(tmp_path, "b.yaml", HEAD + f"""\
sql:
  - server: sql-1
    database: appdb
    prune: true
    users:
      - {{identity: ID-MYAPP-PROD-UKS-01, roles: [db_datareader, db_datareader]}}
      - {{identity: func-myapp-dev-uks-01}}
  - server: sql-1
    database: other
    users: [{{identity: "{ident}", roles: [db_owner]}}]
""")
    result = validate([tmp_path])
    assert result.ok, result.findings
    assert result.desired is not None
    appdb, other = result.desired.sql
    assert appdb.prune is True
    first, second = appdb.users
    assert (first.user_name, first.roles, first.principal.id) == (
        "id-myapp-prod-uks-01", ("db_datareader",), ident,
    )
    assert second.principal.kind is PrincipalKind.SYSTEM_ASSIGNED
    assert second.user_name == "func-myapp-dev-uks-01"
    assert other.users[0].principal.id == ident


def test_sql_user_name_ambiguous_across_resource_groups(tmp_path: Path) -> None:
    result = check(tmp_path, HEAD + f"""\
identities:
  - {{name: id-myapp-prod-uks-01, roles: [{{role: Reader, scope: {{resource_group: {RG}}}}}]}}
  - {{name: id-myapp-prod-uks-01, resource_group: rg-two,
      roles: [{{role: Reader, scope: {{resource_group: {RG}}}}}]}}
sql:
  - {{server: sql-1, database: appdb, users: [{{identity: id-myapp-prod-uks-01}}]}}
""")
    finding = only(result, "IR032")
    assert "ambiguous" in finding.message
    assert finding.message.count("spec.yaml:") == 2


def test_policy_safety_and_allowances(tmp_path: Path) -> None:
    write(tmp_path, "policy.yaml", f"""\
subscription: {SUB}
policy:
  safety: {{max_delete_percent: 10, min_existing: 3}}
  allow_privileged:
    - role: Contributor
      scope: {{subscription: {SUB}}}
      justification: deploys infrastructure for the platform
""")
    write(tmp_path, "more.yaml", """\
policy:
  max_update_percent: 50  # the thresholds may also sit directly under policy
  min_existing: 3
""")
    write(tmp_path, "ids.yaml", HEAD + f"""\
identities:
  - name: id-deploy-prod-uks-01
    roles: [{{role: Contributor, scope: /subscriptions/{SUB}}}]
""")
    result = validate([tmp_path])
    assert result.ok, result.findings
    assert rules(result) == ["IR103"]
    assert result.desired is not None
    assert result.desired.safety == SafetyPolicy(10.0, 50.0, 3)
    (allowance,) = result.desired.allow_privileged
    assert allowance.role_definition_guid == roles.CONTRIBUTOR
    assert allowance.scope == f"/subscriptions/{SUB}"
    assert allowance.justification == "deploys infrastructure for the platform"


def test_condition_gets_version_2(tmp_path: Path) -> None:
    result = check(tmp_path, HEAD + """\
identities:
  - name: id-myapp-prod-uks-01
    roles:
      - role: Storage Blob Data Reader
        scope: {type: Microsoft.Storage/storageAccounts, name: st1}
        condition: >-
          @Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name]
          StringEquals 'logs'
        description: read the logs container only
""")
    assert result.ok, result.findings
    assert result.desired is not None
    (grant,) = result.desired.grants.values()
    assert grant.condition_version == "2.0"
    assert grant.description == "read the logs container only"


def test_description_leaves_room_for_the_ownership_marker(tmp_path: Path) -> None:
    result = check(tmp_path, HEAD + f"""\
identities:
  - name: id-myapp-prod-uks-01
    roles: [{{role: Reader, scope: {{resource_group: {RG}}}, description: "{'d' * 2040}"}}]
""")
    assert "ownership marker" in only(result, "IR012").message


def test_safety_set_twice_differently_is_a_conflict(tmp_path: Path) -> None:
    result = check(tmp_path, "policy:\n  min_existing: 5\n  safety: {min_existing: 6}\n")
    finding = only(result, "IR035")
    assert finding.line == 3
    assert "min_existing is 5 at" in finding.message


def test_absent_credentials_key_means_unmanaged_and_empty_list_means_managed(
    tmp_path: Path,
) -> None:
    body = (
        "subscription: 11111111-1111-1111-1111-111111111111\n"
        "identities:\n"
        "  - {name: id-a-dev-uks-01, resource_group: rg-a, location: uksouth}\n"
        "  - {name: id-b-dev-uks-01, resource_group: rg-a, location: uksouth,\n"
        "     federated_credentials: []}\n"
    )
    (tmp_path / "s.yaml").write_text(body)
    result = validate([tmp_path])
    assert result.desired is not None
    creds = {i.name: i.federated_credentials for i in result.desired.identities.values()}
    assert creds == {"id-a-dev-uks-01": None, "id-b-dev-uks-01": ()}
