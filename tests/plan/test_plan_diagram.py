"""The diagrams: identity → scope by role, changed edges marked, spec text never becomes
Mermaid or DOT syntax, and the PR comment's diagram is capped."""

from __future__ import annotations

import re
from typing import Any

from identity_reconciler.plan.diagram import (
    MAX_EDGES,
    Edge,
    Graph,
    markdown_section,
    plan_graph,
    render_dot,
    render_mermaid,
)

SUB = "/subscriptions/11111111-1111-1111-1111-111111111111"
RG = f"{SUB}/resourceGroups/rg-a"
UAI = f"{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-a"


def grant(role: str, scope: str, actions: list[str], who: str = UAI) -> dict[str, Any]:
    state = {"role": role, "scope": scope}
    return {
        "kind": "grant", "address": f"grant.{role}@{scope}", "group": "identity.rg-a/id-a",
        "actions": actions, "after": None if actions == ["delete"] else state,
        "before": state if "delete" in actions else None,
        "principal": {"kind": "user_assigned", "id": who, "principal_id": "p"},
    }


def test_changed_grants_are_edges_with_marked_role_labels() -> None:
    kv = f"{RG}/providers/Microsoft.KeyVault/vaults/kv-a"
    graph = plan_graph([grant("Reader", RG, ["create"]),
                        grant("Key Vault Secrets User", kv, ["delete"])])
    text = render_mermaid(graph)
    assert text.startswith("flowchart LR\n")
    assert '  n0(["id-a"])' in text
    assert '["resource group rg-a"]' in text
    assert '["vaults/kv-a"]' in text
    assert '==>|"+ Reader"|' in text
    assert '-.-x|"- Key Vault Secrets User"|' in text


def test_hostile_labels_are_entities_not_syntax() -> None:
    evil = 'x"]\n  click n0 "javascript:alert(1)" %%<img src=x onerror=alert(1)>`|#'
    graph = Graph()
    graph.edges.append(Edge(graph.node(evil, "identity"), graph.node("b", "scope"), evil))
    mermaid = render_mermaid(graph)
    assert len(mermaid.splitlines()) == 4  # header, two nodes, one edge: no injected line
    body = "".join(re.findall(r'"([^"]*)"', mermaid))
    assert re.fullmatch(r"[A-Za-z0-9 ._/@:()+,=~#;-]*", body), body
    assert "#34;" in mermaid
    assert "#60;" in mermaid
    dot = render_dot(graph)
    assert '\\"' in dot
    assert "\n  click" not in dot


def test_the_comment_diagram_is_capped() -> None:
    scopes = [f"{SUB}/resourceGroups/rg-{i}" for i in range(MAX_EDGES + 7)]
    section = markdown_section([grant("Reader", s, ["create"]) for s in scopes])
    assert section.count("==>") == MAX_EDGES
    assert "(7 more not drawn)" in section
    assert "more not drawn" in section.split("```mermaid")[1]


def test_no_grant_changes_no_diagram() -> None:
    assert markdown_section([{"kind": "identity", "address": "identity.rg/x", "actions":
                              ["create"], "id": UAI}]) == ""
