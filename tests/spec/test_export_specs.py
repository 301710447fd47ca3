"""Export: live state -> spec files that validate and read back as the same estate."""

from __future__ import annotations

import uuid
from pathlib import Path

import yaml

from identity_reconciler.core import armid, ownership
from identity_reconciler.core.live import (
    AttachedIdentity,
    LiveFederatedCredential,
    LiveGrant,
    LiveIdentity,
    LiveResourceIdentity,
    LiveState,
)
from identity_reconciler.core.state import PrincipalKind
from identity_reconciler.spec import validate
from identity_reconciler.spec.export import ALLOWANCE_JUSTIFICATION, export_specs

SUB = "11111111-1111-1111-1111-111111111111"
OTHER_SUB = "33333333-3333-3333-3333-333333333333"
RG, RG2 = "rg-myapp-prod-uks-01", "rg-data-prod-uks-01"
KV_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
CUSTOM = "0b5fe8a3-1f3c-4e8e-9c5b-2f0e6a1d9c77"
GITHUB = "https://token.actions.githubusercontent.com"
MG = "/providers/Microsoft.Management/managementGroups/mg-platform"


def pid(seed: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, seed))


def rid(rtype: str, name: str, rg: str = RG, sub: str = SUB) -> str:
    return armid.resource_id(sub, rg, rtype, name)


def ident(name: str, rg: str = RG, *, owned: bool = True, location: str = "uksouth",
          tags: dict[str, str] | None = None,
          fics: tuple[LiveFederatedCredential, ...] | None = ()) -> LiveIdentity:
    iid = armid.identity_id(SUB, rg, name)
    all_tags = {**(tags or {}), **({"managed-by": "identity-reconciler"} if owned else {})}
    return LiveIdentity(iid, SUB, rg, name, location, all_tags, None, pid(name), pid("c" + name),
                        "22222222-2222-2222-2222-222222222222", fics)


def grant(principal: str, scope: str, role: str, *, owned: bool = True,
          description: str | None = None, condition: str | None = None) -> LiveGrant:
    name = ownership.assignment_name(scope, role, principal) if owned else pid(scope + principal)
    desc = ownership.with_marker(description) if owned else description
    return LiveGrant(f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}", name,
                     scope, armid.role_definition_id(role), role, principal, "ServicePrincipal",
                     condition, "2.0" if condition else None, desc)


def estate() -> LiveState:
    fic = LiveFederatedCredential(
        f"{armid.identity_id(SUB, RG, 'id-myapp-prod-uks-01')}/federatedIdentityCredentials/gh",
        "github-main", GITHUB, "repo:contoso/myapp:ref:refs/heads/main",
        ("api://AzureADTokenExchange",),
    )
    app = ident("id-myapp-prod-uks-01", tags={"app": "myapp", "cost": "0042", "flag": "true"},
                fics=(fic,))
    legacy = ident("legacy_identity", owned=False, location="westeurope", fics=())
    data = ident("id-data-prod-uks-01", RG2, fics=())
    site = rid("Microsoft.Web/sites", "app-myapp-prod-uks-01")
    func = rid("Microsoft.Web/sites", "func-myapp-prod-uks-01")
    storage = rid("Microsoft.Storage/storageAccounts", "stmyappproduks01")
    db = f"{rid('Microsoft.Sql/servers', 'sql-1')}/databases/appdb"
    kv = rid("Microsoft.KeyVault/vaults", "kv-myapp-prod-uks-01")
    resources = [
        LiveResourceIdentity(site, "Microsoft.Web/sites", identity_type="UserAssigned",
                             user_assigned={armid.key(app.id): AttachedIdentity(app.id)}),
        LiveResourceIdentity(func, "Microsoft.Web/sites", identity_type="SystemAssigned",
                             system_principal_id=pid("func")),
        LiveResourceIdentity(storage, "Microsoft.Storage/storageAccounts",
                             identity_type="SystemAssigned, UserAssigned",
                             system_principal_id=pid("st"),
                             user_assigned={armid.key(app.id): AttachedIdentity(app.id)}),
    ]
    grants = [
        grant(app.principal_id, kv, KV_SECRETS_USER, description="reads secrets"),
        grant(app.principal_id, db, READER, condition="@Resource[x] StringEquals 'y'"),
        grant(app.principal_id, f"/subscriptions/{SUB}/resourceGroups/{RG2}", CUSTOM),
        grant(app.principal_id, f"/subscriptions/{OTHER_SUB}/resourceGroups/rg-x", READER),
        grant(legacy.principal_id, kv, READER, owned=False, description="by hand"),
        grant(pid("func"), f"/subscriptions/{SUB}", OWNER),
        grant(data.principal_id, MG, READER),
        grant(pid("someone"), kv, READER, owned=False),
    ]
    return LiveState(
        tenant_id="22222222-2222-2222-2222-222222222222",
        identities={armid.key(i.id): i for i in (app, legacy, data)},
        resources={armid.key(r.resource_id): r for r in resources},
        grants={armid.key(g.id): g for g in grants},
    )


