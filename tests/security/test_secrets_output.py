"""No token or secret reaches stdout, stderr or a plan file, at any verbosity, even on failure.

At `-vv` the Azure SDK logs whole HTTP exchanges. The commands run in-process against the local
emulator, which records every bearer token it issues and the managed-identity secret it hands
out; after plan, apply and drift at `-vv --log-format json`, and after ARM refuses a call (403
for an under-privileged identity, its error printed), none of them — nor their signatures —
may appear anywhere the tool wrote.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from security_support import CI_APP_ID, Watch, ci_world, watch_local

from identity_reconciler.azure.clients import LOCAL_CLIENT_ID_ENV
from identity_reconciler.cli import main
from local_azure.api import running

REPO = Path(__file__).resolve().parents[2]
SPECS = str(REPO / "specs")
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.")


def assert_clean(text: str, watch: Watch, where: str) -> None:
    assert watch.tokens, "the emulator issued no token: nothing was checked"
    for secret in watch.secrets:
        assert secret not in text, f"a credential reached {where}"
        tail = secret.rsplit(".", 1)[-1]
        if len(tail) > 16:
            assert tail not in text, f"a token signature reached {where}"
    assert not JWT.search(text), f"something JWT-shaped reached {where}"


def test_plan_apply_drift_at_vv_json_print_no_secret(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    watch = watch_local(monkeypatch)
    state, plan_file = str(tmp_path / "state"), tmp_path / "plan.json"
    loud = ["-vv", "--log-format", "json"]
    local = ["--cloud", "local", "--state-dir", state]
    assert main([*loud, "plan", SPECS, *local, "--out", str(plan_file)]) == 0
    assert main([*loud, "apply", str(plan_file), "--specs", SPECS, "--state-dir", state]) == 0
    assert main([*loud, "drift", SPECS, *local]) in (0, 2)
    out, err = capfd.readouterr()
    assert len(watch.stats) == 3
    assert watch.writes(0) == watch.writes(2) == 0  # plan and drift only read
    assert watch.writes(1) > 0
    # The trace was really on, in JSON, with the credentials' places redacted.
    records = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert any("Request headers" in r["msg"] for r in records)
    assert any(re.search(r"Authorization.{1,8}<redacted>", r["msg"]) for r in records)
    assert any(re.search(r"access_token.{1,8}<redacted>", r["msg"]) for r in records)
    for name, text in (("stdout", out), ("stderr", err), ("plan file", plan_file.read_text())):
        assert_clean(text, watch, name)


def test_a_refused_arm_call_prints_its_error_without_secrets(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    with running(state_dir=state, world=ci_world()):
        pass  # a CI principal with no role at all
    monkeypatch.setenv(LOCAL_CLIENT_ID_ENV, CI_APP_ID)
    watch = watch_local(monkeypatch)
    for argv in (
        ["plan", SPECS, "--cloud", "local", "--state-dir", str(state)],
        ["apply", SPECS, "--cloud", "local", "--state-dir", str(state), "--auto-approve"],
    ):
        for loud in ([], ["-vv"], ["-vv", "--log-format", "json"]):
            assert main([*loud, *argv]) == 1
            out, err = capfd.readouterr()
            assert "403 AuthorizationFailed" in err
            assert "Traceback" not in out + err
            assert_clean(out + err, watch, f"the output of {' '.join(loud + argv[:1])}")
