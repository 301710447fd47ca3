"""Does a saved plan still say exactly what a fresh plan of the same specs says?

`apply PLAN --specs` plans again against live Azure and compares. Compared exactly: the target
(cloud, tenant, subscriptions), the spec digest, the options, and every change — address, kind,
actions, reason, id, before, after, live fingerprint, dependencies, principal and each
operation's method, id and body. Accepted differences, and why:

- `created_at`, `tool_version`, `live_requests`: when and by what the plan was made, and what
  it cost; none of them is applied;
- `summary`, `safety`, `checksum`: derived from the changes (apply re-derives safety itself);
- `notices`: explanations for the reviewer, never executed;
- a change's `source` (file:line of the spec): the specs' digest is compared, so the same
  bytes give the same lines.
"""

from __future__ import annotations

from typing import Any

from identity_reconciler.plan.model import Change, Plan


def differences(saved: Plan, fresh: Plan) -> list[str]:
    """What differs, one line each (empty: the saved plan is what these specs plan now)."""
    out: list[str] = []
    if fresh.has_errors:
        out.append(f"a fresh plan has {len(fresh.errors)} error(s)")
    for name in ("target", "spec_digest", "options"):
        if getattr(saved, name) != getattr(fresh, name):
            out.append(f"its {name.replace('_', ' ')} differs")
    mine = {c.address: c for c in saved.changes}
    theirs = {c.address: c for c in fresh.changes}
    for address in sorted(mine.keys() - theirs.keys()):
        out.append(f"{address} is not in a fresh plan")
    for address in sorted(theirs.keys() - mine.keys()):
        out.append(f"{address} is missing from the saved plan")
    for address in sorted(mine.keys() & theirs.keys()):
        fields = _diff(mine[address], theirs[address])
        if fields:
            out.append(f"{address}: {', '.join(fields)} differ")
    return out


def _diff(a: Change, b: Change) -> list[str]:
    left, right = _comparable(a), _comparable(b)
    return [k for k in sorted(left.keys() | right.keys()) if left.get(k) != right.get(k)]


def _comparable(change: Change) -> dict[str, Any]:
    data = change.model_dump(mode="json")
    data.pop("source", None)
    return data
