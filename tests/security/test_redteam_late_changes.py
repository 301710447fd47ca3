"""Attacks on what changed last: a grant write's condition version and principal type, the
role catalog read on demand, `--target`, and the local Azure's clause-by-clause expression
reading. Each edits a real saved plan (re-sealed: the checksum is no signature) or feeds a
spelling through validate and plan, and must either be refused with nothing written or be
shown to the reviewer as what ARM receives.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from security_support import RG_ID, SUB, refused_without_writes, reseal

from identity_reconciler.azure import convert
from identity_reconciler.azure.clients import connect_emulator
from identity_reconciler.cli import main
from identity_reconciler.core import privilege, roles
from identity_reconciler.core.live import LiveGrant
from identity_reconciler.plan.binding import unbound
from identity_reconciler.plan.diff_grants import is_owned
from identity_reconciler.plan.model import Plan, checksum_of
from identity_reconciler.spec.values import SpecValueError, claims_clauses
from local_azure import api
from local_azure.providers.managed_identity import claims_expression

SPEC = """subscription: 11111111-1111-1111-1111-111111111111
defaults: {location: uksouth, resource_group: rg-myapp-prod-uks-01}
identities:
  - name: id-victim-prod-uks-01
    roles:
%s  - name: id-other-prod-uks-01
    roles:
      - {role: Reader, scope: {resource_group: rg-myapp-prod-uks-01}}
      - role: Key Vault Secrets User
        scope: {type: Microsoft.KeyVault/vaults, name: kv-myapp-prod-uks-01}
"""
VICTIM_READER = "      - {role: Reader, scope: {resource_group: rg-myapp-prod-uks-01}}\n"
VICTIM_KV = (
    "      - role: Key Vault Secrets User\n"
    "        scope: {type: Microsoft.KeyVault/vaults, name: kv-myapp-prod-uks-01}\n"
)

Seeded = tuple[Path, Path, str, dict[str, Any]]


@pytest.fixture
def seeded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Seeded:
    """Both identities applied with their grants; then the victim's Reader grant is dropped
    from the specs, and the saved plan (one grant deletion, reviewed) is returned."""
    specs = tmp_path / "specs"
    specs.mkdir()
    spec = specs / "estate.yaml"
    state = str(tmp_path / "state")
    local = ["--cloud", "local", "--state-dir", state]
    spec.write_text(SPEC % (VICTIM_READER + VICTIM_KV), encoding="utf-8")
    assert main(["apply", str(specs), *local, "--auto-approve"]) == 0
    spec.write_text(SPEC % VICTIM_KV, encoding="utf-8")
    plan_file = tmp_path / "plan.json"
    assert main(["plan", str(specs), *local, "--out", str(plan_file)]) == 0
    capsys.readouterr()
    return plan_file, specs, state, json.loads(plan_file.read_text())


def _live_grants(state: str) -> dict[tuple[str, str], LiveGrant]:
    """Every live role assignment in the resource group, by principal id and role guid."""
    emu = api.start(state_dir=state)
    try:
        with connect_emulator(emu.info) as session:
            ops = session.authorization(SUB).role_assignments
            found = [
                convert.grant(a.serialize(keep_readonly=True))
                for a in ops.list_for_scope(RG_ID)
            ]
    finally:
        emu.stop()
    return {(g.principal_id, g.role_definition_guid or ""): g for g in found}


def _deletion(data: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in data["changes"] if c["kind"] == "grant" and c["actions"] == ["delete"])


def _other_reader(state: str, before: dict[str, Any]) -> LiveGrant:
    """The other identity's grant of the same role at the same scope: owned, like the victim's."""
    guid = before["role_definition_id"].rsplit("/")[-1]
    return next(
        g for (p, g_guid), g in _live_grants(state).items()
        if p != before["principal_id"] and g_guid == guid and g.scope == before["scope"]
        and is_owned(g)
    )  # fmt: skip


# ------------------------------------------------------------------ a deletion moved


def test_a_deletion_moved_to_another_owned_grant_is_refused(
    seeded: Seeded, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reviewer reads "delete Reader of id-victim at the group"; the change's id and its
    DELETE are edited to another identity's grant at the same scope, its fingerprint copied
    from the live object. That grant is owned too (its name is ours), so the ownership read
    before a DELETE passes: only binding the id to the assignment `before` shows stops it."""
    plan_file, _, state, data = seeded
    change = _deletion(data)
    other = _other_reader(state, change["before"])
    change["id"] = other.id
    change["operations"][0]["id"] = other.id
    change["live_fingerprint"] = other.fingerprint
    reseal(plan_file, data)
    assert unbound(Plan.from_json(plan_file.read_text())) != []
    argv = ["apply", str(plan_file), "--state-dir", state]
    err = refused_without_writes(monkeypatch, capsys, argv)
    assert "is not the object the change shows" in err
    assert other.id.lower() in {g.id.lower() for g in _live_grants(state).values()}


