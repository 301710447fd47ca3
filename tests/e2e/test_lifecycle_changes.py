"""Changes that must not drop access or lose what is protected, end to end on the emulator:
make before break, an already-applied plan, and prevent_destroy.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from identity_reconciler.azure.clients import open_session
from identity_reconciler.cli import main

SUB = "11111111-1111-1111-1111-111111111111"
RG = "rg-shop-dev"
NAME = "id-shop-dev-uks-01"
OLD, NEW = "rg-shop-dev", "rg-shop-data"
GRANT_OLD = f"grant.{RG}/{NAME}/Reader@{OLD}"
GRANT_NEW = f"grant.{RG}/{NAME}/Reader@{NEW}"


def spec(scope_group: str, *, location: str = "uksouth", protect: str = "") -> str:
    ident = "    prevent_destroy: true\n" if protect == "identity" else ""
    grant = ", prevent_destroy: true" if protect == "grant" else ""
    return f"""\
subscription: {SUB}
defaults: {{location: {location}, resource_group: {RG}}}
identities:
  - name: {NAME}
{ident}    roles:
      - {{role: Reader, scope: {{resource_group: {scope_group}}}{grant}}}
"""


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def reader_scopes(state: Path) -> set[str]:
    with open_session("local", state_dir=state) as session:
        return {
            str(g.scope).rsplit("/", 1)[-1]
            for g in session.authorization(SUB).role_assignments.list_for_subscription()
            if "managed-by identity-reconciler" in (g.description or "")
        }


@pytest.fixture
def applied(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, list[str]]:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "dev.yaml").write_text(spec(OLD))
    target = ["--cloud", "local", "--state-dir", str(tmp_path / "state")]
    rc, out, _ = cli(capsys, "apply", str(specs), *target, "--auto-approve")
    assert rc == 0, out
    return specs, target


# --------------------------------------------------------------------------- make before break


def test_a_moved_grant_is_created_before_the_old_one_is_deleted(
    applied: tuple[Path, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    specs, target = applied
    (specs / "dev.yaml").write_text(spec(NEW))
    plan_file = tmp_path / "plan.json"
    rc, out, _ = cli(capsys, "plan", str(specs), *target, "--out", str(plan_file))
    assert rc == 0
    assert f"(create before destroy: deleted only after {GRANT_NEW} is created)" in out
    delete = next(c for c in json.loads(plan_file.read_text())["changes"]
                  if c["address"] == GRANT_OLD)
    assert delete["create_before_destroy"] == [GRANT_NEW]
    assert GRANT_NEW in delete["depends_on"]
    rc, out, _ = cli(capsys, "apply", str(plan_file), *target, "--format", "json")
    assert rc == 0, out
    done = [a["address"] for a in json.loads(out)["actions"]]
    assert done.index(GRANT_NEW) < done.index(GRANT_OLD)
    assert reader_scopes(tmp_path / "state") == {NEW}


def test_when_the_new_grant_fails_the_old_one_stays(
    applied: tuple[Path, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    specs, target = applied
    (specs / "dev.yaml").write_text(spec(NEW))
    plan_file = tmp_path / "plan.json"
    assert cli(capsys, "plan", str(specs), *target, "--out", str(plan_file))[0] == 0
    with open_session("local", state_dir=tmp_path / "state") as session:
        session.resources(SUB).resource_groups.begin_delete(NEW).result()
    rc, out, _ = cli(capsys, "apply", str(plan_file), *target, "--format", "json")
    assert rc == 1
    status = {a["address"]: a["status"] for a in json.loads(out)["actions"]}
    assert status == {GRANT_NEW: "failed", GRANT_OLD: "skipped"}
    assert reader_scopes(tmp_path / "state") == {OLD}  # access never dropped


# --------------------------------------------------------------------------- already applied


def test_applying_an_applied_plan_again_says_so_and_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "dev.yaml").write_text(spec(OLD))
    target = ["--cloud", "local", "--state-dir", str(tmp_path / "state")]
    plan_file = str(tmp_path / "plan.json")
    assert cli(capsys, "plan", str(specs), *target, "--out", plan_file)[0] == 0
    assert cli(capsys, "apply", plan_file, "--specs", str(specs), *target)[0] == 0
    rc, out, err = cli(capsys, "apply", plan_file, "--specs", str(specs), *target)
    assert (rc, out) == (0, "Already applied: live Azure matches the specs this plan was made "
                            "from.\n"), err
    # Without the specs the question cannot be answered: still refused as stale, with a hint.
    rc, _, err = cli(capsys, "apply", plan_file, *target)
    assert rc == 1
    assert "plan is stale" in err
    assert "pass --specs" in err


def test_a_plan_half_overtaken_by_others_is_still_stale(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "dev.yaml").write_text(spec(OLD))
    target = ["--cloud", "local", "--state-dir", str(tmp_path / "state")]
    plan_file = str(tmp_path / "plan.json")
    assert cli(capsys, "plan", str(specs), *target, "--out", plan_file)[0] == 0
    with open_session("local", state_dir=tmp_path / "state") as session:  # made by hand
        session.msi(SUB).user_assigned_identities.create_or_update(
            RG, NAME, {"location": "uksouth"}
        )
    rc, _, err = cli(capsys, "apply", plan_file, "--specs", str(specs), *target)
    assert rc == 1  # the specs plan something else now: refused before a write
    assert "the saved plan is not what these specs plan now" in err
    rc, _, err = cli(capsys, "apply", plan_file, *target)
    assert rc == 1  # and without the specs, the stale check refuses it
    assert "plan is stale" in err


# --------------------------------------------------------------------------- prevent_destroy


def test_prevent_destroy_on_an_identity_fails_a_plan_that_replaces_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "dev.yaml").write_text(spec(OLD, protect="identity"))
    target = ["--cloud", "local", "--state-dir", str(tmp_path / "state")]
    assert cli(capsys, "apply", str(specs), *target, "--auto-approve")[0] == 0
    (specs / "dev.yaml").write_text(spec(OLD, location="westeurope", protect="identity"))
    rc, out, _ = cli(capsys, "plan", str(specs), *target)
    assert rc == 1
    assert "dev.yaml:5:22: the plan would re-create identity.rg-shop-dev/id-shop-dev-uks-01" in out
    assert "prevent_destroy: true" in out
    rc, _, err = cli(capsys, "apply", str(specs), *target, "--auto-approve",
                     "--allow-delete-identity")
    assert rc == 1
    assert "the plan has 1 error;" in err
    rc, out, _ = cli(capsys, "destroy", str(specs), *target)
    assert rc == 1
    assert "the plan would delete identity.rg-shop-dev/id-shop-dev-uks-01" in out


def test_prevent_destroy_on_a_grant_fails_a_plan_that_deletes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "dev.yaml").write_text(spec(OLD, protect="grant"))
    target = ["--cloud", "local", "--state-dir", str(tmp_path / "state")]
    assert cli(capsys, "apply", str(specs), *target, "--auto-approve")[0] == 0
    rc, out, _ = cli(capsys, "destroy", str(specs), *target)
    assert rc == 1
    assert f"dev.yaml:6:79: the plan would delete {GRANT_OLD}" in out
    # Unprotected, the same destroy plans cleanly.
    (specs / "dev.yaml").write_text(spec(OLD))
    assert cli(capsys, "destroy", str(specs), *target)[0] == 0


# --------------------------------------------------------------------------- --target


TWO = f"""\
subscription: {SUB}
defaults: {{location: uksouth, resource_group: {RG}}}
identities:
  - name: id-one-dev-uks-01
    roles:
      - {{role: Reader, scope: {{resource_group: {RG}}}}}
  - name: id-two-dev-uks-01
    roles:
      - {{role: Reader, scope: {{resource_group: {RG}}}}}
