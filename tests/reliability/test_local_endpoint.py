"""`--cloud local` against an emulator that already runs, named by IDENTITY_RECONCILER_LOCAL_*.

Crash and concurrency tests need the emulator outside the apply they kill or race; users need
it to share one local Azure between commands. Nothing may start in-process then, and a missing
or wrong variable is one clear line, not a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from identity_reconciler.azure.clients import (
    LOCAL_CA_BUNDLE_ENV,
    LOCAL_ENDPOINT_ENV,
    LOCAL_IDENTITY_HEADER_ENV,
    open_session,
)
from identity_reconciler.cli import main
from local_azure import api
from local_azure.api import EmulatorInfo, RunningEmulator

REPO = Path(__file__).resolve().parents[2]
SPECS = str(REPO / "specs")
IDENTITY = (
    "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-myapp-prod-uks-01/"
    "providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-myapp-prod-uks-01"
)


def local_env(info: EmulatorInfo) -> dict[str, str]:
    """The variables, from what `emulator serve` prints (here: an in-process emulator's info)."""
    return {
        LOCAL_ENDPOINT_ENV: info.endpoint,
        LOCAL_CA_BUNDLE_ENV: info.ca_bundle,
        LOCAL_IDENTITY_HEADER_ENV: info.identity_header,
    }


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    def run(*argv: str) -> tuple[int, str, str]:
        rc = main(list(argv))
        out = capsys.readouterr()
        return rc, out.out, out.err

    return run


def test_plan_and_apply_use_the_running_emulator_and_start_none(
    fresh_emulator: Callable[..., RunningEmulator],
    monkeypatch: pytest.MonkeyPatch,
    cli: Callable[..., tuple[int, str, str]],
) -> None:
    emu = fresh_emulator()
    for name, value in local_env(emu.info).items():
        monkeypatch.setenv(name, value)

    def no_second_emulator(**_kwargs: object) -> None:
        raise AssertionError("an emulator was started in-process")

    monkeypatch.setattr(api, "running", no_second_emulator)
    rc, out, err = cli("apply", SPECS, "--cloud", "local", "--auto-approve")
    assert rc == 0, err
    assert "Apply complete: 6 done, 0 failed, 0 skipped" in out
    assert emu.context.store.get(IDENTITY) is not None  # written where the variables point
    rc, out, err = cli("plan", SPECS, "--cloud", "local", "--detailed-exitcode")
    assert rc == 0, err
    assert "No changes" in out


def test_state_dir_and_world_are_refused_with_a_running_emulator(
    emulator: RunningEmulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    cli: Callable[..., tuple[int, str, str]],
) -> None:
    for name, value in local_env(emulator.info).items():
        monkeypatch.setenv(name, value)
    rc, _, err = cli("plan", SPECS, "--cloud", "local", "--state-dir", str(tmp_path))
    assert rc == 1
    assert f"with {LOCAL_ENDPOINT_ENV} set, the running emulator there is used" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("unset", "value", "message"),
    [
        (LOCAL_CA_BUNDLE_ENV, "", f"{LOCAL_CA_BUNDLE_ENV} must name the emulator's CA bundle"),
        (LOCAL_CA_BUNDLE_ENV, "/nonexistent/ca.pem", "must name the emulator's CA bundle"),
        (LOCAL_IDENTITY_HEADER_ENV, "", f"{LOCAL_IDENTITY_HEADER_ENV} must hold"),
        (LOCAL_ENDPOINT_ENV, "http://127.0.0.1:1", "must be the emulator's https:// endpoint"),
    ],
)
def test_incomplete_variables_are_one_clear_error(
    emulator: RunningEmulator,
    monkeypatch: pytest.MonkeyPatch,
    unset: str,
    value: str,
    message: str,
    cli: Callable[..., tuple[int, str, str]],
) -> None:
    for name, good in local_env(emulator.info).items():
        monkeypatch.setenv(name, value if name == unset else good)
    with pytest.raises(ValueError, match="must"):
        open_session("local")
    rc, _, err = cli("plan", SPECS, "--cloud", "local")
    assert rc == 1
    assert message in err
    assert "Traceback" not in err
