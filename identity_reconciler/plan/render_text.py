"""The terminal view of a plan (`+ ~ - -/+`, Terraform's footer), optionally coloured.

The caller decides colour (TTY, NO_COLOR); this module only honours the flag it is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from identity_reconciler.core.words import count
from identity_reconciler.plan import render_common as rc
from identity_reconciler.plan.model import Plan

RESET = "\x1b[0m"
BOLD = "\x1b[1m"
RED = "\x1b[31m"
GREEN = "\x1b[32m"
YELLOW = "\x1b[33m"
CYAN = "\x1b[36m"
SIGN_COLOURS = {"+": GREEN, "~": YELLOW, "-": RED}


class _Paint:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, *codes: str) -> str:
        if not self.enabled or not codes:
            return text
        return "".join(codes) + text + RESET

    def sign(self, sign: str) -> str:
        if sign == "-/+":
            return self("-", RED) + "/" + self("+", GREEN)
        return self(sign, SIGN_COLOURS.get(sign, ""))


def render_text(plan: Plan | Mapping[str, Any], *, color: bool = False) -> str:
    data = rc.as_data(plan)
    paint = _Paint(color)
    out: list[str] = []
    changes = list(data.get("changes") or ())
    if changes:
        out.append("identity-reconciler will perform the following actions:")
        out.append("")
        for change in changes:
            out.extend(_change(change, paint))
            out.append("")
    notices = list(data.get("notices") or ())
    if notices:
        out.append(paint("Notices:", BOLD))
        out.extend(f"  {paint('!', CYAN)} {rc.located(n)}" for n in notices)
        out.append("")
    errors = list(data.get("errors") or ())
    if errors:
        out.append(paint("Errors:", BOLD, RED))
        out.extend(f"  {paint('Error:', RED)} {rc.located(e)}" for e in errors)
        out.append("")
    violations = list((data.get("safety") or {}).get("violations") or ())
    if violations:
        out.append(paint("Unsafe plan: apply refuses it unless forced.", BOLD, RED))
        out.extend(
            f"  - {rc.one_line(str(v.get('message')))} (pass {v.get('flag')})" for v in violations
        )
        flags = sorted({str(v.get("flag")) for v in violations})
        out.append(f"  To apply it anyway: {' '.join(flags)}")
        out.append("")
    if errors:
        has = count(len(errors), "error")
        out.append(paint(f"Plan has {has}; fix them before apply.", BOLD, RED))
    if changes:
        out.append(paint(rc.footer(data.get("summary") or {}), BOLD))
    elif not errors:
        out.append(paint(rc.NO_CHANGES, GREEN))
    return "\n".join(out) + "\n"


def _change(change: Mapping[str, Any], paint: _Paint) -> list[str]:
    actions = rc.actions_of(change)
    address = rc.one_line(str(change.get("address")))
    phrase = rc.PHRASES.get(actions, "will change")
    lines = [
        paint(f"  # {address} {phrase} ({change.get('reason')})", BOLD),
        f"  {paint.sign(rc.symbol(change))} {address}",
    ]
    for sign, name, text in _split(rc.attribute_lines(change)):
        lines.append(f"      {paint.sign(sign)} {name} = {text}")
    note = rc.waits_note(change)
    if note:
        lines.append(f"      {note}")
    statements = rc.tsql(change)
    if statements:
        lines.append("      T-SQL:")
        lines.extend(f"        {rc.one_line(statement)}" for statement in statements)
    return lines


def _split(lines: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    width = max((len(name) for _, name, _ in lines), default=0)
    return [(sign, name.ljust(width), text) for sign, name, text in lines]
