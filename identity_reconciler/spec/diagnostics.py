"""Pydantic errors -> located, readable findings.

Pydantic reports *where* as a `loc` path through the data (plus union tags such as
`structured` that are not in the data) and *what* in its own words. This module walks the
path through the located YAML to find `file:line:col`, and rewrites the message so it names
the thing and says the fix: "unknown key 'rol' in identities[0].roles[1] (did you mean 'role'?)".
"""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from identity_reconciler.core.findings import Finding, Severity
from identity_reconciler.spec.models import SpecDocument, SpecValueError
from identity_reconciler.spec.yamlload import LocatedDocument, PathT

_TYPE_WORDS = {
    "string_type": "a string",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}
_FIX_FOR_TYPE = {
    "string_type": "write a string",
    "list_type": "write a YAML list: one '- item' per line, or [a, b]",
    "dict_type": "write a mapping of key: value pairs",
    "model_type": "write a mapping of key: value pairs",
    "bool_type": "write true or false",
    "int_type": "write a whole number, unquoted",
    "float_type": "write a number, unquoted",
}


def describe(value: Any) -> str:
    """A short phrase for what the YAML held, e.g. 'a list' or 'the number 42'."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the string {shown!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def describe_kind(value: Any) -> str:
    """What the YAML held, never its text: a document that is not a mapping may be a file that
    is not a spec at all (a credentials file), so nothing of it is quoted."""
    if isinstance(value, str):
        return "a string (not shown)"
    return describe(value)


def data_path(data: Any, loc: Sequence[str | int]) -> PathT:
    """The part of a Pydantic `loc` that exists in the data (drops union tags and '[key]')."""
    out: list[str | int] = []
    current = data
    for part in loc:
        in_dict = isinstance(current, dict) and isinstance(part, str) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        if in_dict or in_list:
            current = current[part]
            out.append(part)
    return tuple(out)


def readable(path: PathT) -> str:
    """`identities[0].roles[1].scope`, the way people point at YAML."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "the document"


def _unwrap(tp: Any) -> list[Any]:
    """The concrete types inside Annotated / Optional / unions."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        return [t for arg in typing.get_args(tp) for t in _unwrap(arg)]
    return [tp]


def model_at(loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The model class whose fields apply at `loc` (walked through lists, dicts, unions)."""
    candidates: list[Any] = [SpecDocument]
    for part in loc:
        nxt: list[Any] = []
        for tp in (t for c in candidates for t in _unwrap(c)):
            origin = typing.get_origin(tp)
            if isinstance(tp, type) and issubclass(tp, BaseModel):
                field = tp.model_fields.get(str(part))
                if field is not None:
                    nxt.append(field.annotation)
            elif origin is list and isinstance(part, int):
                nxt.append(typing.get_args(tp)[0])
            elif origin is dict and isinstance(part, str):
                nxt.append(typing.get_args(tp)[1])
        if nxt:
            candidates = nxt
    for tp in (t for c in candidates for t in _unwrap(c)):
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            return tp
    return None


def _unknown_key_fix(loc: Sequence[str | int], key: str) -> str:
    model = model_at(loc[:-1])
    if model is None:
        return "remove it"
    import difflib  # only for a misspelt key

    allowed = list(model.model_fields)
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    return "remove it; allowed keys: " + ", ".join(allowed)


def _finding(
    doc: LocatedDocument, path: PathT, rule: str, message: str, fix: str | None, *, key: bool
) -> Finding:
    line, column = doc.position(path, key=key)
    return Finding(doc.file, line, column, Severity.ERROR, rule, message, fix)


def _one(doc: LocatedDocument, err: ErrorDetails) -> Finding:
    loc = err["loc"]
    kind = err["type"]
    path = data_path(doc.data, loc)
    where = readable(path)
    ctx = err.get("ctx") or {}
    value = err.get("input")
    if kind == "extra_forbidden":
        name = str(loc[-1])
        parent = readable(path[:-1])
        return _finding(
            doc, path, "IR010", f"unknown key {name!r} in {parent}",
            _unknown_key_fix(loc, name), key=True,
        )
    if kind == "missing":
        name = str(loc[-1])
        return _finding(
            doc, path, "IR011", f"{where}: missing required key {name!r}",
            f"add {name}: ...", key=False,
        )
    if "[key]" in loc:
        return _finding(
            doc, path, "IR012", f"{readable(path[:-1])}: key {value!r} is not allowed",
            f"use one of {ctx.get('expected', 'the documented keys')}", key=True,
        )
    if kind == "value_error":
        error = ctx.get("error")
        fix = error.fix if isinstance(error, SpecValueError) else None
        key = error.key if isinstance(error, SpecValueError) else None
        if key is not None and data_path(doc.data, (*path, key)) == (*path, key):
            return _finding(doc, (*path, key), "IR012", f"{where}: {error}", fix, key=True)
        return _finding(doc, path, "IR012", f"{where}: {error or err['msg']}", fix, key=False)
    if kind in _TYPE_WORDS:
        if path == () and kind == "model_type":
            return _finding(
                doc, path, "IR012",
                f"a spec document must be a mapping, not {describe_kind(value)}",
                "start with keys such as subscription:, defaults:, identities:", key=False,
            )
        fix = _FIX_FOR_TYPE.get(kind)
        if kind == "string_type" and isinstance(value, int | float | bool):
            fix = f"quote the value: '{value}'" if not isinstance(value, bool) else (
                "quote the value, e.g. 'true'"
            )
        return _finding(
            doc, path, "IR012",
            f"{where}: expected {_TYPE_WORDS[kind]}, got {describe(value)}", fix, key=False,
        )
    if kind == "literal_error":
        return _finding(
            doc, path, "IR012", f"{where}: {describe(value)} is not allowed",
            f"use {ctx.get('expected', 'one of the documented values')}", key=False,
        )
    if kind in ("too_long", "too_short", "string_too_long", "string_too_short"):
        longest = kind.endswith("too_long")
        limit = ctx.get("max_length") if longest else ctx.get("min_length")
        unit = "items" if isinstance(value, list) else "characters"
        size = len(value) if isinstance(value, list | str) else "?"
        bound = "at most" if longest else "at least"
        return _finding(
            doc, path, "IR012", f"{where}: has {size} {unit}; {bound} {limit} allowed",
            "remove some" if longest else "add the missing value", key=False,
        )
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return _finding(
            doc, path, "IR012", f"{where}: {describe(value)} is out of range", err["msg"].lower(),
            key=False,
        )
    return _finding(doc, path, "IR012", f"{where}: {err['msg']}", None, key=False)


MAX_FINDINGS_PER_DOCUMENT = 100


def findings_for(doc: LocatedDocument, exc: ValidationError) -> list[Finding]:
    """One finding per Pydantic error, in document order, at most 100 per document."""
    errors = exc.errors(include_url=False)
    out = [_one(doc, err) for err in errors[:MAX_FINDINGS_PER_DOCUMENT]]
    if len(errors) > MAX_FINDINGS_PER_DOCUMENT:
        line, column = doc.start
        out.append(
            Finding(
                doc.file, line, column, Severity.ERROR, "IR012",
                f"{len(errors) - MAX_FINDINGS_PER_DOCUMENT:,} more schema errors in this "
                "document not shown", "fix the errors above first",
            )
        )
    return out


def validate_document(doc: LocatedDocument) -> tuple[SpecDocument | None, list[Finding]]:
    try:
        return SpecDocument.model_validate(doc.data), []
    except ValidationError as exc:
        return None, findings_for(doc, exc)