def test_a_deletion_whose_before_names_another_assignment_is_refused(seeded: Seeded) -> None:
    """`before.name` edited along with the id (the reviewer sees a GUID, not whose it is): the
    name is not the one the planner gives the role, principal and scope `before` shows."""
    plan_file, _, state, data = seeded
    change = _deletion(data)
    other = _other_reader(state, change["before"])
    change["id"] = change["operations"][0]["id"] = other.id
    change["before"]["name"] = other.name
    reseal(plan_file, data)
    assert any("not ours for the role" in p for p in unbound(Plan.from_json(plan_file.read_text())))


def test_a_deletion_shown_as_another_principal_still_needs_the_specs(
    seeded: Seeded, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Left to `--specs`: the whole `before` rewritten to the other identity's grant (its
    principal id shown, the address still naming the victim) is bound, as any consistent
    forgery is; a fresh plan of the reviewed specs has no such change."""
    plan_file, specs, state, data = seeded
    change = _deletion(data)
    other = _other_reader(state, change["before"])
    change["id"] = change["operations"][0]["id"] = other.id
    change["before"].update(name=other.name, principal_id=other.principal_id)
    change["live_fingerprint"] = other.fingerprint
    reseal(plan_file, data)
    assert unbound(Plan.from_json(plan_file.read_text())) == []
    argv = ["apply", str(plan_file), "--specs", str(specs), "--state-dir", state]
    assert "not what these specs plan now" in refused_without_writes(monkeypatch, capsys, argv)


@pytest.mark.parametrize(
    "suffix",
    ["/", "/.", "/./", "/../" + "x", "/%2e%2e", "//", "?api-version=2015-07-01", "#x", " ",
     "\u200b"],
)  # fmt: skip
def test_a_deletion_url_spelt_another_way_is_refused(seeded: Seeded, suffix: str) -> None:
    """Dot segments, encoded dots, a doubled or trailing slash, a query or fragment or an
    invisible character after the reviewed id: none parses as that assignment's id."""
    plan_file, _, _, data = seeded
    change = _deletion(data)
    op = change["operations"][0]
    op["id"] = op["id"] + suffix
    reseal(plan_file, data)
    assert unbound(Plan.from_json(plan_file.read_text())) != []


def test_a_deletion_url_with_a_doubled_slash_inside_is_refused(seeded: Seeded) -> None:
    plan_file, _, _, data = seeded
    op = _deletion(data)["operations"][0]
    op["id"] = op["id"].replace("/providers/", "//providers/", 1)
    reseal(plan_file, data)
    assert unbound(Plan.from_json(plan_file.read_text())) != []


# ------------------------------------------------------------------ a grant write's properties

CONDITION = "@Resource[Microsoft.KeyVault/vaults/secrets:name] StringEquals 'db-password'"
CONDITIONED = (
    "      - role: Key Vault Secrets User\n"
    "        scope: {type: Microsoft.KeyVault/vaults, name: kv-myapp-prod-uks-01}\n"
    f'        condition: "{CONDITION}"\n'
)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A saved plan (nothing applied) creating two identities; the victim's vault grant has a
    condition, the other's has none."""
    tmp = tmp_path_factory.mktemp("written")
    specs = tmp / "specs"
    specs.mkdir()
    (specs / "estate.yaml").write_text(SPEC % CONDITIONED, encoding="utf-8")
    plan_file = tmp / "plan.json"
    argv = ["plan", str(specs), "--cloud", "local", "--state-dir", str(tmp / "state")]
    assert main([*argv, "--out", str(plan_file)]) == 0
    return dict(json.loads(plan_file.read_text()))


def _vault_grant(data: dict[str, Any], who: str) -> dict[str, Any]:
    return next(
        c for c in data["changes"]
        if c["kind"] == "grant" and who in c["address"] and "kv-myapp" in c["address"]
    )  # fmt: skip


Edit = Callable[[dict[str, Any], dict[str, Any]], None]


def _sent(**props: Any) -> Edit:
    return lambda after, body: body["properties"].update(props)


def _blank_shown(after: dict[str, Any], body: dict[str, Any]) -> None:
    after["condition"] = " "
    body["properties"].update(condition=CONDITION, conditionVersion="2.0")


