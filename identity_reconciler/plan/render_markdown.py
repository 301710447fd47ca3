"""The pull-request view of a plan: safety first, a summary table, one collapsible block per
identity, and never more than a comment can hold.

GitHub refuses comments over 65,536 characters. Rather than fail the CI step, the view stops
adding changes before the limit and says how many it left out and where the full plan is (the
JSON artifact), so reviewers always see the warnings, the counts and the errors.

The comment is posted for specs under review, so nothing they control may become markup:
text outside code blocks is escaped for HTML and for markdown's inline syntax, code spans are
fenced with more backticks than the text holds, and every string is kept on one line (a line
break could close the diff block and start a heading of the attacker's choosing).
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Mapping
from typing import Any

from identity_reconciler.core.words import count
from identity_reconciler.plan import render_common as rc
from identity_reconciler.plan.model import ChangeKind, Plan

MAX_BYTES = 65_536
LIST_LIMIT = 50
_NOTE_RESERVE = 600
# GitHub's diff highlighting colours `+` and `-` lines, and `!` lines as changed.
_DIFF_SIGNS = {"~": "!"}
# Characters that start inline markdown (links, images, emphasis, code, tables, escapes).
_INLINE = re.compile(r"([\\`*_\[\]~|])")
_TICKS = re.compile(r"`+")


def _text(value: object) -> str:
    """Plain text for prose: one line, no HTML, no markdown."""
    return _INLINE.sub(r"\\\1", html.escape(rc.one_line(str(value))))


def _code(value: object) -> str:
    """A code span that shows `value` verbatim, whatever backticks it holds."""
    text = rc.one_line(str(value))
    fence = "`" * (max((len(m) for m in _TICKS.findall(text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def render_markdown(
    plan: Plan | Mapping[str, Any],
    *,
    max_bytes: int = MAX_BYTES,
    artifact: str = "plan.json",
) -> str:
    data = rc.as_data(plan)
    changes = list(data.get("changes") or ())
    head = _head(data, changes)
    tail = _meta(data)
    budget = max_bytes - _size(head) - _size(tail) - _NOTE_RESERVE
    body, shown = _changes(changes, budget)
    parts = [head, body]
    omitted = len(changes) - shown
    if omitted:
        parts.append(
            f"> [!NOTE]\n> **{omitted:,} of {count(len(changes), 'change')} "
            f"{'is' if omitted == 1 else 'are'} not shown** to keep this comment under "
            f"{max_bytes // 1024} KB. The full plan is in the JSON "
            f"artifact (`{artifact}`).\n"
        )
    parts.append(tail)
    return "\n".join(p for p in parts if p)


def _size(text: str) -> int:
    return len(text.encode("utf-8")) + 1


def _head(data: Mapping[str, Any], changes: list[Mapping[str, Any]]) -> str:
    out = ["### identity-reconciler plan", ""]
    violations = list((data.get("safety") or {}).get("violations") or ())
    if violations:
        out += ["> [!CAUTION]", "> **Unsafe plan: apply refuses it unless forced.**"]
        out += [
            f"> - {_text(v.get('message'))} — pass {_code(v.get('flag'))}"
            for v in violations[:LIST_LIMIT]
        ]
        out += _more(len(violations), prefix="> ")
        out.append("")
    errors = list(data.get("errors") or ())
    if errors:
        out += [
            "> [!WARNING]",
            f"> **{count(len(errors), 'error')}: this plan cannot be applied.**",
        ]
        out += [f"> - {_diagnostic(e)}" for e in errors[:LIST_LIMIT]]
        out += _more(len(errors), prefix="> ")
        out.append("")
    if changes:
        out += [f"**{rc.footer(data.get('summary') or {})}**", "", *_table(changes), ""]
    elif not errors:
        out += [f"**{rc.NO_CHANGES}**", ""]
    notices = list(data.get("notices") or ())
    if notices:
        out += [f"<details><summary>Notices ({len(notices)})</summary>", ""]
        out += [f"- {_diagnostic(n)}" for n in notices[:LIST_LIMIT]]
        out += _more(len(notices), prefix="")
        out += ["", "</details>", ""]
    return "\n".join(out)


def _more(count: int, *, prefix: str) -> list[str]:
    if count <= LIST_LIMIT:
        return []
    return [f"{prefix}- … and {count - LIST_LIMIT} more (see the JSON artifact)"]


def _diagnostic(d: Mapping[str, Any]) -> str:
    where = d.get("source") or d.get("address")
    message = _text(d.get("message", ""))
    return f"{_code(where)} {message}" if where else message


def _table(changes: list[Mapping[str, Any]]) -> list[str]:
    counts: Counter[tuple[str, str]] = Counter()
    for c in changes:
        kind = str(c.get("kind"))
        actions = rc.actions_of(c)
        counts[(kind, "add")] += "create" in actions
        counts[(kind, "change")] += actions == ("update",)
        counts[(kind, "destroy")] += "delete" in actions
    rows = ["| Kind | Add | Change | Destroy |", "|:--|--:|--:|--:|"]
    for kind in ChangeKind:
        row = [counts[(kind.value, col)] for col in ("add", "change", "destroy")]
        if any(row):
            rows.append(f"| {kind.value} | {row[0]} | {row[1]} | {row[2]} |")
    return rows


def _changes(changes: list[Mapping[str, Any]], budget: int) -> tuple[str, int]:
    """As many changes as fit in `budget` bytes, grouped; returns the text and how many."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for c in changes:
        groups.setdefault(str(c.get("group") or c.get("address")), []).append(c)
    out: list[str] = ["#### Changes", ""] if changes else []
    used = sum(_size(line) for line in out)
    shown = 0
    for name in sorted(groups):
        members = groups[name]
        opening = [
            f"<details><summary>{_group_title(name, members)}</summary>",
            "",
            "```diff",
        ]
        closing = ["```", "", "</details>", ""]
        fixed = sum(_size(line) for line in opening + closing)
        blocks: list[str] = []
        size = fixed
        count = 0
        for change in members:
            block = _block(change)
            block_size = sum(_size(line) for line in block)
            if used + size + block_size > budget:
                break
            blocks += block
            size += block_size
            count += 1
        if count:
            out += opening + blocks + closing
            used += size
            shown += count
        if count < len(members):
            break
    return "\n".join(out), shown


