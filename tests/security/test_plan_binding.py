"""A re-sealed plan file cannot do what its reviewed changes do not say.

Reproduced before: a plan whose credential change's operation id was the identity's id plus
`/ ` deleted the identity without `--allow-delete-identity` (the forced-delete check parsed the
id one way, the executor another). Each forgery below edits a real plan, re-computes its
checksum as an attacker would, and must be refused with nothing written.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from azure.mgmt.msi.v2024_11_30.models import Identity
from security_support import MI_TYPE, OWNER, RG_ID, SUB, watch_local

from identity_reconciler.azure import convert
from identity_reconciler.azure.clients import connect_emulator
from identity_reconciler.cli import main
from identity_reconciler.plan.model import checksum_of
from local_azure import api

IDENTITY = f"{RG_ID}/providers/{MI_TYPE}/id-victim-prod-uks-01"
FIC = f"{IDENTITY}/federatedIdentityCredentials/github-main"
OTHER_SUB = "22222222-2222-2222-2222-222222222222"
SPEC = """subscription: 11111111-1111-1111-1111-111111111111
defaults: {location: uksouth, resource_group: rg-myapp-prod-uks-01}
identities:
  - name: id-victim-prod-uks-01
%s    roles:
      - role: Key Vault Secrets User
        scope: {type: Microsoft.KeyVault/vaults, name: kv-myapp-prod-uks-01}
%s"""
CREDENTIAL = """    federated_credentials:
      - {name: github-main, issuer: "https://token.actions.githubusercontent.com",
         subject: "repo:contoso/app:ref:refs/heads/main"}
"""
READER_AT_RG = "      - {role: Reader, scope: {resource_group: rg-myapp-prod-uks-01}}\n"

Forgery = Callable[[dict[str, Any]], None]


def _change(plan: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(c for c in plan["changes"] if c["kind"] == kind)


def _fic_op(op_id: str) -> Forgery:
    def forge(plan: dict[str, Any]) -> None:
        _change(plan, "federated_credential")["operations"][0]["id"] = op_id

    return forge


def _as_identity_delete(suffix: str) -> Forgery:
    """A DELETE of the identity, its id carrying `suffix`, appended after the identity's
    reviewed tag update. With '/ ' this is the reproduced attack: the stale check looked only
    at the first operation (the update, still fresh), the forced-delete check did not see an
    identity in `.../id-victim-prod-uks-01/ `, and the executor stripped it and deleted it."""

    def forge(plan: dict[str, Any]) -> None:
        change = _change(plan, "identity")
        change["operations"].append({"method": "DELETE", "id": IDENTITY + suffix, "body": None})

    return forge


def _owner_in_body(plan: dict[str, Any]) -> None:
    """Reviewer sees Reader at the resource group; the body would grant Owner there."""
    op = _change(plan, "grant")["operations"][0]
    op["body"]["properties"]["roleDefinitionId"] = (
        f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{OWNER}"
    )


def _owner_everywhere(plan: dict[str, Any]) -> None:
    """Body and `after` both say Owner, at the subscription: consistent, so bound, but forced."""
    change = _change(plan, "grant")
    owner = f"/providers/Microsoft.Authorization/roleDefinitions/{OWNER}"
    change["after"]["role_definition_id"] = owner
    change["operations"][0]["body"]["properties"]["roleDefinitionId"] = owner


def _other_subscription(plan: dict[str, Any]) -> None:
    change = _change(plan, "federated_credential")
    moved = FIC.replace(SUB, OTHER_SUB)
    change["id"] = moved
    change["operations"][0]["id"] = moved


def _no_tenant(plan: dict[str, Any]) -> None:
    plan["target"]["tenant_id"] = ""


def _grant_scope_moved(plan: dict[str, Any]) -> None:
    """The operation writes at the subscription; the change still shows the resource group."""
    change = _change(plan, "grant")
    op = change["operations"][0]
    op["id"] = op["id"].replace("/resourceGroups/rg-myapp-prod-uks-01", "", 1)
    change["id"] = op["id"]


FORGERIES: dict[str, Forgery] = {
    "identity id + '/ ' in a credential change": _fic_op(f"{IDENTITY}/ "),
    "identity id + '/' in a credential change": _fic_op(f"{IDENTITY}/"),
    "identity id, other case, in a credential change": _fic_op(IDENTITY.upper()),
    "credential id + '/../..'": _fic_op(f"{FIC}/../.."),
    "credential id + '/%2e%2e'": _fic_op(f"{FIC}/%2e%2e"),
    "credential id + U+202E": _fic_op(f"{FIC}\u202e"),
    "identity deletion, id + '/ ' (reproduced)": _as_identity_delete("/ "),
    "identity deletion, id + '/'": _as_identity_delete("/"),
    "identity deletion, id + '/.'": _as_identity_delete("/."),
    "identity deletion, exact id, verdict dropped": _as_identity_delete(""),
    "Owner in the body, Reader shown": _owner_in_body,
    "grant written at the subscription, shown at the group": _grant_scope_moved,
    "credential moved to another subscription": _other_subscription,
    "tenant emptied": _no_tenant,
}


@pytest.fixture
def forged_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Callable[[Forgery], tuple[str, str, str]]:
    """Apply the first spec; plan the second (tags changed, credential deleted, Reader granted
    at the group); return a function that edits that plan, re-seals it and hands back
    (plan, specs, state)."""
    specs = tmp_path / "specs"
    specs.mkdir()
    spec = specs / "victim.yaml"
    state = str(tmp_path / "state")
    local = ["--cloud", "local", "--state-dir", state]
    spec.write_text(SPEC % (CREDENTIAL, ""), encoding="utf-8")
    assert main(["apply", str(specs), *local, "--auto-approve"]) == 0
    changed = "    tags: {env: prod}\n    federated_credentials: []\n"
    spec.write_text(SPEC % (changed, READER_AT_RG), encoding="utf-8")
    plan_file = tmp_path / "plan.json"
    assert main(["plan", str(specs), *local, "--out", str(plan_file)]) == 0
    capsys.readouterr()

    def forge(edit: Forgery) -> tuple[str, str, str]:
        data = json.loads(plan_file.read_text())
        edit(data)
        data["safety"] = {"safe": True, "existing": 0, "violations": []}
        data["checksum"] = checksum_of(data)
        forged = tmp_path / "forged.json"
        forged.write_text(json.dumps(data))
        return str(forged), str(specs), state

    return forge


@pytest.mark.parametrize("name", list(FORGERIES))
def test_a_resealed_forgery_is_refused_and_writes_nothing(
    forged_plan: Callable[[Forgery], tuple[str, str, str]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
) -> None:
    plan, specs, state = forged_plan(FORGERIES[name])
    watch = watch_local(monkeypatch)
    assert main(["apply", plan, "--state-dir", state]) == 1
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert all(watch.writes(i) == 0 for i in range(len(watch.stats)))
    # The identity is still there and still as the specs left it: nothing to create.
    assert main(["plan", specs, "--cloud", "local", "--state-dir", state, "--out", plan]) == 0
    assert "+ identity." not in capsys.readouterr().out


def test_a_bound_privileged_forgery_still_needs_the_flag(
    forged_plan: Callable[[Forgery], tuple[str, str, str]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Owner written consistently into `after` and the body, verdict dropped: the resource
    group scope is narrow, so the gate is --specs: a fresh plan of the reviewed specs differs."""
    plan, specs, state = forged_plan(_owner_everywhere)
    watch = watch_local(monkeypatch)
    assert main(["apply", plan, "--specs", specs, "--state-dir", state]) == 1
    err = capsys.readouterr().err
    assert "not what these specs plan now" in err
    assert "after" in err
    assert "operations" in err
    assert all(watch.writes(i) == 0 for i in range(len(watch.stats)))


