"""Logging for the command line: levels from -v/-q, text or JSON lines, and no secrets, ever.

At `-vv` the Azure SDK logs whole HTTP exchanges (azure-core's network trace): Authorization
headers, token responses with `access_token`, the managed-identity endpoint's secret header,
and the federated `client_assertion` a workload identity sends. Every record therefore passes
`RedactSecrets` on our handler before it is written, whichever library logged it, and the
formatters scrub the final line again (tracebacks and `extra` fields included).

This module imports nothing of the project, so every layer may use it.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, TextIO

REDACTED = "<redacted>"
LOG_FORMATS = ("text", "json")
PROJECT_LOGGER = "identity_reconciler"

# Header names whose values are credentials (as the SDK's trace prints them: `'Name': 'value'`).
SECRET_HEADERS = (
    "authorization",
    "proxy-authorization",
    "x-identity-header",
    "x-ms-authorization-auxiliary",
    "secret",
    "cookie",
    "set-cookie",
    "ocp-apim-subscription-key",
)
# JSON keys and form fields whose values are credentials.
SECRET_FIELDS = (
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "client_assertion",
    "assertion",
    "password",
    "identity_header",
)

_HEADER_NAMES = "|".join(re.escape(h) for h in SECRET_HEADERS)
_FIELD_NAMES = "|".join(re.escape(f) for f in SECRET_FIELDS)


@functools.cache
def _patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    """The credential patterns, compiled on first use (most runs never log a line)."""
    return (
        # 'Authorization': 'Bearer ...'   "x-identity-header": "..."   (quoted, as in dict reprs)
        (
            re.compile(
                rf"""(?i)(['"](?:{_HEADER_NAMES}|{_FIELD_NAMES})['"]\s*:\s*)(['"])(.*?)\2"""
            ),
            rf"\1\2{REDACTED}\2",
        ),
        # Authorization: Bearer ...   (a raw header line: the value runs to the end of the line)
        (
            re.compile(rf"(?im)^(\s*(?:{_HEADER_NAMES})\s*:\s*)(?![\s'\"]*$)(.+)$"),
            rf"\1{REDACTED}",
        ),
        # access_token=...&   client_assertion=...   (form bodies and query strings)
        (re.compile(rf"(?i)\b((?:{_FIELD_NAMES})=)[^&\s'\"]+"), rf"\1{REDACTED}"),
        # Bearer <token> anywhere
        (re.compile(r"(?i)\b(Bearer\s+)(?!<redacted>)[A-Za-z0-9\-_.~+/]+=*"), rf"\1{REDACTED}"),
        # Anything that looks like a JWT, labelled or not
        (re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), REDACTED),
    )


def redact(text: str) -> str:
    """`text` with every credential we can recognise replaced by `<redacted>`."""
    for pattern, replacement in _patterns():
        text = pattern.sub(replacement, text)
    return text


# Attributes every LogRecord has; anything else on a record came in through `extra=`.
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("", logging.INFO, "", 0, "", None, None)).keys()
) | {"message", "asctime", "taskName"}


def extras(record: logging.LogRecord) -> dict[str, Any]:
    return {
        k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS and not k.startswith("_")
    }


class RedactSecrets(logging.Filter):
    """Rewrites each record so that no formatter can print a credential.

    The message is rendered once (`msg % args`), redacted, and stored back without args;
    string `extra` values and an attached traceback are redacted the same way.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken %-format: keep the raw template, never its args
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        for key, value in extras(record).items():
            if isinstance(value, str):
                setattr(record, key, redact(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class TextFormatter(logging.Formatter):
    """`warning: azure.identity: message`, with a timestamp when debugging."""

    def __init__(self, *, timestamps: bool = False) -> None:
        super().__init__()
        self.timestamps = timestamps

    def format(self, record: logging.LogRecord) -> str:
        head = self.formatTime(record) + " " if self.timestamps else ""
        line = f"{record.levelname.lower()}: {record.name}: {record.getMessage()}"
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line += "\n" + record.exc_text
        return redact(head + line)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, then any `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in extras(record).items():
            doc.setdefault(key, value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            doc["exc"] = record.exc_text
        return redact(json.dumps(doc, default=str, ensure_ascii=False))


def levels(verbosity: int) -> dict[str, int]:
    """Logger name -> level for a verbosity (-v counts up, -q counts down).

    -qq: critical only; -q: errors; default: warnings; -v: our own info; -vv and more:
    everything at debug, which also turns on the Azure SDK's network trace.
    """
    if verbosity <= -2:
        return {"": logging.CRITICAL}
    if verbosity == -1:
        return {"": logging.ERROR}
    if verbosity == 0:
        return {"": logging.WARNING}
    if verbosity == 1:
        return {"": logging.WARNING, PROJECT_LOGGER: logging.INFO}
    return {"": logging.DEBUG, PROJECT_LOGGER: logging.DEBUG}


class _OurHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler this module installed, so reconfiguring replaces only ours."""


@contextlib.contextmanager
def configured(
    verbosity: int = 0, fmt: str = "text", stream: TextIO | None = None
) -> Iterator[logging.Handler]:
    """Logging set up for one command run, and put back as it was afterwards.

    Putting it back matters when commands run in-process (tests, embedding): a level left at
    DEBUG would switch the SDK's network trace on for whatever runs next.
    """
    if fmt not in LOG_FORMATS:
        raise ValueError(f"unknown log format {fmt!r}; expected one of {', '.join(LOG_FORMATS)}")
    handler = _OurHandler(stream if stream is not None else sys.stderr)
    handler.addFilter(RedactSecrets())
    handler.setFormatter(
        JsonFormatter() if fmt == "json" else TextFormatter(timestamps=verbosity >= 2)
    )
    root = logging.getLogger()
    wanted = levels(verbosity)
    saved_levels = {name: logging.getLogger(name).level for name in wanted}
    ours = [h for h in root.handlers if isinstance(h, _OurHandler)]
    for old in ours:
        root.removeHandler(old)
    root.addHandler(handler)
    for name, level in wanted.items():
        logging.getLogger(name).setLevel(level)
    capturing = logging.captureWarnings
    capturing(True)
    try:
        yield handler
    finally:
        capturing(False)
        root.removeHandler(handler)
        handler.flush()
        for old in ours:
            root.addHandler(old)
        for name, level in saved_levels.items():
            logging.getLogger(name).setLevel(level)
