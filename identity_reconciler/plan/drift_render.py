"""Views of a drift report: text for a terminal, markdown for a GitHub issue, JSON for tools.

Drift uses the signs of the plan that fixes it: `+` missing (the specs declare it, live has
none), `-` extra (ours and live, no spec declares it), `~` changed, `!` not owned or unmanaged
(live but not ours: never deleted), `=` acknowledged (accepted by the specs until a date).
The markdown is an issue body a nightly job can open or update: a stable title line, counts,
then each difference; it stays under GitHub's 65,536-character limit, saying what it left out.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import Any

from identity_reconciler.core.text import visible, visible_lines
from identity_reconciler.core.words import count
from identity_reconciler.plan.drift import Drift, DriftReport

MAX_BYTES = 65_536
_RESERVE = 800
NO_DRIFT = "No drift: live Azure matches the specs."
_LABELS = {d.value: d.label for d in Drift}
_SYMBOL = {d.value: d.symbol for d in Drift}


def _data(report: DriftReport | Mapping[str, Any]) -> Mapping[str, Any]:
    return report.to_dict() if isinstance(report, DriftReport) else report


def headline(data: Mapping[str, Any]) -> str:
    items = [
        i for i in data.get("items") or () if i.get("drift") != Drift.ACKNOWLEDGED.value
    ]
    if not items:
        acknowledged = len(data.get("items") or ())
        return NO_DRIFT + (f" ({acknowledged} acknowledged)" if acknowledged else "")
    fixable = int(data.get("fixable") or 0)
    return (
        f"Drift: live Azure differs from the specs in {count(len(items), 'place')}; "
        f"{fixable} can be corrected with drift --fix."
    )


def tally(data: Mapping[str, Any]) -> str:
    counts = data.get("counts") or {}
    return ", ".join(
        f"{counts.get(k, 0)} {label}" for k, label in _LABELS.items() if counts.get(k, 0)
    )


def _located(d: Mapping[str, Any]) -> str:
    where = d.get("source") or d.get("address")
    return f"{where}: {d.get('message')}" if where else str(d.get("message"))


def render_drift_text(report: DriftReport | Mapping[str, Any]) -> str:
    data = _data(report)
    out = [headline(data), ""]
    for item in data.get("items") or ():
        out.append(f"  {_SYMBOL.get(item['drift'], '?')} {item['address']}")
        out.append(f"      {item['summary']}")
        out += [f"        {line}" for line in item.get("details") or ()]
        if not item.get("fixable"):
            out.append(f"      not fixed by --fix: {item.get('why_not')}")
        if item.get("source"):
            out.append(f"      declared at {item['source']}")
    if data.get("items"):
        out.append("")
    notices = list(data.get("notices") or ())
    if notices:
        out.append("Notices:")
        out += [f"  ! {_located(n)}" for n in notices]
        out.append("")
    errors = list(data.get("errors") or ())
    if errors:
        out.append("Errors (the specs and live state cannot be fully compared):")
        out += [f"  Error: {_located(e)}" for e in errors]
        out.append("")
    if data.get("items"):
        out.append(f"Drift: {tally(data)}.")
    return visible_lines("\n".join(out).rstrip("\n")) + "\n"


def render_drift_json(report: DriftReport | Mapping[str, Any]) -> str:
    return json.dumps(_data(report), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _size(lines: list[str]) -> int:
    return sum(len(line.encode("utf-8")) + 1 for line in lines)


def _esc(text: object) -> str:
    return html.escape(visible(str(text).replace("\n", " "))).replace("|", "\\|")


def _block(item: Mapping[str, Any]) -> list[str]:
    # GitHub's diff highlighting colours `+` and `-` lines, and `!` lines as changed.
    symbol = _SYMBOL.get(item["drift"], "?")
    sign = {"~": "!", "=": " "}.get(symbol, symbol)
    lines = [f"{sign} {item['address']}", f"#   {item['summary']}"]
    lines += [f"#     {line}" for line in item.get("details") or ()]
    if not item.get("fixable"):
        lines.append(f"#   not fixed by --fix: {item.get('why_not')}")
    return [visible(line.replace("\n", " ")) for line in lines]


def render_drift_markdown(
    report: DriftReport | Mapping[str, Any], *, max_bytes: int = MAX_BYTES
) -> str:
    """A GitHub issue body: title line, counts, a table, and the details in a diff block."""
    data = _data(report)
    items = list(data.get("items") or ())
    target = data.get("target") or {}
    subs = ", ".join(f"`{s}`" for s in target.get("subscriptions") or ()) or "none"
    differences = sum(1 for i in items if i.get("drift") != Drift.ACKNOWLEDGED.value)
    head = [f"### identity-reconciler drift: {count(differences, 'difference')}", ""]
    if not differences:
        head += [f"**{headline(data)}**", ""]
    else:
        head += [f"**{headline(data)}**", "", f"{tally(data)}.", ""]
    errors = list(data.get("errors") or ())
    if errors:
        incomplete = f"> **{count(len(errors), 'error')}: the comparison is incomplete.**"
        head += ["> [!WARNING]", incomplete]
        head += [f"> - {_esc(_located(e))}" for e in errors[:50]]
        head.append("")
    tail = [
        f"<sub>cloud `{target.get('cloud')}` · tenant `{target.get('tenant_id') or 'unknown'}` · "
        f"subscriptions {subs} · specs `{data.get('spec_digest') or 'unknown'}` · "
        f"{data.get('created_at')}</sub>",
    ]
    budget = max_bytes - _size(head) - _size(tail) - _RESERVE
    body: list[str] = []
    shown = 0
    if items:
        table = ["| | Address | Drift | --fix |", "|:-:|:--|:--|:-:|"]
        details = ["<details><summary>Details</summary>", "", "```diff"]
        closing = ["```", "", "</details>", ""]
        for item in items:
            row = (
                f"| {_esc(_SYMBOL.get(item['drift'], '?'))} | `{_esc(item['address'])}` | "
                f"{_esc(item['summary'])} | {'yes' if item.get('fixable') else 'no'} |"
            )
            block = _block(item)
            if _size(table + details + closing + [row] + block) > budget:
                break
            table.append(row)
            details += block
            shown += 1
        body = [*table, "", *details, *closing]
    if shown < len(items):
        body += [
            f"> [!NOTE]\n> {len(items) - shown} of {count(len(items), 'difference')} "
            f"{'is' if len(items) - shown == 1 else 'are'} not shown to "
            f"keep this under {max_bytes // 1024} KB; run `drift --format json` for all of them.",
            "",
        ]
    return "\n".join(head + body + tail) + "\n"