def _group_title(name: str, members: list[Mapping[str, Any]]) -> str:
    add = sum("create" in rc.actions_of(c) for c in members)
    change = sum(rc.actions_of(c) == ("update",) for c in members)
    destroy = sum("delete" in rc.actions_of(c) for c in members)
    parts = [
        f"{n} to {verb}"
        for n, verb in ((add, "add"), (change, "change"), (destroy, "destroy"))
        if n
    ]
    return f"<code>{html.escape(rc.one_line(name))}</code>: {', '.join(parts)}"


def _block(change: Mapping[str, Any]) -> list[str]:
    actions = rc.actions_of(change)
    address = rc.one_line(str(change.get("address")))
    lines = [
        f"# {address} {rc.PHRASES.get(actions, 'will change')} ({change.get('reason')})",
        f"{_DIFF_SIGNS.get(rc.symbol(change), rc.symbol(change))} {address}",
    ]
    attrs = rc.attribute_lines(change)
    width = max((len(name) for _, name, _ in attrs), default=0)
    lines += [
        f"{_DIFF_SIGNS.get(sign, sign)}     {name.ljust(width)} = {text}"
        for sign, name, text in attrs
    ]
    note = rc.waits_note(change)
    if note:
        lines.append(f"      {note}")
    statements = rc.tsql(change)
    if statements:
        lines += [
            "      T-SQL:",
            *(f"        {rc.one_line(statement)}" for statement in statements),
        ]
    return lines


def _meta(data: Mapping[str, Any]) -> str:
    target = data.get("target") or {}
    subs = ", ".join(_code(s) for s in target.get("subscriptions") or ()) or "none"
    return (
        f"<sub>identity-reconciler {_text(data.get('tool_version'))} · cloud "
        f"{_code(target.get('cloud'))} · tenant {_code(target.get('tenant_id') or 'unknown')} · "
        f"subscriptions {subs} · specs {_code(data.get('spec_digest') or 'unknown')} · plan "
        f"{_code(data.get('checksum'))} · {_text(data.get('created_at'))}</sub>\n"
    )
