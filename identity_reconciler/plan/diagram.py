"""Pictures of identities and what they reach: identity → scope, labelled by role.

Two sources, one small graph model, two notations. `plan_graph` draws the changed objects of a
plan (for the pull-request comment: GitHub renders Mermaid code blocks); `estate_graph` draws
everything the specs declare (`identity-reconciler graph`). `render_mermaid` and `render_dot`
write either.

Labels come from specs under review, so none may become diagram syntax or markup: every
character outside a small safe set is written as an entity (`#35;` in Mermaid, an escaped
string in DOT), and every label is quoted. Node ids are generated (`n0`, `n1`, ...), never
taken from the input.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from identity_reconciler.core import armid
from identity_reconciler.core.state import DesiredState, PrincipalKind
from identity_reconciler.plan import render_common as rc

MAX_EDGES = 60  # a PR comment's diagram; the rest is counted, not drawn
_SAFE = re.compile(r"[A-Za-z0-9 ._/@:()+,=~-]")


@dataclass(frozen=True)
class Node:
    key: str  # lower-case ARM id (or address): one node per object
    label: str
    shape: str  # identity | system | scope | resource


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str
    style: str = "same"  # create | update | delete | replace | same


@dataclass
class Graph:
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    omitted: int = 0  # edges left out by the cap

    def node(self, value: str, shape: str) -> str:
        key = armid.key(value) if value.startswith("/") else value.lower()
        if key not in self.nodes:
            self.nodes[key] = Node(key, short_label(value), shape)
        return key

    def edge(self, edge: Edge, limit: int | None) -> None:
        if limit is not None and len(self.edges) >= limit:
            self.omitted += 1
        else:
            self.edges.append(edge)


def short_label(value: str) -> str:
    """A readable name for an ARM id: the resource's type and name, or the scope's level.

    A plan address (`identity.rg/name`, `system_assigned.rg/sites/app`) loses its kind and
    resource group."""
    if not value.startswith("/"):
        return value.split("/", 1)[-1]
    try:
        scope = armid.parse_scope(value)
    except armid.ArmIdError:
        return value
    if scope.kind is armid.ScopeKind.MANAGEMENT_GROUP:
        return f"management group {scope.management_group}"
    if scope.kind is armid.ScopeKind.SUBSCRIPTION:
        return f"subscription {scope.subscription_id}"
    if scope.kind is armid.ScopeKind.RESOURCE_GROUP:
        return f"resource group {scope.resource_group}"
    if scope.resource_type == "Microsoft.ManagedIdentity/userAssignedIdentities":
        return str(scope.name)
    return f"{scope.types[-1]}/{scope.name}"


# --------------------------------------------------------------------------- sources


def _style(change: Mapping[str, Any]) -> str:
    actions = rc.actions_of(change)
    if actions == ("delete", "create"):
        return "replace"
    return actions[0] if len(actions) == 1 else "same"


def plan_graph(changes: Iterable[Mapping[str, Any]], limit: int | None = MAX_EDGES) -> Graph:
    """Grants (identity → scope, by role) and attachments (identity → resource) that change."""
    graph = Graph()
    ordered = sorted(changes, key=lambda c: str(c.get("address")))
    # A deleted grant may carry no principal: its group names the identity, whose id the
    # identity's own change (when there is one) carries.
    ids = {
        str(c.get("address")): str(c["id"]) for c in ordered
        if c.get("kind") in ("identity", "system_assigned") and c.get("id")
    }
    for change in ordered:
        kind = change.get("kind")
        state = change.get("after") or change.get("before") or {}
        if kind == "grant":
            principal = change.get("principal") or {}
            group = str(change.get("group") or "")
            who = str(principal.get("id") or ids.get(group) or group)
            scope = str(state.get("scope") or "")
            if not who or not scope:
                continue
            system = principal.get("kind") == "system_assigned" or group.startswith("system_")
            shape = "system" if system else "identity"
            role = str(state.get("role") or state.get("role_definition_id") or "role")
            graph.edge(Edge(graph.node(who, shape), graph.node(scope, "scope"), role,
                            _style(change)), limit)
        elif kind == "attachment" and change.get("id"):
            identity = str(state.get("identity_id") or "")
            resource = str(change["id"]).split("#", 1)[0]
            if identity:
                graph.edge(Edge(graph.node(identity, "identity"),
                                graph.node(resource, "resource"), "assigned to",
                                _style(change)), limit)
    return graph


def estate_graph(desired: DesiredState) -> Graph:
    """Everything the specs declare: identities, their resources and their grants."""
    graph = Graph()
    for ident in sorted(desired.identities.values(), key=lambda i: armid.key(i.id)):
        graph.node(ident.id, "identity")
    for res in sorted(desired.resources.values(), key=lambda r: armid.key(r.resource_id)):
        if res.system_assigned:
            graph.node(res.resource_id, "system")
        for identity in res.user_assigned:
            graph.edge(Edge(graph.node(identity, "identity"),
                            graph.node(res.resource_id, "resource"), "assigned to"), None)
    for grant in sorted(desired.grants.values(), key=lambda g: (
        armid.key(g.principal.id), armid.key(g.scope), g.role_name
    )):
        shape = "system" if grant.principal.kind is PrincipalKind.SYSTEM_ASSIGNED else "identity"
        graph.edge(Edge(graph.node(grant.principal.id, shape), graph.node(grant.scope, "scope"),
                        grant.role_name), None)
    return graph


# --------------------------------------------------------------------------- notations


def _mermaid_text(text: str) -> str:
    return "".join(c if _SAFE.fullmatch(c) else f"#{ord(c)};" for c in rc.one_line(text))


_MERMAID_SHAPES = {
    "identity": ('(["', '"])'), "system": ('{{"', '"}}'),
    "scope": ('["', '"]'), "resource": ('[/"', '"/]'),
}
_MERMAID_ARROWS = {
    "create": "==>", "update": "-.->", "delete": "-.-x", "replace": "==>", "same": "-->",
}
_PREFIX = {"create": "+ ", "delete": "- ", "update": "~ ", "replace": "± ", "same": ""}


def render_mermaid(graph: Graph) -> str:
    """A Mermaid flowchart, left to right. Changed edges carry `+`, `-`, `~` in their label."""
    ids = {key: f"n{i}" for i, key in enumerate(graph.nodes)}
    lines = ["flowchart LR"]
    for key, node in graph.nodes.items():
        opening, closing = _MERMAID_SHAPES[node.shape]
        lines.append(f"  {ids[key]}{opening}{_mermaid_text(node.label)}{closing}")
    for edge in graph.edges:
        label = _mermaid_text(_PREFIX[edge.style] + edge.label)
        lines.append(
            f'  {ids[edge.source]} {_MERMAID_ARROWS[edge.style]}|"{label}"| {ids[edge.target]}'
        )
    if graph.omitted:
        lines.append(f'  more["… {graph.omitted} more not drawn"]')
    return "\n".join(lines) + "\n"


def _dot_text(text: str) -> str:
    return '"' + rc.one_line(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


_DOT_SHAPES = {"identity": "ellipse", "system": "hexagon", "scope": "box", "resource": "box3d"}
_DOT_STYLES = {
    "create": 'color="darkgreen", penwidth=2', "update": 'color="darkorange", style=dashed',
    "delete": 'color="red", style=dashed', "replace": 'color="purple", penwidth=2', "same": "",
}


def render_dot(graph: Graph) -> str:
    """Graphviz DOT, left to right (`dot -Tsvg`)."""
    ids = {key: f"n{i}" for i, key in enumerate(graph.nodes)}
    lines = ["digraph identities {", "  rankdir=LR;", '  node [fontname="Helvetica"];']
    for key, node in graph.nodes.items():
        lines.append(
            f"  {ids[key]} [label={_dot_text(node.label)}, shape={_DOT_SHAPES[node.shape]}];"
        )
    for edge in graph.edges:
        extra = _DOT_STYLES[edge.style]
        attrs = f"label={_dot_text(_PREFIX[edge.style] + edge.label)}" + (
            f", {extra}" if extra else ""
        )
        lines.append(f"  {ids[edge.source]} -> {ids[edge.target]} [{attrs}];")
    if graph.omitted:
        lines.append(f"  more [label={_dot_text(f'… {graph.omitted} more')}, shape=plaintext];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def markdown_section(changes: Iterable[Mapping[str, Any]]) -> str:
    """The plan comment's diagram (empty when no grant or attachment changes)."""
    graph = plan_graph(changes)
    if not graph.edges:
        return ""
    note = f" ({graph.omitted} more not drawn)" if graph.omitted else ""
    return (
        f"<details open><summary>Diagram: who gets access to what{note}</summary>\n\n"
        f"```mermaid\n{render_mermaid(graph)}```\n\n</details>\n"
    )
