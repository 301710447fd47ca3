"""`identity-reconciler graph SPECS [--format mermaid|dot]`: the whole declared estate as a
diagram: identities, the resources they are attached to, and their grants (identity → scope,
labelled by role). Offline: reads the specs only, never Azure.
"""

from __future__ import annotations

import argparse
import sys

from identity_reconciler.core.findings import format_text, summary
from identity_reconciler.plan.diagram import estate_graph, render_dot, render_mermaid
from identity_reconciler.spec import validate

EXAMPLE = "identity-reconciler graph specs/ --format dot | dot -Tsvg > identities.svg"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("specs", nargs="+", metavar="SPECS", help="spec files or folders")
    parser.add_argument(
        "--format",
        choices=("mermaid", "dot"),
        default="mermaid",
        help="mermaid (default; GitHub renders it in markdown) or dot (Graphviz)",
    )


def run(args: argparse.Namespace) -> int:
    result = validate(args.specs)
    for finding in result.findings:
        print(format_text(finding), file=sys.stderr)
    if not result.ok or result.desired is None:
        print(summary(result.findings, files=len(result.files)), file=sys.stderr)
        return 1
    graph = estate_graph(result.desired)
    sys.stdout.write(render_dot(graph) if args.format == "dot" else render_mermaid(graph))
    return 0
