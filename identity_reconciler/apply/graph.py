"""The order apply writes in: a dependency graph over a plan's changes.

The plan records the dependencies it decided (`depends_on`, and the change that creates a
grant's principal). The graph adds what follows from ARM itself, so an older or hand-made plan
cannot write in a harmful order:

- an identity before its federated credentials and attachments, a principal before the grants
  that need it (a grant for a principal that does not exist yet fails);
- grant deletes before the delete of the identity they belong to (once the principal is gone,
  its assignments are orphans nobody can recognise);
- writes that ARM rejects when concurrent share a *lane*: the federated credentials of one
  identity, and every change to one resource's identity block (each is a PATCH of the same
  object). Lanes only serialise; unlike dependencies, a failure in a lane does not skip the rest.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from identity_reconciler.core import armid
from identity_reconciler.core.errors import UserError
from identity_reconciler.plan import KNOWN_AFTER_APPLY, Change, ChangeKind

# Changes written through ARM; the others (T-SQL) run against a database.
ARM_KINDS = frozenset(
    {
        ChangeKind.IDENTITY,
        ChangeKind.FEDERATED_CREDENTIAL,
        ChangeKind.ATTACHMENT,
        ChangeKind.SYSTEM_ASSIGNED,
        ChangeKind.GRANT,
    }
)


class GraphError(UserError):
    """The plan's dependencies cannot be ordered: unknown address or a cycle."""


@dataclass(frozen=True)
class Node:
    address: str
    change: Change
    needs: frozenset[str]  # addresses that must succeed first
    lane: str | None  # nodes sharing a lane never run at the same time
    order: int  # position in the plan: ties are broken in plan order


@dataclass(frozen=True)
class Graph:
    nodes: Mapping[str, Node]
    # address -> addresses that need it directly (derived from `nodes`)
    needed_by: Mapping[str, tuple[str, ...]]

    def __len__(self) -> int:
        return len(self.nodes)

    def dependents(self, address: str) -> tuple[str, ...]:
        """Addresses that need `address`, directly, in plan order."""
        return self.needed_by.get(address, ())

    def ordered(self) -> list[Node]:
        """A topological order (plan order among equals)."""
        return [self.nodes[a] for a in topological(self.nodes)]


def make_graph(nodes: Mapping[str, Node]) -> Graph:
    """A Graph over `nodes` (raises GraphError on a cycle or an unknown dependency)."""
    needed_by: dict[str, list[str]] = {}
    for node in sorted(nodes.values(), key=lambda n: n.order):
        for need in node.needs:
            if need not in nodes:
                raise GraphError(f"{node.address} depends on {need}, which is not in the graph")
            needed_by.setdefault(need, []).append(node.address)
    topological(nodes)
    return Graph(nodes, {k: tuple(v) for k, v in needed_by.items()})


def lane_of(change: Change) -> str | None:
    if change.kind is ChangeKind.FEDERATED_CREDENTIAL and change.id:
        parsed = armid.try_parse_id(change.id)
        parent = parsed.parent_identity if parsed is not None else None
        if parent is not None:
            return "credentials:" + armid.key(parent)
    if change.kind in (ChangeKind.ATTACHMENT, ChangeKind.SYSTEM_ASSIGNED) and change.id:
        return "identity-block:" + armid.key(change.id)
    if change.kind not in ARM_KINDS and change.id:  # T-SQL: one writer per database
        return "database:" + armid.key(change.id)
    return None


def _creators(changes: Sequence[Change]) -> dict[str, str]:
    """Key of an identity (or system-identity resource) -> address of the change creating it."""
    out: dict[str, str] = {}
    for c in changes:
        if "create" not in c.actions or not c.id:
            continue
        if c.kind is ChangeKind.IDENTITY:
            out["user_assigned:" + armid.key(c.id)] = c.address
        elif c.kind is ChangeKind.SYSTEM_ASSIGNED:
            out["system_assigned:" + armid.key(c.id)] = c.address
    return out


