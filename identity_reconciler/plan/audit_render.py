"""Views of an audit: text for a terminal, markdown for an issue or a job summary, JSON for tools.

All three draw from `AuditReport.to_dict()`, so they cannot disagree. Markdown stays under
GitHub's 65,536-character limit: findings first (they are what to act on), then as much of the
identity inventory as fits, with a note saying what was left out.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import Any

from identity_reconciler.core.text import visible, visible_lines
from identity_reconciler.core.words import count
from identity_reconciler.plan.audit import AuditReport

MAX_BYTES = 65_536
_RESERVE = 800


def _data(report: AuditReport | Mapping[str, Any]) -> Mapping[str, Any]:
    return report.to_dict() if isinstance(report, AuditReport) else report


def _tally(data: Mapping[str, Any]) -> str:
    counts = data.get("counts") or {}
    total = sum(int(v) for v in counts.values())
    return (
        f"{count(total, 'finding')}: {count(counts.get('error', 0), 'error')}, "
        f"{count(counts.get('warning', 0), 'warning')}"
        f"warnings, {counts.get('info', 0)} info"
    )


def _headline(data: Mapping[str, Any]) -> str:
    subs = list(data.get("subscriptions") or ())
    identities = list(data.get("identities") or ())
    grants = sum(len(i.get("grants") or ()) for i in identities)
    return (
        f"{count(len(identities), 'managed identity')} with {count(grants, 'grant')} in "
        f"{count(len(subs), 'subscription')} ({', '.join(subs)})"
    )


def _identity_title(ident: Mapping[str, Any]) -> str:
    kind = "user-assigned" if ident.get("kind") == "user_assigned" else "system-assigned"
    owned = ", owned" if ident.get("owned") else ""
    return f"{ident.get('address')} ({kind}{owned}, principal {ident.get('principal_id')})"


def _grant_line(grant: Mapping[str, Any]) -> str:
    owned = " [owned]" if grant.get("owned") else ""
    return f"{grant.get('role')} on {grant.get('at') or grant.get('scope')}{owned}"


def render_audit_text(report: AuditReport | Mapping[str, Any]) -> str:
    data = _data(report)
    out = [f"Audit: {_headline(data)}.", f"Naming pattern: {data.get('naming')}", ""]
    identities = list(data.get("identities") or ())
    if identities:
        out.append("Identities:")
        for ident in identities:
            out.append(f"  {_identity_title(ident)}")
            grants = list(ident.get("grants") or ())
            out += [f"      {_grant_line(g)}" for g in grants] or ["      (no grants)"]
        out.append("")
    findings = list(data.get("findings") or ())
    if findings:
        out.append("Findings:")
        for f in findings:
            out.append(f"  {f.get('severity'):<7} {f.get('id')} {f.get('rule')}: {f.get('object')}")
            out.append(f"          {f.get('message')}")
        out.append("")
    out.append(_tally(data) + ".")
    return visible_lines("\n".join(out)) + "\n"


def render_audit_json(report: AuditReport | Mapping[str, Any]) -> str:
    return json.dumps(_data(report), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _size(lines: list[str]) -> int:
    return sum(len(line.encode("utf-8")) + 1 for line in lines)


def _cell(text: object) -> str:
    return html.escape(visible(str(text).replace("\n", " "))).replace("|", "\\|")


def render_audit_markdown(
    report: AuditReport | Mapping[str, Any], *, max_bytes: int = MAX_BYTES
) -> str:
    data = _data(report)
    head = ["### identity-reconciler audit", "", f"{_headline(data)}.", "", f"**{_tally(data)}**"]
    budget = max_bytes - _size(head) - _RESERVE
    body: list[str] = []
    left_out = 0
    findings = list(data.get("findings") or ())
    if findings:
        body += ["", "| Severity | Rule | Object | Message |", "|:--|:--|:--|:--|"]
        for f in findings:
            row = (
                f"| {_cell(f.get('severity'))} | {_cell(f.get('id'))} {_cell(f.get('rule'))} "
                f"| `{_cell(f.get('object'))}` | {_cell(f.get('message'))} |"
            )
            if _size([*body, row]) > budget:
                left_out += 1
                continue
            body.append(row)
    identities = list(data.get("identities") or ())
    if identities:
        block = ["", "<details><summary>Identities and their grants</summary>", ""]
        for ident in identities:
            lines = [f"- `{_cell(_identity_title(ident))}`"]
            grants = list(ident.get("grants") or ())
            lines += [f"  - {_cell(_grant_line(g))}" for g in grants] or ["  - (no grants)"]
            if _size(body + block + lines) > budget:
                left_out += 1
                continue
            block += lines
        body += [*block, "", "</details>"]
    tail: list[str] = []
    if left_out:
        tail = [
            "",
            f"> [!NOTE]\n> {count(left_out, 'entry')} {'is' if left_out == 1 else 'are'} "
            "not shown to keep this under "
            f"{max_bytes // 1024} KB; run `audit --format json` for everything.",
        ]
    return "\n".join(head + body + tail) + "\n"