"""
ONE_GRANT = f"grant.{RG}/id-one-dev-uks-01/Reader@{RG}"
ONE_ID = f"identity.{RG}/id-one-dev-uks-01"


def test_target_limits_plan_and_apply_to_an_address_and_what_it_depends_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "two.yaml").write_text(TWO)
    target = ["--cloud", "local", "--state-dir", str(tmp_path / "state")]
    plan_file = tmp_path / "plan.json"
    rc, out, err = cli(capsys, "plan", str(specs), *target, "--target", ONE_GRANT,
                       "--target", "grant.nothing/like/this@here", "--out", str(plan_file))
    assert rc == 0
    assert "warning: resource targeting is in effect" in err
    assert "resource targeting is in effect" in out
    assert "--target grant.nothing/like/this@here: no change in this plan" in out
    saved = json.loads(plan_file.read_text())
    assert [c["address"] for c in saved["changes"]] == [ONE_ID, ONE_GRANT]  # with its identity
    assert saved["options"]["targets"] == [ONE_GRANT, "grant.nothing/like/this@here"]
    assert "Plan: 2 to add, 0 to change, 0 to destroy." in out
    rc, _, err = cli(capsys, "apply", str(plan_file), *target)
    assert rc == 0
    assert "the plan was made with --target" in err
    rc, out, _ = cli(capsys, "plan", str(specs), *target, "--format", "json")
    assert [c["address"] for c in json.loads(out)["changes"]] == [
        f"identity.{RG}/id-two-dev-uks-01", f"grant.{RG}/id-two-dev-uks-01/Reader@{RG}",
    ]
    # apply with spec paths takes --target too; a saved plan refuses it
    rc, _, _ = cli(capsys, "apply", str(specs), *target, "--auto-approve",
                   "--target", f"identity.{RG}/id-two-dev-uks-01")
    assert rc == 0
    rc, out, _ = cli(capsys, "plan", str(specs), *target, "--format", "json")
    assert [c["address"] for c in json.loads(out)["changes"]] == [
        f"grant.{RG}/id-two-dev-uks-01/Reader@{RG}",
    ]
    rc, _, err = cli(capsys, "apply", str(plan_file), *target, "--target", ONE_GRANT)
    assert rc == 1
    assert "--target goes with spec paths" in err