def _implied(change: Change, creators: Mapping[str, str]) -> set[str]:
    """Dependencies that follow from what the change touches, whatever the plan recorded."""
    needs: set[str] = set()
    if "create" in change.actions or change.actions == ("update",):
        if change.kind is ChangeKind.FEDERATED_CREDENTIAL and change.id:
            parsed = armid.try_parse_id(change.id)
            parent = parsed.parent_identity if parsed is not None else None
            if parent is not None:
                needs.add(creators.get("user_assigned:" + armid.key(parent), ""))
        if change.kind is ChangeKind.ATTACHMENT and change.after:
            ident = str(change.after.get("identity_id") or "")
            needs.add(creators.get("user_assigned:" + armid.key(ident), ""))
        if change.kind is ChangeKind.GRANT and change.principal is not None:
            p = change.principal
            if p.address:
                needs.add(p.address)
            elif p.principal_id == KNOWN_AFTER_APPLY:
                needs.add(creators.get(f"{p.kind}:{armid.key(p.id)}", ""))
    needs.discard("")
    needs.discard(change.address)
    return needs


def build_graph(changes: Sequence[Change]) -> Graph:
    """The graph of a plan's changes; GraphError when the plan's references do not resolve."""
    addresses = [c.address for c in changes]
    if len(set(addresses)) != len(addresses):
        dup = next(a for a in addresses if addresses.count(a) > 1)
        raise GraphError(f"the plan names {dup} twice")
    known = set(addresses)
    creators = _creators(changes)
    needs: dict[str, set[str]] = {}
    for change in changes:
        wanted = set(change.depends_on) | _implied(change, creators)
        unknown = sorted(wanted - known)
        if unknown:
            raise GraphError(
                f"{change.address} depends on {', '.join(unknown)}, which the plan does not "
                "contain; the plan file is inconsistent: run plan again"
            )
        needs[change.address] = wanted
    # Grants of an identity (or system identity) go before the identity does.
    by_group: dict[str, list[str]] = {}
    for change in changes:
        if change.kind is ChangeKind.GRANT and "delete" in change.actions:
            by_group.setdefault(change.group, []).append(change.address)
    for change in changes:
        if change.kind in (ChangeKind.IDENTITY, ChangeKind.SYSTEM_ASSIGNED) and (
            "delete" in change.actions
        ):
            for grant in by_group.get(change.group, ()):
                if change.address not in needs[grant]:
                    needs[change.address].add(grant)
    nodes = {
        c.address: Node(c.address, c, frozenset(needs[c.address]), lane_of(c), i)
        for i, c in enumerate(changes)
    }
    return make_graph(nodes)


def topological(nodes: Mapping[str, Node]) -> list[str]:
    """Kahn's algorithm; plan order among nodes that are ready together."""
    waiting = {a: len(n.needs) for a, n in nodes.items()}
    needed_by: dict[str, list[str]] = {}
    for node in nodes.values():
        for need in node.needs:
            needed_by.setdefault(need, []).append(node.address)
    ready = [(n.order, a) for a, n in nodes.items() if not n.needs]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, current = heapq.heappop(ready)
        order.append(current)
        for dependent in needed_by.get(current, ()):
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                heapq.heappush(ready, (nodes[dependent].order, dependent))
    if len(order) != len(nodes):
        stuck = sorted(set(nodes) - set(order))
        raise GraphError(f"the plan's dependencies form a cycle among {', '.join(stuck)}")
    return order


def closure(graph: Graph, roots: Iterable[str]) -> set[str]:
    """Everything that depends, directly or not, on any of `roots`."""
    out: set[str] = set()
    frontier = list(roots)
    while frontier:
        current = frontier.pop()
        for dependent in graph.dependents(current):
            if dependent not in out:
                out.add(dependent)
                frontier.append(dependent)
    return out
