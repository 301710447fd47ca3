"""What every view of a plan shares: symbols, phrases, and the attribute lines of a change.

Views read the plan's JSON form (a plain mapping), never the internal objects, so a saved plan
file renders exactly like a fresh one, and the views cannot disagree about what a change is.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from identity_reconciler.core.text import visible
from identity_reconciler.plan.model import KNOWN_AFTER_APPLY, Plan

PlanData = Mapping[str, Any]

SYMBOLS: dict[tuple[str, ...], str] = {
    ("create",): "+",
    ("update",): "~",
    ("delete",): "-",
    ("delete", "create"): "-/+",
}
PHRASES: dict[tuple[str, ...], str] = {
    ("create",): "will be created",
    ("update",): "will be updated in place",
    ("delete",): "will be destroyed",
    ("delete", "create"): "must be replaced",
}
NO_CHANGES = "No changes. Live Azure matches the specs."


def one_line(text: str) -> str:
    """`text` on one line, control and format characters shown as `\\uXXXX`.

    Views print strings that come from specs under review and from live Azure (tag keys,
    descriptions, messages quoting them) into terminals and pull-request comments; a raw line
    break there would let such a string forge lines the plan never had (a closing code fence,
    a heading), an escape sequence would drive the terminal, and a bidirectional override
    would display the line reordered (`core/text.py`).
    """
    return visible(text)


def as_data(plan: Plan | PlanData) -> PlanData:
    return plan.to_dict() if isinstance(plan, Plan) else plan


def actions_of(change: PlanData) -> tuple[str, ...]:
    return tuple(change.get("actions") or ())


def symbol(change: PlanData) -> str:
    return SYMBOLS.get(actions_of(change), "?")


def footer(summary: PlanData) -> str:
    return (
        f"Plan: {summary.get('add', 0)} to add, {summary.get('change', 0)} to change, "
        f"{summary.get('destroy', 0)} to destroy."
    )


def value(v: Any) -> str:
    """A value as people read it: strings quoted, the known-after-apply sentinel bare."""
    if v == KNOWN_AFTER_APPLY:
        return KNOWN_AFTER_APPLY
    if v is None:
        return "null"
    if isinstance(v, Mapping):
        return "{" + ", ".join(f"{json.dumps(k)} = {value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, Sequence) and not isinstance(v, str):
        return "[" + ", ".join(value(x) for x in v) + "]"
    return one_line(json.dumps(v, ensure_ascii=False))


def attribute_lines(change: PlanData) -> list[tuple[str, str, str]]:
    """`(sign, name, text)` per attribute worth showing.

    A create shows what it will write, a delete what it removes, an update or replace only what
    differs (maps such as tags key by key), so reviews stay short.
    """
    before: Mapping[str, Any] = change.get("before") or {}
    after: Mapping[str, Any] = change.get("after") or {}
    actions = actions_of(change)
    if actions == ("create",):
        return [("+", k, value(v)) for k, v in sorted(after.items()) if v is not None]
    if actions == ("delete",):
        return [("-", k, value(v)) for k, v in sorted(before.items()) if v is not None]
    out: list[tuple[str, str, str]] = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if isinstance(old, Mapping) and isinstance(new, Mapping):
            out.extend(_map_lines(key, old, new))
        elif old is None:
            out.append(("+", key, value(new)))
        elif new is None:
            out.append(("-", key, value(old)))
        else:
            out.append(("~", key, changed(old, new)))
    return out


# A string change longer than this is shown as a word diff: two 250-character ABAC conditions
# one above the other hide the one clause that differs.
LONG_STRING = 80
_WORDS = re.compile(r"\s+|[()\[\]{}]|[^\s()\[\]{}]+")
_CONTEXT = 3  # words kept either side of a difference


def changed(old: Any, new: Any) -> str:
    """`old -> new`, or for two long strings only the words that differ, in context:
    `… StringEquals [-'logs'-]{+'audit'+} …` (as `git diff --word-diff=plain` marks them)."""
    if not (isinstance(old, str) and isinstance(new, str)) or (
        max(len(old), len(new)) <= LONG_STRING
    ):
        return f"{value(old)} -> {value(new)}"
    return word_diff(old, new)


def word_diff(old: str, new: str) -> str:
    a, b = _WORDS.findall(old), _WORDS.findall(new)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    parts: list[str] = []
    opcodes = matcher.get_opcodes()
    if matcher.ratio() < 0.5:  # mostly rewritten: the two values say it better
        return f"{value(old)} -> {value(new)}"
    for n, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            words = a[i1:i2]
            head = _words(words, _CONTEXT) if n > 0 else []
            tail = _words(words[::-1], _CONTEXT)[::-1] if n < len(opcodes) - 1 else []
            if len(words) > len(head) + len(tail):
                parts += [*head, " … " if head or tail else "…", *tail]
            else:
                parts += words
            continue
        if i2 > i1:
            parts.append(f"[-{''.join(a[i1:i2]).strip(' ')}-]")
        if j2 > j1:
            parts.append(f"{{+{''.join(b[j1:j2]).strip(' ')}+}}")
    text = re.sub(" {2,}", " ", "".join(parts)).strip(" ")  # other white space stays visible
    return one_line(text)


def _words(tokens: list[str], count: int) -> list[str]:
    """The leading tokens of `tokens` that hold `count` words (white space is no word)."""
    seen = 0
    for i, token in enumerate(tokens):
        if not token.isspace():
            seen += 1
            if seen > count:
                return tokens[:i]
    return tokens


def _map_lines(
    name: str, old: Mapping[str, Any], new: Mapping[str, Any]
) -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []
    for key in sorted(set(old) | set(new)):
        label = f"{name}.{one_line(key)}"
        if key not in new:
            out.append(("-", label, value(old[key])))
        elif key not in old:
            out.append(("+", label, value(new[key])))
        elif old[key] != new[key]:
            out.append(("~", label, changed(old[key], new[key])))
    return out


def waits_note(change: PlanData) -> str | None:
    """Make before break, said in the plan: the creates this delete waits for."""
    first = [one_line(str(a)) for a in change.get("create_before_destroy") or ()]
    if not first:
        return None
    return f"(create before destroy: deleted only after {', '.join(first)} is created)"


def tsql(change: PlanData) -> list[str]:
    """The T-SQL statements a SQL change runs, in order (shown under its attributes)."""
    return [
        str((op.get("body") or {}).get("tsql", ""))
        for op in change.get("operations") or ()
        if op.get("method") == "TSQL"
    ]


def aligned(lines: list[tuple[str, str, str]]) -> list[str]:
    """`sign name = text` with the `=` signs in one column."""
    width = max((len(name) for _, name, _ in lines), default=0)
    return [f"{sign} {name.ljust(width)} = {text}" for sign, name, text in lines]


def located(diagnostic: PlanData) -> str:
    """`file:line:col: message` (or `address: message` when there is no spec location)."""
    where = diagnostic.get("source") or diagnostic.get("address")
    message = one_line(str(diagnostic.get("message", "")))
    return f"{one_line(str(where))}: {message}" if where else message
