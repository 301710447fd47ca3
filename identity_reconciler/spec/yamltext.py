"""Text-level YAML helpers: plain-scalar resolution (YAML 1.2 core), error positions and the
finding a parser error becomes."""

from __future__ import annotations

import math
import re
from typing import Any

import yaml

from identity_reconciler.spec.errors import SpecLoadError

Pos = tuple[int, int]

_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT_RE = re.compile(r"^[-+]?[0-9]+$")
_OCT_RE = re.compile(r"^0o[0-7]+$")
_HEX_RE = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT_RE = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_INF_RE = re.compile(r"^[-+]?\.(inf|Inf|INF)$")
_NAN_RE = re.compile(r"^\.(nan|NaN|NAN)$")
_SPECIAL_STARTS = frozenset("0123456789+-.~nNtTfF")
_MAX_NUMBER_TEXT = 100  # longer digit runs stay text (and fail where a number is wanted)


def resolve_plain(text: str) -> Any:
    """A plain scalar by the YAML 1.2 core schema."""
    if text and text[0] not in _SPECIAL_STARTS:
        return text  # names, ids, roles: nothing else starts with these characters
    if text in _NULLS:
        return None
    if text in _BOOLS:
        return _BOOLS[text]
    if len(text) > _MAX_NUMBER_TEXT:
        return text
    if _INT_RE.match(text):
        return int(text)
    if _OCT_RE.match(text):
        return int(text[2:], 8)
    if _HEX_RE.match(text):
        return int(text[2:], 16)
    if _FLOAT_RE.match(text):
        return float(text)
    if _INF_RE.match(text):
        return -math.inf if text.startswith("-") else math.inf
    if _NAN_RE.match(text):
        return math.nan
    return text


def error_position(text: str, exc: yaml.YAMLError) -> Pos:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        return (int(mark.line) + 1, int(mark.column) + 1)
    offset = getattr(exc, "position", None)
    if isinstance(offset, int):
        # libyaml reports a byte offset into the UTF-8 text; turn it into a character index
        index = len(text.encode("utf-8")[:offset].decode("utf-8", errors="ignore"))
        line = text.count("\n", 0, index) + 1
        return (line, index - (text.rfind("\n", 0, index) + 1) + 1)
    return (1, 1)


def error_message(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None) or getattr(exc, "reason", None) or str(exc)
    context = getattr(exc, "context", None)
    message = f"YAML syntax error: {problem}"
    if context:
        message += f" ({context})"
    return " ".join(message.split())


def syntax_error(text: str, file: str, exc: yaml.YAMLError, max_depth: int) -> SpecLoadError:
    """The located finding for a parser error: IR001, or IR003 when the parser refused the input
    for its depth. libyaml (0.2.5+) stops deep flow nesting itself, while scanning ahead of the
    events the loader counts, so that is the same finding as the loader's own depth cap."""
    where = error_position(text, exc)
    if "maximum nesting depth" in str(getattr(exc, "problem", "") or ""):
        return SpecLoadError(
            file, where, "IR003", f"nesting deeper than {max_depth} levels",
            "flatten the structure; specs need only a few levels",
        )
    return SpecLoadError(
        file, where, "IR001", error_message(exc), "fix the YAML syntax at this position"
    )
