"""A failed write stops only what depends on it, a re-run converges, and deletes are ordered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from apply_support import REPO, cli, converged, local, plan_to

SUB = "11111111-1111-1111-1111-111111111111"
KV = (
    "{type: Microsoft.KeyVault/vaults, name: kv-myapp-prod-uks-01,"
    " resource_group: rg-myapp-prod-uks-01}"
)


def _spec(*identities: str) -> str:
    blocks = {
        "id-keep-prod-uks-01": f"""\
  - name: id-keep-prod-uks-01
    resource_group: rg-myapp-prod-uks-01
    federated_credentials:
      - {{name: gh-main, issuer: "https://token.actions.githubusercontent.com",
          subject: "repo:contoso/keep:ref:refs/heads/main"}}
    roles:
      - {{role: Key Vault Secrets User, scope: {KV}}}
""",
        "id-gone-prod-uks-01": f"""\
  - name: id-gone-prod-uks-01
    resource_group: rg-myapp-prod-uks-01
    federated_credentials:
      - {{name: gh-main, issuer: "https://token.actions.githubusercontent.com",
          subject: "repo:contoso/gone:ref:refs/heads/main"}}
    roles:
      - {{role: Key Vault Secrets User, scope: {KV}}}
      - {{role: Key Vault Reader, scope: {KV}}}
""",
        "id-lost-prod-uks-01": f"""\
  - name: id-lost-prod-uks-01
    resource_group: rg-lost-prod-uks-01
    federated_credentials:
      - {{name: gh-main, issuer: "https://token.actions.githubusercontent.com",
          subject: "repo:contoso/lost:ref:refs/heads/main"}}
    roles:
      - {{role: Key Vault Secrets User, scope: {KV}}}
""",
    }
    head = (
        f"subscription: {SUB}\ndefaults: {{location: uksouth, tags: {{env: prod}}}}\nidentities:\n"
    )
    return head + "".join(blocks[name] for name in identities)


def test_a_failed_identity_skips_only_its_dependents_and_a_rerun_converges(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "ids.yaml").write_text(_spec("id-keep-prod-uks-01", "id-lost-prod-uks-01"))
    # The packaged world has no rg-lost-prod-uks-01: the identity PUT there fails with 404.
    world = str(REPO / "identity_reconciler" / "data" / "default-world.yaml")
    state, plan = tmp_path / "state", tmp_path / "plan.json"
    plan_to(capsys, str(specs), state, plan, "--world", world)

    rc, out, err = cli(
        capsys,
        "apply",
        str(plan),
        "--state-dir",
        str(state),
        "--world",
        world,
        "--format",
        "json",
    )
    assert rc == 1
    summary = json.loads(out)
    by_address = {a["address"]: a for a in summary["actions"]}
    lost = by_address["identity.rg-lost-prod-uks-01/id-lost-prod-uks-01"]
    assert lost["status"] == "failed"
    assert lost["error"]["code"] == "ResourceGroupNotFound"
    assert lost["error"]["status"] == 404
    assert lost["error"]["request_id"]  # support needs it
    skipped = {a for a, r in by_address.items() if r["status"] == "skipped"}
    assert skipped == {
        "federated_credential.rg-lost-prod-uks-01/id-lost-prod-uks-01/gh-main",
        "grant.rg-lost-prod-uks-01/id-lost-prod-uks-01/Key Vault Secrets User@"
        "rg-myapp-prod-uks-01/vaults/kv-myapp-prod-uks-01",
    }
    for address in skipped:
        assert by_address[address]["reason"] == (
            "depends on identity.rg-lost-prod-uks-01/id-lost-prod-uks-01, which failed"
        )
    done = {a for a, r in by_address.items() if r["status"] == "done"}
    assert len(done) == 3  # the other identity, its credential and its grant
    assert (
        "FAILED   identity.rg-lost-prod-uks-01/id-lost-prod-uks-01: 404 ResourceGroupNotFound"
        in err
    )

    # The resource group appears (world seeded from the specs); plan again and apply converge.
    plan_to(capsys, str(specs), state, plan)
    rc, out, err = cli(capsys, "apply", str(plan), "--specs", str(specs), "--state-dir", str(state))
    assert rc == 0, err
    assert "Apply complete: 3 done, 0 failed, 0 skipped" in out
    assert converged(capsys, str(specs), state)


def test_identity_delete_needs_its_flag_and_goes_after_its_grants(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    spec = specs / "ids.yaml"
    spec.write_text(_spec("id-keep-prod-uks-01", "id-gone-prod-uks-01"))
    state, plan = tmp_path / "state", tmp_path / "plan.json"
    rc, _, err = cli(capsys, "apply", str(specs), *local(state), "--auto-approve")
    assert rc == 0, err

    spec.write_text(_spec("id-keep-prod-uks-01"))
    data = plan_to(capsys, str(specs), state, plan)
    assert {tuple(c["actions"]) for c in data["changes"]} == {("delete",)}
    rc, _, err = cli(capsys, "apply", str(plan), "--state-dir", str(state))
    assert rc == 1
    assert "the plan is unsafe; apply it only with --allow-delete-identity" in err

    rc, out, err = cli(
        capsys, "apply", str(plan), "--state-dir", str(state), "--allow-delete-identity"
    )
    assert rc == 0, err
    assert "Apply complete: 3 done" in out
    lines = [line for line in err.splitlines() if line.startswith("  done")]
    identity_line = next(i for i, line in enumerate(lines) if "identity.rg-" in line)
    assert identity_line == len(lines) - 1  # after both of its grants
    assert converged(capsys, str(specs), state)
