"""Run a dependency graph with bounded concurrency; a failure stops only what depends on it.

Independent writes run side by side (`parallelism` workers, default 10): an apply of a few
hundred grants should not take a few hundred round trips. A node starts when every node it
needs has succeeded and no other node of its lane is running. When a node fails, everything
that depends on it, directly or not, is skipped with the reason; everything else carries on,
so one bad grant does not leave the rest of the estate unapplied. The action itself is a
plain function, so this module knows nothing of ARM and is tested with fakes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from identity_reconciler.apply.graph import Graph, Node

DEFAULT_PARALLELISM = 10

# fn(node, results of the nodes it needs) -> result; raising fails the node.
Action = Callable[[Node, Mapping[str, Any]], Any]


class Status(StrEnum):
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Outcome:
    address: str
    status: Status
    result: Any = None
    error: BaseException | None = None
    reason: str | None = None  # why skipped
    seconds: float = 0.0


@dataclass
class Events:
    """Progress callbacks, always called from the thread that runs `execute`."""

    started: Callable[[Node], None] = lambda _node: None
    finished: Callable[[Node, Outcome], None] = lambda _node, _outcome: None


@dataclass
class _Run:
    graph: Graph
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    running: dict[Future[Any], tuple[Node, float]] = field(default_factory=dict)
    busy_lanes: set[str] = field(default_factory=set)
    pending: list[Node] = field(default_factory=list)


def execute(
    graph: Graph,
    action: Action,
    *,
    parallelism: int = DEFAULT_PARALLELISM,
    events: Events | None = None,
    cancel: threading.Event | None = None,
    limit: Callable[[], int] | None = None,
) -> dict[str, Outcome]:
    """Run every node of `graph`; returns each address's outcome (in topological order).

    Setting `cancel` (or Ctrl-C in this thread) starts nothing new: running nodes finish
    (their waits are expected to watch the same event), the rest are skipped as interrupted,
    and a KeyboardInterrupt is re-raised after the outcomes are recorded in `partial`.
    `limit()`, when given, is asked before each start how many nodes may run at once (at most
    `parallelism`, the pool's size): apply's limit follows ARM's write budget.
    """
    events = events or Events()
    cancel = cancel or threading.Event()
    run = _Run(graph, pending=graph.ordered())
    interrupted: KeyboardInterrupt | None = None
    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        while run.pending or run.running:
            try:
                if not cancel.is_set():
                    cap = max(1, parallelism)
                    now = cap if limit is None else max(1, min(cap, limit()))
                    _start_ready(run, pool, action, events, now)
                if not run.running:
                    break  # nothing can start: done, interrupted, or (never) unorderable
                done, _ = wait(list(run.running), return_when=FIRST_COMPLETED)
                for fut in done:
                    _finish(run, fut, events)
            except KeyboardInterrupt as exc:
                interrupted = exc
                cancel.set()
        why = "interrupted" if cancel.is_set() else "could not be ordered"
        for node in run.pending:
            _record(run, node, Outcome(node.address, Status.SKIPPED, reason=why), events)
    ordered = {a: run.outcomes[a] for a in (n.address for n in graph.ordered())}
    if interrupted is not None:
        raise Interrupted(ordered) from interrupted
    return ordered


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a run; `outcomes` says what was done before it stopped."""

    def __init__(self, outcomes: dict[str, Outcome]) -> None:
        super().__init__("interrupted")
        self.outcomes = outcomes


def _record(run: _Run, node: Node, outcome: Outcome, events: Events) -> None:
    run.outcomes[node.address] = outcome
    events.finished(node, outcome)


def _blocker(run: _Run, node: Node) -> Outcome | None:
    for need in sorted(node.needs, key=lambda a: run.graph.nodes[a].order):
        got = run.outcomes.get(need)
        if got is not None and got.status is not Status.DONE:
            return got
    return None


def _start_ready(
    run: _Run, pool: ThreadPoolExecutor, action: Action, events: Events, limit: int
) -> None:
    """Skip what can never run; start what can, in plan order, up to the limit."""
    progressed = True
    while progressed:
        progressed = False
        still: list[Node] = []
        for node in run.pending:
            blocker = _blocker(run, node)
            if blocker is not None:
                why = "failed" if blocker.status is Status.FAILED else "was skipped"
                reason = f"depends on {blocker.address}, which {why}"
                _record(run, node, Outcome(node.address, Status.SKIPPED, reason=reason), events)
                progressed = True
                continue
            ready = all(need in run.outcomes for need in node.needs)
            free = node.lane is None or node.lane not in run.busy_lanes
            if ready and free and len(run.running) < limit:
                results = {need: run.outcomes[need].result for need in node.needs}
                if node.lane is not None:
                    run.busy_lanes.add(node.lane)
                events.started(node)
                run.running[pool.submit(action, node, results)] = (node, time.monotonic())
                continue
            still.append(node)
        run.pending = still


def _finish(run: _Run, fut: Future[Any], events: Events) -> None:
    node, began = run.running.pop(fut)
    if node.lane is not None:
        run.busy_lanes.discard(node.lane)
    seconds = time.monotonic() - began
    exc = fut.exception()
    if exc is None:
        outcome = Outcome(node.address, Status.DONE, result=fut.result(), seconds=seconds)
    else:
        outcome = Outcome(node.address, Status.FAILED, error=exc, seconds=seconds)
    _record(run, node, outcome, events)