def test_the_unedited_plan_applies_with_specs(
    forged_plan: Callable[[Forgery], tuple[str, str, str]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    plan, specs, state = forged_plan(lambda plan: None)
    assert main(["apply", plan, "--specs", specs, "--state-dir", state]) == 0, (
        capsys.readouterr().err
    )


def test_an_unowned_identity_is_never_deleted_even_with_the_flag(
    forged_plan: Callable[[Forgery], tuple[str, str, str]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A bound, consistent forgery: a whole change deleting an identity the tool did not
    create, its fingerprint copied from the live object, in a plan that legitimately needs
    --allow-delete-identity. The flag covers the plan, not the address; apply reads the
    identity again before deleting it and refuses, because it carries no ownership tag."""
    plan, _, state = forged_plan(lambda plan: None)
    victim = f"{RG_ID}/providers/{MI_TYPE}/id-unowned-prod-uks-01"
    emu = api.start(state_dir=state)
    try:
        with connect_emulator(emu.info) as session:
            created = session.msi(SUB).user_assigned_identities.create_or_update(
                "rg-myapp-prod-uks-01", "id-unowned-prod-uks-01", Identity(location="uksouth")
            )
            live = convert.identity(created.serialize(keep_readonly=True))
    finally:
        emu.stop()
    data = json.loads(Path(plan).read_text())
    data["changes"].append(
        {
            "address": "identity.rg-myapp-prod-uks-01/id-unowned-prod-uks-01",
            "kind": "identity",
            "actions": ["delete"],
            "reason": "delete_because_not_in_spec",
            "group": "identity.rg-myapp-prod-uks-01/id-unowned-prod-uks-01",
            "id": victim,
            "before": {"location": "uksouth"},
            "after": None,
            "live_fingerprint": live.fingerprint,
            "depends_on": [],
            "operations": [{"method": "DELETE", "id": victim, "body": None}],
            "principal": None,
            "source": None,
            "create_before_destroy": [],
        }
    )
    data["checksum"] = checksum_of(data)
    Path(plan).write_text(json.dumps(data))
    assert main(["apply", plan, "--state-dir", state, "--allow-delete-identity"]) == 1
    out, err = capsys.readouterr()
    assert "NotOwned" in out + err
    emu = api.start(state_dir=state)
    try:
        with connect_emulator(emu.info) as session:
            still = session.msi(SUB).user_assigned_identities.get(
                "rg-myapp-prod-uks-01", "id-unowned-prod-uks-01"
            )
    finally:
        emu.stop()
    assert still.principal_id == live.principal_id
