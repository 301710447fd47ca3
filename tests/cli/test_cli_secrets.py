"""At -vv the SDK traces every HTTP exchange, credentials included; none may reach any output.

The command runs in-process against the embedded local Azure, so the test can record the real
token the emulator issued and the managed-identity secret it handed out (by wrapping the
credential the session builds, which still fetches them over HTTPS), then scan stdout, stderr
and the plan file for them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from identity_reconciler.azure import clients, local_credential
from identity_reconciler.cli import main

REPO = Path(__file__).resolve().parents[2]
SPECS = str(REPO / "specs")
JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.")


class Recorded:
    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.identity_headers: list[str] = []


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Recorded:
    seen = Recorded()
    real = local_credential.emulator_credential

    def recording(
        endpoint: str, identity_header: str, ca_bundle: str | None, **kwargs: Any
    ) -> Any:
        seen.identity_headers.append(identity_header)
        credential = real(endpoint, identity_header, ca_bundle, **kwargs)
        get_token = credential.get_token

        def get_and_record(*scopes: str, **kwargs: Any) -> Any:
            token = get_token(*scopes, **kwargs)
            seen.tokens.append(token.token)
            return token

        credential.get_token = get_and_record  # type: ignore[method-assign]
        return credential

    monkeypatch.setattr(clients, "emulator_credential", recording)
    return seen


def _assert_clean(text: str, seen: Recorded, where: str) -> None:
    for secret in [*seen.tokens, *seen.identity_headers]:
        assert secret not in text, f"a credential reached {where}"
        signature = secret.rsplit(".", 1)[-1]
        if len(signature) > 16:
            assert signature not in text, f"a token signature reached {where}"
    assert not JWT_RE.search(text), f"something JWT-shaped reached {where}"


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_no_credential_in_any_output_at_vv(
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    recorded: Recorded,
    log_format: str,
) -> None:
    state, plan_file = str(tmp_path / "state"), tmp_path / "plan.json"
    rc = main(
        ["-vv", "--log-format", log_format, "plan", SPECS, "--cloud", "local",
         "--state-dir", state, "--out", str(plan_file)]
    )
    assert rc == 0
    rc = main(["apply", str(plan_file), "--specs", SPECS, "--state-dir", state, "-vv",
               "--log-format", log_format])
    assert rc == 0
    captured = capfd.readouterr()
    assert recorded.tokens
    assert recorded.identity_headers
    # The trace was really on: headers, token responses and request bodies were logged.
    assert "Request headers" in captured.err
    assert re.search(r"Authorization.{1,8}<redacted>", captured.err)
    assert re.search(r"access_token.{1,8}<redacted>", captured.err)
    assert re.search(r"X-IDENTITY-HEADER.{1,8}<redacted>", captured.err, re.IGNORECASE)
    _assert_clean(captured.err, recorded, "stderr")
    _assert_clean(captured.out, recorded, "stdout")
    _assert_clean(plan_file.read_text(), recorded, "the plan file")


def test_failed_arm_call_prints_its_request_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """ARM refuses a token it did not issue (401); the error names ARM's x-ms-request-id."""
    real = local_credential.emulator_credential

    def forged(
        endpoint: str, identity_header: str, ca_bundle: str | None, **kwargs: Any
    ) -> Any:
        credential = real(endpoint, identity_header, ca_bundle, **kwargs)
        get_token = credential.get_token

        def tampered(*scopes: str, **kwargs: Any) -> Any:
            token = get_token(*scopes, **kwargs)
            head, body, _signature = token.token.split(".")
            return type(token)(f"{head}.{body}.AAAA", token.expires_on)

        credential.get_token = tampered  # type: ignore[method-assign]
        return credential

    monkeypatch.setattr(clients, "emulator_credential", forged)
    rc = main(["plan", SPECS, "--cloud", "local", "--state-dir", str(tmp_path / "state")])
    err = capsys.readouterr().err
    assert rc == 1
    line = next(x for x in err.splitlines() if x.startswith("error:"))
    assert "401" in line
    assert re.search(r"x-ms-request-id: [0-9a-f-]{36}", line), line
    assert "Traceback" not in err