WRITES: dict[str, tuple[str, Edit]] = {
    "conditionVersion 1.0 where the change shows 2.0": (
        "id-victim", _sent(conditionVersion="1.0")),
    "conditionVersion ' 2.0'": ("id-victim", _sent(conditionVersion=" 2.0")),
    "conditionVersion 2 (a number)": ("id-victim", _sent(conditionVersion=2)),
    "condition with a trailing space": ("id-victim", _sent(condition=CONDITION + " ")),
    "condition in another case": ("id-victim", _sent(condition=CONDITION.upper())),
    "condition with a doubled space": (
        "id-victim", _sent(condition=CONDITION.replace(" ", "  ", 1))),
    "condition dropped": ("id-victim", lambda after, body: body["properties"].pop("condition")),
    "condition added where the change shows none": (
        "id-other", _sent(condition=CONDITION, conditionVersion="2.0")),
    "condition added where the change shows a blank one": ("id-other", _blank_shown),
    "condition a list": ("id-victim", _sent(condition=[CONDITION])),
    "principalType ServicePrincipal in another case": (
        "id-victim", _sent(principalType="serviceprincipal")),
    "Condition beside condition": ("id-other", _sent(Condition=CONDITION)),
}  # fmt: skip


@pytest.mark.parametrize("name", list(WRITES))
def test_a_grant_write_other_than_shown_is_unbound(written: dict[str, Any], name: str) -> None:
    assert unbound(Plan.from_json(json.dumps(written))) == []
    assert _vault_grant(written, "id-victim")["after"]["condition"] == CONDITION
    data = json.loads(json.dumps(written))
    who, edit = WRITES[name]
    change = _vault_grant(data, who)
    after, body = change["after"], change["operations"][0]["body"]
    edit(after, body)
    data["checksum"] = checksum_of(data)
    assert unbound(Plan.from_json(json.dumps(data))) != []


# ------------------------------------------------------------------ --target


@pytest.mark.parametrize(
    "target",
    [
        "grant.rg-myapp-prod-uks-01/id-victim-prod-uks-01/Key Vault Secrets User"
        "@rg-myapp-prod-uks-01/vaults/kv-myapp-prod-uks-01",
        "GRANT.RG-MYAPP-PROD-UKS-01/ID-VICTIM-PROD-UKS-01/KEY VAULT SECRETS USER"
        "@RG-MYAPP-PROD-UKS-01/VAULTS/KV-MYAPP-PROD-UKS-01",
        f"grant.{SUB}/rg-myapp-prod-uks-01/id-victim-prod-uks-01/Key Vault Secrets User"
        "@rg-myapp-prod-uks-01/vaults/kv-myapp-prod-uks-01",
        "identity.rg-myapp-prod-uks-01/id-other-prod-uks-01",
    ],
)
def test_a_targeted_plan_holds_only_changes_the_full_plan_shows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str
) -> None:
    """Whatever spelling names the target, each change of the targeted plan is one of the full
    plan's, operation for operation (a grant brings the identity it waits for, nothing else),
    and the full plan's errors and privileged verdicts are not left behind."""
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "estate.yaml").write_text(SPEC % CONDITIONED, encoding="utf-8")
    local = ["--cloud", "local", "--state-dir", str(tmp_path / "state")]
    full, part = tmp_path / "full.json", tmp_path / "part.json"
    assert main(["plan", str(specs), *local, "--out", str(full)]) == 0
    assert main(["plan", str(specs), *local, "--out", str(part), "--target", target]) == 0
    capsys.readouterr()
    shown = {c["address"]: c for c in json.loads(full.read_text())["changes"]}
    kept = json.loads(part.read_text())
    assert kept["changes"]
    for change in kept["changes"]:
        assert shown[change["address"]] == change
    assert {c["kind"] for c in kept["changes"]} <= {"identity", "grant"}
    wanted = target.lower().rsplit("/", 1)[-1]
    assert any(c["address"].lower().endswith(wanted) for c in kept["changes"])
    assert all("id-victim" in c["address"] for c in kept["changes"]) or "other" in target


# ------------------------------------------------------------------ the role catalog


def test_the_catalog_read_on_demand_is_the_catalog_read_whole() -> None:
    """Every role's line read lazily gives the role the whole-file parse gives: same name,
    GUID and permissions, so no role's privilege verdict depends on which reading ran."""
    text = roles._read_data(roles.CATALOG_FILE)
    lazy, whole = roles.RoleCatalog.from_text(text), roles.RoleCatalog.from_json(json.loads(text))
    assert isinstance(lazy._raw, roles._ParsedOnDemand)  # the line-by-line path is the one used
    assert len(lazy) == len(whole) == len(json.loads(text))
    assert lazy.roles() == whole.roles()
    for role in whole.roles():
        assert privilege.classify(role.permissions) == privilege.of_guid(role.guid)


