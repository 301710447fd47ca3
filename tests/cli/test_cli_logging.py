"""Log levels, formats and redaction: unit tests of logsetup and the global options."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest

from identity_reconciler import logsetup
from identity_reconciler.cli import build_parser, main
from identity_reconciler.cmds.common import output_settings

JWT = (
    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJodHRwczovL21hbmFnZW1lbnQuYXp1cmUuY29tIn0."
    "c2lnbmF0dXJlLWJ5dGVzLWhlcmU"
)
SECRET = "kmL5oNxnhYpaz2VVShxowP_BYlWptdQGsTJUC9cHWes"


@pytest.mark.parametrize(
    "text",
    [
        f"    'Authorization': 'Bearer {JWT}'",
        f'    "authorization": "Bearer {JWT}"',
        f"Authorization: Bearer {JWT}",
        f"    'X-IDENTITY-HEADER': '{SECRET}'",
        f"x-identity-header: {SECRET}",
        f'{{"access_token":"{SECRET}","expires_on":"1795393466","token_type":"Bearer"}}',
        f'{{"access_token": "{SECRET}"}}',
        f"grant_type=client_credentials&client_assertion={SECRET}&client_id=abc",
        f"client_secret={SECRET}",
        f"refresh_token={SECRET}&scope=x",
        f"token was {JWT} (unlabelled)",
        f"header Bearer {SECRET}",
        f'{{"identity_header": "{SECRET}", "endpoint": "https://127.0.0.1:1"}}',
    ],
)
def test_redact_removes_every_credential_shape(text: str) -> None:
    out = logsetup.redact(text)
    assert SECRET not in out
    assert JWT not in out
    assert "<redacted>" in out


def test_redact_keeps_what_is_not_secret() -> None:
    text = (
        "'x-ms-request-id': '094bd465-22c4-46f2-8583-4efecdcf0d2e'\n"
        '"token_type": "Bearer", "code": "ResourceNotFound", "expires_in": 86400'
    )
    assert logsetup.redact(text) == text


def _record_through_handler(fmt: str, message: str, *args: object, **extra: object) -> str:
    stream = io.StringIO()
    with logsetup.configured(2, fmt, stream):
        logging.getLogger("azure.core.pipeline.policies._universal").debug(
            message, *args, extra=extra
        )
    return stream.getvalue()


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_filter_redacts_args_extras_and_tracebacks(fmt: str) -> None:
    out = _record_through_handler(
        fmt, "Request headers:\n    'Authorization': %r", f"Bearer {JWT}", detail=f"Bearer {JWT}"
    )
    assert JWT not in out
    assert "<redacted>" in out
    stream = io.StringIO()
    with logsetup.configured(2, fmt, stream):
        try:
            raise RuntimeError(f"call failed with Authorization: Bearer {JWT}")
        except RuntimeError:
            logging.getLogger("identity_reconciler.test").exception("boom")
    assert JWT not in stream.getvalue()
    assert "RuntimeError" in stream.getvalue()


def test_json_lines_carry_ts_level_logger_msg_and_extras() -> None:
    out = _record_through_handler("json", "write failed: %s", "409 Conflict", request_id="r-1")
    doc = json.loads(out)
    assert doc["level"] == "debug"
    assert doc["logger"] == "azure.core.pipeline.policies._universal"
    assert doc["msg"] == "write failed: 409 Conflict"
    assert doc["request_id"] == "r-1"
    assert doc["ts"].endswith("+00:00")


@pytest.mark.parametrize(
    ("verbosity", "ours", "azure"),
    [
        (-2, logging.CRITICAL, logging.CRITICAL),
        (-1, logging.ERROR, logging.ERROR),
        (0, logging.WARNING, logging.WARNING),
        (1, logging.INFO, logging.WARNING),
        (2, logging.DEBUG, logging.DEBUG),
        (5, logging.DEBUG, logging.DEBUG),
    ],
)
def test_levels_by_verbosity(verbosity: int, ours: int, azure: int) -> None:
    with logsetup.configured(verbosity, "text", io.StringIO()):
        assert logging.getLogger("identity_reconciler.x").getEffectiveLevel() == ours
        assert logging.getLogger("azure.core").getEffectiveLevel() == azure


def test_configuration_is_put_back_after_a_run() -> None:
    root = logging.getLogger()
    before = (root.level, list(root.handlers), logging.getLogger("identity_reconciler").level)
    with logsetup.configured(2, "json", io.StringIO()):
        assert root.level == logging.DEBUG
    assert (root.level, list(root.handlers), logging.getLogger("identity_reconciler").level) == (
        before
    )


@pytest.mark.parametrize(
    ("argv", "verbosity", "fmt", "no_color"),
    [
        (["validate", "x"], 0, "text", False),
        (["-vv", "validate", "x"], 2, "text", False),
        (["-v", "validate", "x", "-v"], 2, "text", False),
        (["validate", "x", "-q"], -1, "text", False),
        (["-v", "validate", "x", "-qq"], -1, "text", False),
        (["--log-format", "json", "validate", "x"], 0, "json", False),
        (["validate", "x", "--log-format", "json"], 0, "json", False),
        (["--no-color", "plan", "x"], 0, "text", True),
        (["plan", "x", "--no-color"], 0, "text", True),
        (["validate", "x", "--no-color"], 0, "text", True),
        (["emulator", "serve", "-vv"], 2, "text", False),
    ],
)
def test_global_options_before_and_after_the_command(
    argv: list[str], verbosity: int, fmt: str, no_color: bool
) -> None:
    settings = output_settings(build_parser().parse_args(argv))
    assert (settings.verbosity, settings.log_format, settings.no_color) == (
        verbosity,
        fmt,
        no_color,
    )


def test_quiet_validate_still_prints_findings_and_json_logs_parse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text("subscription: 11111111-1111-1111-1111-111111111111\nbogus: 1\n")
    assert main(["--log-format", "json", "-vv", "validate", str(spec)]) == 1
    captured = capsys.readouterr()
    assert "IR010" in captured.out
    for line in captured.err.splitlines():
        if line.startswith("{"):
            doc = json.loads(line)
            assert {"ts", "level", "logger", "msg"} <= set(doc)
