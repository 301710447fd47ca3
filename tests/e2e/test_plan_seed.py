"""`plan specs/ --cloud local` on the default world: the seed scenario's creates, exits, files."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pytest

from identity_reconciler.cli import main
from identity_reconciler.cmds import common, shared

REPO = Path(__file__).resolve().parents[2]
SPECS = str(REPO / "specs")

EXPECTED = {
    ("identity", "identity.rg-myapp-prod-uks-01/id-myapp-prod-uks-01"),
    ("federated_credential",
     "federated_credential.rg-myapp-prod-uks-01/id-myapp-prod-uks-01/github-production"),
    ("attachment", "attachment.rg-myapp-prod-uks-01/sites/app-myapp-prod-uks-01/"
                   "rg-myapp-prod-uks-01/id-myapp-prod-uks-01"),
    ("system_assigned", "system_assigned.rg-myapp-prod-uks-01/sites/func-myapp-prod-uks-01"),
    ("grant", "grant.rg-myapp-prod-uks-01/id-myapp-prod-uks-01/Key Vault Secrets User@"
              "rg-myapp-prod-uks-01/vaults/kv-myapp-prod-uks-01"),
    ("grant", "grant.rg-myapp-prod-uks-01/sites/func-myapp-prod-uks-01/Storage Blob Data Reader@"
              "rg-myapp-prod-uks-01/storageAccounts/stmyappproduks01"),
}


def test_plan_shows_the_seed_scenario_creates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "plans" / "plan.json"
    state = tmp_path / "state"
    rc = main(["plan", SPECS, "--cloud", "local", "--state-dir", str(state), "--format", "json",
               "--out", str(out), "--detailed-exitcode"])
    captured = capsys.readouterr()
    assert rc == 2
    printed = json.loads(captured.out)
    saved = json.loads(out.read_text())
    assert printed == saved
    assert {(c["kind"], c["address"]) for c in saved["changes"]} == EXPECTED
    assert all(c["actions"] == ["create"] for c in saved["changes"])
    assert saved["summary"] == {"add": 6, "change": 0, "destroy": 0, "replace": 0}
    assert saved["target"]["cloud"] == "local"
    # identities, role assignments, two identity blocks; and the SQL server's check (the
    # server, its Entra administrators, its databases)
    assert saved["live_requests"] == 4 + 3
    assert "7 ARM requests" in captured.err
    assert (state / "state.sqlite").exists()  # the local state persists between runs
    assert not list(out.parent.glob(".*.tmp"))  # the atomic write leaves no temp file


def test_text_plan_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = str(tmp_path / "state")
    rc = main(["plan", SPECS, "--cloud", "local", "--state-dir", state])
    text = capsys.readouterr().out
    assert rc == 0  # changes, but no --detailed-exitcode
    assert "Plan: 6 to add, 0 to change, 0 to destroy." in text
    assert "\x1b[" not in text  # not a terminal: no colour
    assert "+ identity.rg-myapp-prod-uks-01/id-myapp-prod-uks-01" in text

    rc = main(["plan", SPECS, "--cloud", "local", "--state-dir", state, "--format", "markdown"])
    markdown = capsys.readouterr().out
    assert rc == 0
    assert "id-myapp-prod-uks-01" in markdown


def test_invalid_specs_print_located_findings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text(
        "subscription: 11111111-1111-1111-1111-111111111111\n"
        "identities:\n"
        "  - name: id-ok-prod-uks-01\n"
        "    resource_group: rg-a\n"
        "    location: uksouth\n"
        "    colour: blue\n"
    )
    rc = main(["plan", str(spec), "--cloud", "local", "--state-dir", str(tmp_path / "s")])
    captured = capsys.readouterr()
    assert rc == 1
    assert f"{spec}:6:5: error" in captured.err
    assert captured.out == ""
    assert not (tmp_path / "s").exists()  # nothing was started


def test_world_only_with_local(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", SPECS, "--world", "w.yaml"]) == 1
    assert "error: --world applies only to --cloud local" in capsys.readouterr().err


def test_missing_world_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = main(["plan", SPECS, "--cloud", "local", "--state-dir", str(tmp_path / "s"),
               "--world", str(tmp_path / "nope.yaml")])
    err = capsys.readouterr().err
    assert rc == 1
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("error: ")


class _Tty:
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("tty", "no_color_env", "flag", "expected"),
    [(True, False, False, True), (False, False, False, False), (True, True, False, False),
     (True, False, True, False)],
)
def test_colour_only_on_a_terminal_without_no_color(
    monkeypatch: pytest.MonkeyPatch, tty: bool, no_color_env: bool, flag: bool, expected: bool
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    if no_color_env:
        monkeypatch.setenv("NO_COLOR", "1")
    if tty:
        monkeypatch.setattr(sys, "stdout", _Tty())
    assert common.use_color(argparse.Namespace(no_color=flag)) is expected


def test_out_is_replaced_atomically(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    target.write_text("old")
    shared.write_atomic(target, "new")
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


def test_arm_error_is_one_line_with_code_and_request_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world = tmp_path / "world.yaml"  # a world without the specs' subscription
    world.write_text(
        "tenant_id: 22222222-2222-2222-2222-222222222222\n"
        "subscriptions:\n  - {id: 33333333-3333-3333-3333-333333333333, display_name: Other}\n"
    )
    rc = main(["plan", SPECS, "--cloud", "local", "--world", str(world),
               "--state-dir", str(tmp_path / "s")])
    captured = capsys.readouterr()
    assert rc == 1
    assert captured.out == ""
    last = captured.err.strip().splitlines()[-1]
    assert last.startswith("error: 404 SubscriptionNotFound: ")
    assert "(x-ms-request-id: " in last
    assert "Traceback" not in captured.err
