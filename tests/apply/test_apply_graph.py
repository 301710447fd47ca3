"""The dependency graph: the plan's order, ARM's order, lanes, and plans that cannot be ordered."""

from __future__ import annotations

import pytest
from apply_factories import (
    attachment,
    credential,
    grant,
    identity,
    system_switch,
)

from identity_reconciler.apply.graph import GraphError, build_graph, closure


def _position(order: list[str]) -> dict[str, int]:
    return {a: i for i, a in enumerate(order)}


def test_identity_before_its_credentials_attachments_and_grants_even_without_depends_on() -> None:
    ident = identity("id-a")
    fic = credential("id-a", "gh-main")
    attach = attachment("app-a", "id-a")
    g = grant("id-a", creator=ident.address)
    graph = build_graph([g, attach, fic, ident])  # plan order scrambled, no depends_on given
    assert graph.nodes[fic.address].needs == {ident.address}
    assert graph.nodes[attach.address].needs == {ident.address}
    assert graph.nodes[g.address].needs == {ident.address}
    pos = _position([n.address for n in graph.ordered()])
    assert pos[ident.address] < min(pos[fic.address], pos[attach.address], pos[g.address])


def test_system_identity_before_its_grants() -> None:
    switch = system_switch("func-a")
    g = grant("func-a", system=True, creator=None)  # principal.address missing: implied anyway
    graph = build_graph([g, switch])
    assert graph.nodes[g.address].needs == {switch.address}


def test_plan_dependencies_are_kept() -> None:
    a = attachment("app-a", "id-old")
    switch = system_switch("app-a", depends_on=(a.address,))
    graph = build_graph([switch, a])
    assert graph.nodes[switch.address].needs == {a.address}
    assert [n.address for n in graph.ordered()] == [a.address, switch.address]


def test_grant_deletes_go_before_the_delete_of_their_identity() -> None:
    gone = identity("id-gone", actions=("delete",))
    g1 = grant("id-gone", actions=("delete",), suffix="1")
    g2 = grant("id-gone", actions=("delete",), suffix="2")
    other = grant("id-other", actions=("delete",))
    graph = build_graph([gone, g1, g2, other])
    assert graph.nodes[gone.address].needs == {g1.address, g2.address}
    assert graph.nodes[other.address].needs == frozenset()


def test_replaced_identity_waits_for_its_old_grants_and_new_grants_wait_for_it() -> None:
    ident = identity("id-r", actions=("delete", "create"))
    old = grant("id-r", actions=("delete",), suffix="old")
    new = grant("id-r", creator=ident.address, suffix="new")
    graph = build_graph([ident, old, new])
    order = [n.address for n in graph.ordered()]
    assert order == [old.address, ident.address, new.address]


def test_lanes_serialise_credentials_of_one_identity_and_one_resource_block() -> None:
    f1, f2 = credential("id-a", "one"), credential("id-a", "two")
    f3 = credential("id-b", "one")
    a1, a2 = attachment("app-a", "id-a"), attachment("app-a", "id-b")
    s = system_switch("app-b")
    graph = build_graph([f1, f2, f3, a1, a2, s])
    lanes = {a: n.lane for a, n in graph.nodes.items()}
    assert lanes[f1.address] == lanes[f2.address] != lanes[f3.address]
    assert lanes[a1.address] == lanes[a2.address] != lanes[s.address]
    assert all(lane is not None for lane in lanes.values())
    # lanes are not dependencies: a failure of one does not skip the other
    assert graph.nodes[f2.address].needs == frozenset()


def test_unknown_dependency_is_refused() -> None:
    fic = credential("id-a", "x", depends_on=("identity.rg-app/id-nowhere",))
    with pytest.raises(GraphError, match="id-nowhere, which the plan does not contain"):
        build_graph([fic])


def test_cycle_is_refused() -> None:
    a = attachment("app-a", "id-x", depends_on=("system_assigned.rg-app/sites/app-a",))
    s = system_switch("app-a", depends_on=(a.address,))
    with pytest.raises(GraphError, match="cycle"):
        build_graph([a, s])


def test_duplicate_address_is_refused() -> None:
    with pytest.raises(GraphError, match="twice"):
        build_graph([identity("id-a"), identity("id-a")])


def test_closure_follows_dependencies_transitively() -> None:
    ident = identity("id-a")
    attach = attachment("app-a", "id-a")
    switch = system_switch("app-a", depends_on=(attach.address,))
    g = grant("app-a", system=True, creator=switch.address)
    unrelated = identity("id-b")
    graph = build_graph([ident, attach, switch, g, unrelated])
    assert closure(graph, [ident.address]) == {attach.address, switch.address, g.address}


def test_large_plan_orders_quickly() -> None:
    changes = [identity(f"id-{i}") for i in range(300)]
    changes += [grant(f"id-{i}", creator=f"identity.rg-app/id-{i}") for i in range(300)]
    graph = build_graph(changes)
    order = [n.address for n in graph.ordered()]
    assert order[:300] == [c.address for c in changes[:300]]
