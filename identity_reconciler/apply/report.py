"""What apply did, change by change: the summary people and CI read, in text or JSON.

Honesty is the point: every change of the plan appears exactly once, as done, failed (with
ARM's error code, message and `x-ms-request-id`, which support needs) or skipped (with the
failure it waited on). A run that was interrupted says so.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from identity_reconciler.apply.executor import Outcome, Status
from identity_reconciler.apply.graph import Graph
from identity_reconciler.apply.retry import Cancelled
from identity_reconciler.azure.errors import ArmRequestError
from identity_reconciler.core.words import count


@dataclass(frozen=True)
class Failure:
    code: str
    message: str
    status: int = 0
    request_id: str | None = None

    def line(self) -> str:
        head = f"{self.status} {self.code}" if self.status else self.code
        text = f"{head}: {self.message}"
        return text + (f" (x-ms-request-id: {self.request_id})" if self.request_id else "")


@dataclass(frozen=True)
class ActionReport:
    address: str
    kind: str
    actions: tuple[str, ...]
    status: Status
    seconds: float = 0.0
    notes: tuple[str, ...] = ()
    failure: Failure | None = None
    reason: str | None = None  # why skipped
    principal_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "address": self.address,
            "kind": self.kind,
            "actions": list(self.actions),
            "status": self.status.value,
            "seconds": round(self.seconds, 3),
        }
        if self.notes:
            out["notes"] = list(self.notes)
        if self.principal_id:
            out["principal_id"] = self.principal_id
        if self.failure is not None:
            out["error"] = {
                "code": self.failure.code,
                "message": self.failure.message,
                "status": self.failure.status,
                "request_id": self.failure.request_id,
            }
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass(frozen=True)
class ApplyResult:
    actions: tuple[ActionReport, ...]
    seconds: float
    requests: int
    retries: int = 0
    throttled: int = 0
    paced: int = 0  # times the remaining-budget header closed the gate before a 429
    interrupted: bool = False

    def _with(self, status: Status) -> list[ActionReport]:
        return [a for a in self.actions if a.status is status]

    @property
    def done(self) -> list[ActionReport]:
        return self._with(Status.DONE)

    @property
    def failed(self) -> list[ActionReport]:
        return self._with(Status.FAILED)

    @property
    def skipped(self) -> list[ActionReport]:
        return self._with(Status.SKIPPED)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.skipped and not self.interrupted

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "interrupted": self.interrupted,
            "counts": {
                "done": len(self.done),
                "failed": len(self.failed),
                "skipped": len(self.skipped),
            },
            "seconds": round(self.seconds, 3),
            "requests": self.requests,
            "retries": self.retries,
            "throttled": self.throttled,
            "paced": self.paced,
            "actions": [a.to_dict() for a in self.actions],
        }


def failure_of(exc: BaseException) -> Failure:
    """ARM's code, message and request id, or the best available for anything else."""
    completed: list[str] = list(getattr(exc, "completed", []) or [])
    cause = getattr(exc, "cause", None)
    if isinstance(cause, BaseException):
        exc = cause
    suffix = f" (after {' and '.join(completed)} succeeded)" if completed else ""
    if isinstance(exc, ArmRequestError):
        return Failure(exc.code, exc.message + suffix, exc.status, exc.request_id)
    if isinstance(exc, Cancelled | KeyboardInterrupt):
        return Failure("Interrupted", "interrupted while waiting to retry" + suffix)
    code = str(getattr(exc, "code", "") or type(exc).__name__)
    return Failure(code, (str(exc) or type(exc).__name__) + suffix)


def report_of(
    graph: Graph,
    outcomes: Mapping[str, Outcome],
    *,
    seconds: float,
    requests: int,
    retries: int = 0,
    throttled: int = 0,
    paced: int = 0,
    interrupted: bool = False,
) -> ApplyResult:
    actions = []
    for node in sorted(graph.nodes.values(), key=lambda n: n.order):
        outcome = outcomes.get(node.address) or Outcome(
            node.address, Status.SKIPPED, reason="not started"
        )
        result = outcome.result
        actions.append(
            ActionReport(
                address=node.address,
                kind=node.change.kind.value,
                actions=tuple(node.change.actions),
                status=outcome.status,
                seconds=outcome.seconds,
                notes=tuple(getattr(result, "notes", ()) or ()),
                failure=failure_of(outcome.error) if outcome.error is not None else None,
                reason=outcome.reason,
                principal_id=getattr(result, "principal_id", None),
            )
        )
    return ApplyResult(
        actions=tuple(actions),
        seconds=seconds,
        requests=requests,
        retries=retries,
        throttled=throttled,
        paced=paced,
        interrupted=interrupted,
    )


def render_summary_text(result: ApplyResult) -> str:
    lines: list[str] = []
    if result.failed:
        lines.append("Failed:")
        for a in result.failed:
            lines.append(f"  ! {a.address}")
            if a.failure is not None:
                lines.append(f"      {a.failure.line()}")
    if result.skipped:
        lines.append("Skipped:")
        lines += [f"  - {a.address}: {a.reason}" for a in result.skipped]
    noted = [a for a in result.done if a.notes]
    if noted:
        lines.append("Notes:")
        lines += [f"  * {a.address}: {'; '.join(a.notes)}" for a in noted]
    counts = f"{len(result.done)} done, {len(result.failed)} failed, {len(result.skipped)} skipped"
    cost = (
        f"{result.seconds:.1f} s, {count(result.requests, 'ARM request')}, "
        f"{count(result.retries, 'retry')}"
    ) + (
        f", {result.throttled} throttled" if result.throttled else ""
    )
    if result.interrupted:
        lines.append(f"Apply interrupted: {counts} ({cost}).")
        lines.append("Run plan and apply again to finish: a re-run converges.")
    elif result.failed or result.skipped:
        lines.append(f"Apply failed: {counts} ({cost}).")
        lines.append("Fix the failures, then run plan and apply again: a re-run converges.")
    else:
        lines.append(f"Apply complete: {counts} ({cost}).")
    return "\n".join(lines) + "\n"


def render_summary_json(result: ApplyResult) -> str:
    return json.dumps(result.to_dict(), indent=2, sort_keys=True) + "\n"
