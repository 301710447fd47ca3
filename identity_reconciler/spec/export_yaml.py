"""YAML for exported specs: block style, two-space indented lists, no aliases, and every string
that the spec loader would read as something else (YAML 1.2 core: `0o17`, `1e3`, `null`) quoted.
"""

from __future__ import annotations

from typing import Any

import yaml

from identity_reconciler.spec.yamltext import resolve_plain

_WIDTH = 4096  # never fold long values (conditions) across lines: diffs stay one line each


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Lists indented under their key, as people write them (and as the examples do).
        super().increase_indent(flow, False)


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = None
    if resolve_plain(value) != value or value != value.strip():
        style = '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump_document(doc: dict[str, Any]) -> str:
    """One spec document as YAML text (keys in the order given)."""
    return yaml.dump(
        doc,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=_WIDTH,
    )