OTHER_SUB = "22222222-2222-2222-2222-222222222222"


@pytest.mark.parametrize(
    "spelt",
    [
        "Owner", " owner ", "OWNER", "Owner\t", roles.OWNER.upper(), f" {roles.OWNER} ",
        f"/providers/Microsoft.Authorization/roleDefinitions/{roles.OWNER}",
        f"/subscriptions/{OTHER_SUB}/providers/Microsoft.Authorization/roleDefinitions/"
        f"{roles.OWNER.upper()}",
        f"/SUBSCRIPTIONS/{SUB}/PROVIDERS/MICROSOFT.AUTHORIZATION/ROLEDEFINITIONS/{roles.OWNER}",
    ],
)  # fmt: skip
def test_every_spelling_of_owner_is_owner_and_privileged(spelt: str) -> None:
    ref = roles.catalog().resolve(spelt)
    assert (ref.guid, ref.builtin) == (roles.OWNER, True)
    assert privilege.of_guid(ref.guid).privileged


@pytest.mark.parametrize(
    "spelt",
    ["Owner\u200b", "Own\u0435r", "O w n e r", "Owner.", "Owners"],  # U+0435 Cyrillic e
)
def test_a_lookalike_of_a_role_name_is_no_role(spelt: str) -> None:
    with pytest.raises(roles.UnknownRoleError):
        roles.catalog().resolve(spelt)


def test_a_role_the_catalog_does_not_know_is_privileged() -> None:
    """A custom role's permissions are not read: it is never taken for a harmless one."""
    ref = roles.catalog().resolve("0b5fe5a5-1111-4111-8111-111111111111")
    assert not ref.builtin
    verdict = privilege.of_guid(ref.guid)
    assert verdict.privileged
    assert not verdict.known


def test_a_former_name_resolves_to_the_role_it_names_now() -> None:
    renames = json.loads(roles._read_data(roles.RENAMES_FILE))["renames"]
    for former, _current, guid, _date in renames:
        if roles.catalog().by_name(former) is None:
            assert roles.catalog().resolve(former).guid == guid.lower()


# ------------------------------------------------------------------ claims expressions


def _spec_accepts(value: str) -> bool:
    try:
        claims_clauses(value)
    except SpecValueError:
        return False
    return True


def test_every_expression_the_spec_accepts_the_local_azure_stores_as_sent() -> None:
    """Both read clause by clause; the spec check is the stricter (single spaces, quoted
    comparands). Generated expressions over the characters that matter (quotes, `and`,
    spaces, brackets): whatever the spec accepts, the local Azure accepts and stores as sent,
    so the reviewer's clauses and the stored value are the same text."""
    rng = random.Random(20261202)
    pieces = ["'", "''", " and ", "and ", "claims['repository_id'] eq ", "x", "*", " ", "]",
              "\n", "\u200b"]  # fmt: skip
    accepted = 0
    for _ in range(3000):
        clauses = []
        for _ in range(rng.randint(1, 3)):
            comparand = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 6)))
            claim, op = rng.choice(["sub", "repository_id"]), rng.choice(["eq", "matches"])
            quoted = comparand.replace("'", "''")
            clauses.append(f"claims['{claim}'] {op} '{quoted}'")
        value = " and ".join(clauses)
        if rng.random() < 0.3:  # and now and then a quote doubled or undoubled by mistake
            at = rng.randrange(len(value))
            value = value[:at] + "'" + value[at:]
        if not _spec_accepts(value):
            continue
        accepted += 1
        stored = claims_expression.check({"value": value, "languageVersion": 1})
        assert stored == {"value": value, "languageVersion": 1}, value
    assert accepted > 1000


@pytest.mark.parametrize(
    "value",
    [
        "claims['sub'] eq 'a'  and claims['repository_id'] eq '1'",
        "claims['sub'] eq a and claims['repository_id'] eq '1'",
        "claims[ 'sub' ] eq 'a' and claims['repository_id'] eq '1'",
        "claims['sub'] eq 'a'\tand claims['repository_id'] eq '1'",
    ],
)
def test_what_only_the_local_azure_accepts_the_spec_refuses(value: str) -> None:
    """The local Azure is looser (as ARM's REST example is): such spellings never reach a
    plan, so a reviewer never reads one."""
    claims_expression.check({"value": value, "languageVersion": 1})
    assert not _spec_accepts(value)
