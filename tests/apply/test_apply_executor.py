"""The executor with fake actions: bounded concurrency, lanes, failures stop only dependents."""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections.abc import Mapping
from typing import Any

import pytest
from apply_factories import attachment, credential, grant, identity, system_switch

import identity_reconciler.apply.executor as executor_module
from identity_reconciler.apply.executor import Events, Interrupted, Status, execute
from identity_reconciler.apply.graph import Node, build_graph


class Recorder:
    """A fake action: records concurrency and order; fails the addresses it is told to."""

    def __init__(self, fail: set[str] | None = None, delay: float = 0.0) -> None:
        self.fail = fail or set()
        self.delay = delay
        self.lock = threading.Lock()
        self.active = 0
        self.peak = 0
        self.lanes_active: dict[str, int] = {}
        self.lane_peak = 0
        self.order: list[str] = []
        self.seen_needs: dict[str, Mapping[str, Any]] = {}

    def __call__(self, node: Node, needed: Mapping[str, Any]) -> str:
        with self.lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
            if node.lane:
                self.lanes_active[node.lane] = self.lanes_active.get(node.lane, 0) + 1
                self.lane_peak = max(self.lane_peak, self.lanes_active[node.lane])
            self.order.append(node.address)
            self.seen_needs[node.address] = dict(needed)
        try:
            time.sleep(self.delay)
            if node.address in self.fail:
                raise RuntimeError(f"boom: {node.address}")
            return f"result of {node.address}"
        finally:
            with self.lock:
                self.active -= 1
                if node.lane:
                    self.lanes_active[node.lane] -= 1


def test_parallelism_is_bounded_and_everything_runs() -> None:
    graph = build_graph([identity(f"id-{i}") for i in range(30)])
    action = Recorder(delay=0.01)
    outcomes = execute(graph, action, parallelism=4)
    assert all(o.status is Status.DONE for o in outcomes.values())
    assert 2 <= action.peak <= 4
    assert len(action.order) == 30


def test_dependencies_run_first_and_pass_their_results() -> None:
    ident = identity("id-a")
    g = grant("id-a", creator=ident.address)
    action = Recorder()
    outcomes = execute(build_graph([g, ident]), action, parallelism=5)
    assert action.order == [ident.address, g.address]
    assert action.seen_needs[g.address] == {ident.address: f"result of {ident.address}"}
    assert outcomes[g.address].result == f"result of {g.address}"


def test_a_failure_skips_only_what_depends_on_it() -> None:
    bad = identity("id-bad")
    bad_fic = credential("id-bad", "gh-main")
    bad_attach = attachment("app-a", "id-bad")
    bad_switch = system_switch("app-a", depends_on=(bad_attach.address,))
    bad_grant = grant("app-a", system=True, creator=bad_switch.address)
    good = identity("id-good")
    good_grant = grant("id-good", creator=good.address)
    other_switch = system_switch("func-b")
    graph = build_graph(
        [bad, bad_fic, bad_attach, bad_switch, bad_grant, good, good_grant, other_switch]
    )
    action = Recorder(fail={bad.address})
    outcomes = execute(graph, action, parallelism=3)

    assert outcomes[bad.address].status is Status.FAILED
    assert isinstance(outcomes[bad.address].error, RuntimeError)
    for skipped in (bad_fic, bad_attach, bad_switch, bad_grant):
        assert outcomes[skipped.address].status is Status.SKIPPED
        assert skipped.address not in action.order  # never started
    assert outcomes[bad_fic.address].reason == f"depends on {bad.address}, which failed"
    assert outcomes[bad_switch.address].reason == (
        f"depends on {bad_attach.address}, which was skipped"
    )
    for ok in (good, good_grant, other_switch):
        assert outcomes[ok.address].status is Status.DONE


def test_lanes_never_overlap_but_do_not_skip_on_failure() -> None:
    fics = [credential("id-a", f"cred{i}") for i in range(6)]
    graph = build_graph(fics)
    action = Recorder(fail={fics[1].address}, delay=0.01)
    outcomes = execute(graph, action, parallelism=6)
    assert action.lane_peak == 1
    assert [o.status for o in outcomes.values()].count(Status.FAILED) == 1
    assert [o.status for o in outcomes.values()].count(Status.DONE) == 5


def test_events_are_reported_for_every_node() -> None:
    ident = identity("id-a")
    fic = credential("id-a", "gh-main")
    started: list[str] = []
    finished: list[tuple[str, Status]] = []
    events = Events(
        started=lambda n: started.append(n.address),
        finished=lambda n, o: finished.append((n.address, o.status)),
    )
    execute(build_graph([ident, fic]), Recorder(fail={ident.address}), events=events)
    assert started == [ident.address]
    assert finished == [(ident.address, Status.FAILED), (fic.address, Status.SKIPPED)]


def test_cancel_starts_nothing_new_and_reports_the_rest_as_interrupted() -> None:
    cancel = threading.Event()
    changes = [identity(f"id-{i}") for i in range(10)]

    def action(node: Node, needed: Mapping[str, Any]) -> None:
        cancel.set()  # the first write "sees" Ctrl-C

    outcomes = execute(build_graph(changes), action, parallelism=1, cancel=cancel)
    statuses = [o.status for o in outcomes.values()]
    assert statuses[0] is Status.DONE
    assert statuses[1:] == [Status.SKIPPED] * 9
    assert {o.reason for o in list(outcomes.values())[1:]} == {"interrupted"}


def test_keyboard_interrupt_while_waiting_returns_partial_outcomes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    changes = [identity(f"id-{i}") for i in range(5)]
    calls = 0

    def action(node: Node, needed: Mapping[str, Any]) -> None:
        nonlocal calls
        calls += 1

    real_wait = concurrent.futures.wait
    interrupted = False

    def interrupting_wait(*args: Any, **kwargs: Any) -> Any:
        nonlocal interrupted
        result = real_wait(*args, **kwargs)
        if not interrupted:
            interrupted = True
            raise KeyboardInterrupt  # Ctrl-C once, while the first write is finishing
        return result

    monkeypatch.setattr(executor_module, "wait", interrupting_wait)
    with pytest.raises(Interrupted) as caught:
        execute(build_graph(changes), action, parallelism=1)
    outcomes = caught.value.outcomes
    assert calls == 1
    assert [o.status for o in outcomes.values()] == [Status.DONE] + [Status.SKIPPED] * 4