def write(tmp_path: Path, state: LiveState, **kwargs: object) -> list[Path]:
    exported = export_specs(state, subscription_ids=[SUB], **kwargs)  # type: ignore[arg-type]
    paths = []
    for f in exported.files:
        path = tmp_path / f.name
        path.write_text(f.text)
        paths.append(path)
    return paths


def test_one_file_per_resource_group_that_validates(tmp_path: Path) -> None:
    paths = write(tmp_path, estate())
    assert [p.name for p in paths] == [f"{RG2}.yaml", f"{RG}.yaml"]
    result = validate(paths)
    assert result.ok, [str(f) for f in result.errors]
    assert result.desired is not None


def test_the_specs_read_back_as_the_live_estate(tmp_path: Path) -> None:
    state = estate()
    result = validate(write(tmp_path, state))
    desired = result.desired
    assert desired is not None
    app = desired.identities[armid.key(armid.identity_id(SUB, RG, "id-myapp-prod-uks-01"))]
    assert dict(app.tags) == {"app": "myapp", "cost": "0042", "flag": "true",
                              "managed-by": "identity-reconciler"}
    assert app.federated_credentials is not None
    assert [(c.name, c.subject) for c in app.federated_credentials] == [
        ("github-main", "repo:contoso/myapp:ref:refs/heads/main")
    ]
    legacy = desired.identities[armid.key(armid.identity_id(SUB, RG, "legacy_identity"))]
    assert legacy.location == "westeurope"
    assert legacy.federated_credentials == ()  # listed (empty): later additions are drift
    live_keys = {
        (armid.key(g.scope), g.role_definition_guid, g.principal_id)
        for g in state.grants.values()
        if g.principal_id != pid("someone")
    }
    principal_ids = {armid.key(i.id): i.principal_id for i in state.identities.values()}
    principal_ids[armid.key(rid("Microsoft.Web/sites", "func-myapp-prod-uks-01"))] = pid("func")
    desired_keys = {
        (armid.key(g.scope), g.role_definition_guid, principal_ids[armid.key(g.principal.id)])
        for g in desired.grants.values()
    }
    assert desired_keys == live_keys
    by_role = {g.role_definition_guid: g for g in desired.grants.values()}
    assert by_role[KV_SECRETS_USER].description == "reads secrets"  # marker stripped
    assert by_role[READER].principal.kind in (PrincipalKind.USER_ASSIGNED,)
    func = desired.resources[armid.key(rid("Microsoft.Web/sites", "func-myapp-prod-uks-01"))]
    assert func.system_assigned is True
    site = desired.resources[armid.key(rid("Microsoft.Web/sites", "app-myapp-prod-uks-01"))]
    assert site.user_assigned == (app.id,)
    assert [(a.role_definition_guid, a.scope) for a in desired.allow_privileged] == [
        (OWNER, f"/subscriptions/{SUB}")
    ]


