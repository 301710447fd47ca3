"""The summary and the progress lines: every change once, failures with code and request id."""

from __future__ import annotations

import io
import json

from apply_factories import credential, grant, identity

from identity_reconciler.apply.engine import Done, PartiallyApplied
from identity_reconciler.apply.executor import Outcome, Status
from identity_reconciler.apply.graph import Graph, build_graph
from identity_reconciler.apply.progress import Progress
from identity_reconciler.apply.report import (
    failure_of,
    render_summary_json,
    render_summary_text,
    report_of,
)
from identity_reconciler.apply.stale import Stale, StaleChange
from identity_reconciler.azure.errors import BadRequest, ServerError

IDENT = identity("id-a")
FIC = credential("id-a", "gh")
GRANT = grant("id-b", principal_id="0c5b5b56-8f0c-4f67-9b0b-5a7c4d2b1f10")
ERROR = BadRequest(400, "InvalidRequestContent", "bad body", request_id="req-123")


def _result() -> tuple[Graph, dict[str, Outcome]]:
    graph = build_graph([IDENT, FIC, GRANT])
    outcomes = {
        IDENT.address: Outcome(IDENT.address, Status.FAILED, error=ERROR, seconds=0.2),
        FIC.address: Outcome(
            FIC.address, Status.SKIPPED, reason=f"depends on {IDENT.address}, which failed"
        ),
        GRANT.address: Outcome(
            GRANT.address,
            Status.DONE,
            result=Done(notes=("exists as role assignment legacy",)),
            seconds=0.1,
        ),
    }
    return graph, outcomes


def test_text_summary_names_failures_skips_and_notes() -> None:
    graph, outcomes = _result()
    result = report_of(graph, outcomes, seconds=1.5, requests=9, retries=2)
    text = render_summary_text(result)
    assert f"  ! {IDENT.address}\n      400 InvalidRequestContent: bad body" in text
    assert "(x-ms-request-id: req-123)" in text
    assert f"  - {FIC.address}: depends on {IDENT.address}, which failed" in text
    assert "exists as role assignment legacy" in text
    assert text.endswith(
        "Apply failed: 1 done, 1 failed, 1 skipped (1.5 s, 9 ARM requests, 2 retries).\n"
        "Fix the failures, then run plan and apply again: a re-run converges.\n"
    )
    assert not result.ok


def test_json_summary_lists_every_change_once() -> None:
    graph, outcomes = _result()
    data = json.loads(render_summary_json(report_of(graph, outcomes, seconds=1, requests=9)))
    assert data["counts"] == {"done": 1, "failed": 1, "skipped": 1}
    assert [a["address"] for a in data["actions"]] == [IDENT.address, FIC.address, GRANT.address]
    assert data["actions"][0]["error"] == {
        "code": "InvalidRequestContent",
        "message": "bad body",
        "status": 400,
        "request_id": "req-123",
    }


def test_failure_of_partial_and_stale_changes() -> None:
    partial = failure_of(
        PartiallyApplied(ServerError(503, "ServiceUnavailable", "busy"), ["DELETE"])
    )
    assert partial.code == "ServiceUnavailable"
    assert partial.message == "busy (after DELETE succeeded)"
    stale = failure_of(StaleChange(Stale("grant.x", "/id", "sha256:a", "sha256:b")))
    assert stale.code == "PlanStale"
    assert stale.message.startswith("plan is stale: re-run plan — grant.x (/id)")


def test_progress_prints_one_line_per_change_without_a_terminal() -> None:
    graph, outcomes = _result()
    stream = io.StringIO()
    progress = Progress(stream, 3, tty=False)
    for address in (IDENT.address, FIC.address, GRANT.address):
        node = graph.nodes[address]
        progress.started(node)
        progress.finished(node, outcomes[address])
    progress.waiting(GRANT.address, "throttled (429): waiting 1.0 s as ARM asked", 1.0)
    progress.waiting(GRANT.address, "503 ServiceUnavailable: retrying in 2.0 s", 2.0)
    progress.close()
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith(f"  FAILED   {IDENT.address}: 400 InvalidRequestContent")
    assert lines[1] == f"  skipped  {FIC.address}: depends on {IDENT.address}, which failed"
    assert lines[2].startswith(f"  done     {GRANT.address} (0.1 s)")
    assert lines[3] == f"  wait     {GRANT.address}: 503 ServiceUnavailable: retrying in 2.0 s"
    assert lines[4] == "  (ARM throttled 1 write; each was retried)"
    assert "\r" not in stream.getvalue()


def test_progress_on_a_terminal_redraws_one_counter() -> None:
    graph, outcomes = _result()
    stream = io.StringIO()
    progress = Progress(stream, 3, tty=True)
    node = graph.nodes[GRANT.address]
    progress.started(node)
    progress.finished(node, outcomes[GRANT.address])
    progress.close()
    text = stream.getvalue()
    assert "\r\x1b[2K[1/3] 1 done, 0 failed, 0 skipped, 0 running" in text
    assert "  done " not in text  # successes only count; failures would print in full
    assert text.endswith("\n")
