"""Retiring an environment, and the grants an out-of-band delete leaves behind, end to end.

A shop with dev and prod, each in its own spec file, and a `managed:` block naming both
resource groups. Removing the dev file plans dev's removal; `destroy` plans it from the file
itself; an identity deleted by hand and re-created by `drift --fix` leaves no grant behind.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from identity_reconciler.azure.clients import open_session
from identity_reconciler.cli import main

SUB = "11111111-1111-1111-1111-111111111111"
DEV, PROD = "rg-shop-dev", "rg-shop-prod"
DEV_ID, PROD_ID = "id-shop-dev-uks-01", "id-shop-prod-uks-01"
MANAGED = f"""\
subscription: {SUB}
managed:
  resource_groups: [{DEV}, {PROD}]
"""


def env_spec(rg: str, name: str, env: str) -> str:
    return f"""\
subscription: {SUB}
defaults: {{location: uksouth, resource_group: {rg}, tags: {{env: {env}}}}}
identities:
  - name: {name}
    roles:
      - {{role: Reader, scope: {{resource_group: {rg}}}}}
"""


def write_specs(specs: Path, *, managed: bool = True) -> None:
    specs.mkdir(exist_ok=True)
    if managed:
        (specs / "managed.yaml").write_text(MANAGED)
    (specs / "shop-dev.yaml").write_text(env_spec(DEV, DEV_ID, "dev"))
    (specs / "shop-prod.yaml").write_text(env_spec(PROD, PROD_ID, "prod"))


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    rc = main(list(argv))
    return rc, capsys.readouterr().out


def plan_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, object]:
    rc, out = cli(capsys, "plan", *argv, "--format", "json")
    assert rc == 0, out
    data: dict[str, object] = json.loads(out)
    return data


def changes(plan: dict[str, object]) -> set[tuple[str, str, str]]:
    items = plan["changes"]
    assert isinstance(items, list)
    return {(c["address"], "/".join(c["actions"]), c["reason"]) for c in items}


def live_identities(state: Path) -> set[str]:
    with open_session("local", state_dir=state) as session:
        return {i.name for i in session.msi(SUB).user_assigned_identities.list_by_subscription()}


def dev_removed() -> set[tuple[str, str, str]]:
    return {
        (f"identity.{DEV}/{DEV_ID}", "delete", "delete_because_not_in_spec"),
        (f"grant.{DEV}/{DEV_ID}/Reader@{DEV}", "delete", "delete_because_principal_deleted"),
    }


@pytest.fixture
def shop(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, list[str]]:
    specs = tmp_path / "specs"
    write_specs(specs)
    target = ["--cloud", "local", "--state-dir", str(tmp_path / "state")]
    rc, out = cli(capsys, "apply", str(specs), *target, "--auto-approve")
    assert rc == 0, out
    return specs, target


def test_removing_an_environments_file_plans_its_removal_inside_the_managed_scope(
    shop: tuple[Path, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    specs, target = shop
    (specs / "shop-dev.yaml").unlink()
    plan = plan_json(capsys, str(specs), *target)
    assert changes(plan) == dev_removed()
    out_file = str(tmp_path / "retire.json")
    rc, _ = cli(capsys, "plan", str(specs), *target, "--out", out_file)
    assert rc == 0
    rc, _ = cli(capsys, "apply", out_file, "--specs", str(specs), *target)
    assert rc == 1  # deleting an identity is always forced
    rc, out = cli(
        capsys, "apply", out_file, "--specs", str(specs), *target, "--allow-delete-identity"
    )
    assert rc == 0, out
    assert live_identities(tmp_path / "state") == {PROD_ID}
    rc, out = cli(capsys, "drift", str(specs), *target)
    assert rc == 0, out


def test_without_a_managed_block_a_removed_file_is_no_longer_managed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    specs = tmp_path / "specs"
    write_specs(specs, managed=False)
    target = ["--cloud", "local", "--state-dir", str(tmp_path / "state")]
    assert cli(capsys, "apply", str(specs), *target, "--auto-approve")[0] == 0
    (specs / "shop-dev.yaml").unlink()
    assert changes(plan_json(capsys, str(specs), *target)) == set()


def test_destroy_plans_the_removal_of_what_the_given_specs_own_and_nothing_else(
    shop: tuple[Path, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    specs, target = shop
    dev = str(specs / "shop-dev.yaml")
    rc, out = cli(capsys, "destroy", dev, *target, "--format", "json")
    assert rc == 0, out
    assert changes(json.loads(out)) == {
        (f"identity.{DEV}/{DEV_ID}", "delete", "delete_because_destroy"),
        (f"grant.{DEV}/{DEV_ID}/Reader@{DEV}", "delete", "delete_because_principal_deleted"),
    }
    out_file = str(tmp_path / "destroy.json")
    assert cli(capsys, "destroy", dev, *target, "--out", out_file)[0] == 0
    assert json.loads(Path(out_file).read_text())["options"]["destroy"] is True
    rc, out = cli(capsys, "apply", out_file, "--specs", dev, *target, "--allow-delete-identity")
    assert rc == 0, out
    assert live_identities(tmp_path / "state") == {PROD_ID}
    rc, out = cli(capsys, "apply", out_file, "--specs", dev, *target, "--allow-delete-identity")
    assert (rc, out) == (0, "Already applied: live Azure matches the specs this plan was made "
                            "from.\n")
    # The dev file still exists, so a plan of all specs puts dev back: nothing else was touched.
    plan = plan_json(capsys, str(specs), *target)
    assert {c[1] for c in changes(plan)} == {"create"}


def test_a_second_managed_block_and_an_identity_outside_it_are_located_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    specs = tmp_path / "specs"
    write_specs(specs)
    (specs / "more.yaml").write_text(f"subscription: {SUB}\nmanaged:\n  subscriptions: [{SUB}]\n")
    (specs / "stray.yaml").write_text(env_spec("rg-elsewhere", "id-stray-dev-uks-01", "dev"))
    rc = main(["validate", str(specs)])
    captured = capsys.readouterr()
    err = captured.out + captured.err
    assert rc == 1
    assert "more.yaml:2:1: error IR037" in err
    assert "already declared at" in err
    assert "stray.yaml:4:11: error IR037" in err
    assert "outside the managed scope" in err


def test_grants_of_a_deleted_principal_are_removed_after_drift_fix_recreates_it(
    shop: tuple[Path, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    specs, target = shop
    with open_session("local", state_dir=tmp_path / "state") as session:
        session.msi(SUB).user_assigned_identities.delete(DEV, DEV_ID)
    rc, out = cli(capsys, "drift", str(specs), *target, "--fix")
    assert rc == 0, out
    # The identity came back with a new principal, and the old principal's grant is gone.
    plan = plan_json(capsys, str(specs), *target)
    assert changes(plan) == set()
    with open_session("local", state_dir=tmp_path / "state") as session:
        principals = {
            str(i.principal_id).lower()
            for i in session.msi(SUB).user_assigned_identities.list_by_subscription()
        }
        grants = [
            g
            for g in session.authorization(SUB).role_assignments.list_for_subscription()
            if "managed-by identity-reconciler" in (g.description or "")
        ]
    assert {str(g.principal_id).lower() for g in grants} <= principals
    assert len(grants) == 2


def test_an_orphaned_grant_is_planned_for_deletion_with_one_more_list_per_subscription(
    shop: tuple[Path, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    specs, target = shop
    with open_session("local", state_dir=tmp_path / "state") as session:
        session.msi(SUB).user_assigned_identities.delete(DEV, DEV_ID)
    (specs / "shop-dev.yaml").unlink()
    plan = plan_json(capsys, str(specs), *target)
    orphan = {c for c in changes(plan) if c[0].startswith("grant.deleted-principal-")}
    assert len(orphan) == 1
    assert orphan.pop()[1:] == ("delete", "delete_because_principal_deleted")
    # identities + role assignments; then, as a candidate exists, the generic resource list
    # of the subscription read, the list of visible subscriptions, and the identity and
    # resource lists of the one other subscription the emulator has
    assert plan["live_requests"] == 2 + 1 + 1 + 2


def test_a_grant_for_an_identity_of_another_subscription_is_not_an_orphan(
    shop: tuple[Path, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    specs, target = shop
    other = tmp_path / "other"
    other.mkdir()
    (other / "other.yaml").write_text(
        "subscription: 33333333-3333-3333-3333-333333333333\n"
        "defaults: {location: uksouth, resource_group: rg-other}\n"
        "identities:\n"
        "  - name: id-other-prod-uks-01\n"
        "    roles:\n"
        f"      - {{role: Reader, scope: /subscriptions/{SUB}/resourceGroups/{DEV}}}\n"
    )
    rc, out = cli(capsys, "apply", str(other), *target, "--auto-approve")
    assert rc == 0, out
    # The shop's specs read only their own subscription, where that identity is not: its
    # owned grant inside the shop's managed scope looks orphaned until the other visible
    # subscriptions are listed, which shows that its principal exists.
    assert changes(plan_json(capsys, str(specs), *target)) == set()