def test_what_is_written_and_how() -> None:
    exported = export_specs(estate(), subscription_ids=[SUB])
    main = next(f for f in exported.files if f.resource_group == RG).text
    lines = main.splitlines()
    assert lines[0] == "# yaml-language-server: $schema=../schemas/spec.schema.json"
    assert "#   legacy_identity" in lines  # not owned yet: named in the header
    doc = yaml.safe_load(main)
    assert doc["defaults"] == {"resource_group": RG, "location": "uksouth"}
    app = next(i for i in doc["identities"] if i["name"] == "id-myapp-prod-uks-01")
    assert "managed-by" not in app["tags"]
    assert app["assigned_to"] == [{"type": "Microsoft.Web/sites", "name": "app-myapp-prod-uks-01"}]
    assert app["roles"] == [  # in scope order
        {"role": f"/providers/Microsoft.Authorization/roleDefinitions/{CUSTOM}",
         "scope": {"resource_group": RG2}},
        {"role": "Key Vault Secrets User",
         "scope": {"type": "Microsoft.KeyVault/vaults", "name": "kv-myapp-prod-uks-01"},
         "description": "reads secrets"},
        {"role": "Reader",
         "scope": {"type": "Microsoft.Sql/servers/databases", "name": "sql-1/appdb"},
         "condition": "@Resource[x] StringEquals 'y'"},
        {"role": "Reader", "scope": f"/subscriptions/{OTHER_SUB}/resourceGroups/rg-x"},
    ]
    # strings that YAML would read as numbers or booleans are quoted
    assert '"0042"' in main
    assert '"true"' in main
    legacy = next(i for i in doc["identities"] if i["name"] == "legacy_identity")
    assert legacy["location"] == "westeurope"
    assert legacy["roles"] == [{"role": "Reader", "scope": {
        "type": "Microsoft.KeyVault/vaults", "name": "kv-myapp-prod-uks-01"},
        "description": "by hand"}]
    assert doc["policy"]["allow_privileged"] == [
        {"role": "Owner", "scope": {"subscription": SUB}, "justification": ALLOWANCE_JUSTIFICATION}
    ]
    data = next(f for f in exported.files if f.resource_group == RG2).text
    assert f"scope: {MG}" in data
    assert any("Microsoft.Storage/storageAccounts" in n and "system-assigned" in n
               for n in exported.notes)
    assert any("attached to" in n and "stmyappproduks01" in n for n in exported.notes)


def test_output_is_deterministic_whatever_the_order() -> None:
    state = estate()
    shuffled = LiveState(
        tenant_id=state.tenant_id,
        identities=dict(reversed(list(state.identities.items()))),
        resources=dict(reversed(list(state.resources.items()))),
        grants=dict(reversed(list(state.grants.items()))),
    )
    first = [f.text for f in export_specs(state, subscription_ids=[SUB]).files]
    assert first == [f.text for f in export_specs(shuffled, subscription_ids=[SUB]).files]


def test_resource_groups_narrow_the_export() -> None:
    exported = export_specs(estate(), subscription_ids=[SUB], resource_groups=[RG2.upper()])
    assert [f.resource_group for f in exported.files] == [RG2]
    assert exported.files[0].identities == 1


def test_awkward_strings_read_back_unchanged(tmp_path: Path) -> None:
    tags = {"a": " padded", "b": "null", "c": "1e3", "d": "0o17", "e": "yes", "f": "~",
            "g": "#not-a-comment", "h": "x: y", "i": "-", "j": "'quoted'"}
    description = "line one\nline two: with a colon"
    app = ident("id-myapp-prod-uks-01", tags=tags, fics=())
    kv = rid("Microsoft.KeyVault/vaults", "kv-myapp-prod-uks-01")
    state = LiveState(
        identities={armid.key(app.id): app},
        grants={"g": grant(app.principal_id, kv, READER, description=description)},
    )
    result = validate(write(tmp_path, state))
    assert result.ok, [str(f) for f in result.errors]
    assert result.desired is not None
    (desired,) = result.desired.identities.values()
    assert {k: v for k, v in desired.tags.items() if k != "managed-by"} == tags
    (g,) = result.desired.grants.values()
    assert g.description == description
