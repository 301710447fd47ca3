"""`fmt`: spec YAML in canonical key order and layout, every comment kept where it belongs.

The file is never re-emitted from data. Its lines are moved: a mapping entry is the key's line,
the comment lines directly above it (at the key's own indentation) and everything down to the
next entry, and entries are reordered as whole blocks (`fmt_order.py` says the order). So a
comment travels with the key it sits on, quoting and block scalars stay exactly as written,
and a second run changes nothing. Flow collections (`{type: ..., name: ...}`) are rewritten on
one line in the same order, or wrapped at `WIDTH` at their commas. Layout: one blank line
between top-level sections, no runs of blank lines, no trailing whitespace, one final newline.

Before anything is written, the result is checked: it must load to the same data and carry the
same comments as the original. A file that cannot be reordered safely (an anchor used before it
would be defined, say) is refused with its location instead of being changed.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import yaml

from identity_reconciler.spec.fmt_order import ROOT, Shape

WIDTH = 100
_DOC_MARKER = re.compile(r"^(---|\.\.\.)(\s|$)")


class FormatError(Exception):
    """A file fmt cannot read or cannot reorder without changing its meaning."""

    def __init__(self, file: str, line: int, column: int, message: str) -> None:
        super().__init__(f"{file}:{line}:{column}: {message}")


def format_text(text: str, name: str = "<spec>") -> str:
    """The canonical form of one spec file's text (raises FormatError; see the module doc)."""
    source = text.lstrip("\ufeff").replace("\r\n", "\n")
    if not source.endswith("\n"):
        source += "\n"
    try:
        roots = [node for node in yaml.compose_all(source, Loader=yaml.SafeLoader) if node]
        list(yaml.safe_load_all(source))  # a tag or merge key that does not construct
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise FormatError(name, line, col, f"not valid YAML: {exc.problem}") from None
    moved = _Layout(source).document_lines(roots)
    for candidate in (_tidy(moved), "".join(moved)):
        if _same_meaning(source, candidate):
            return candidate
    first = roots[0].start_mark.line + 1 if roots else 1
    raise FormatError(
        name, first, 1,
        "cannot reorder this file without changing its data or comments (anchors used across "
        "sections?); order its keys by hand",
    )


def _is_blank(line: str) -> bool:
    return not line.strip()


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _key_text(node: yaml.Node) -> str | None:
    return node.value if isinstance(node, yaml.ScalarNode) else None


@dataclass
class _Layout:
    source: str

    def __post_init__(self) -> None:
        self.lines = self.source.splitlines(keepends=True)

    # ------------------------------------------------------------------ documents

    def document_lines(self, roots: list[yaml.Node]) -> list[str]:
        out: list[str] = []
        done = 0
        for root in roots:
            if not isinstance(root, yaml.MappingNode) or root.flow_style or not root.value:
                continue
            start = root.start_mark.line
            end = self._document_end(root.value[-1][0].start_mark.line)
            footer = end
            while footer > start + 1 and (
                _is_blank(self.lines[footer - 1])
                or (_is_comment(self.lines[footer - 1]) and _indent(self.lines[footer - 1]) == 0)
            ):
                footer -= 1
            out += self.lines[done:start]
            out += self._mapping(root, start, footer, ROOT, top=True)
            done = footer
        return out + self.lines[done:]

    def _document_end(self, after: int) -> int:
        for index in range(after + 1, len(self.lines)):
            if _DOC_MARKER.match(self.lines[index]):
                return index
        return len(self.lines)

    # ------------------------------------------------------------------ block collections

    def _lead(self, line: int, floor: int, column: int) -> int:
        """First line of the comment block directly above `line` at `column` (not above floor)."""
        while (
            line - 1 > floor
            and _is_comment(self.lines[line - 1])
            and _indent(self.lines[line - 1]) == column
        ):
            line -= 1
        return line

    @staticmethod
    def _outer(line: str, column: int) -> bool:
        """A blank line, or a comment less indented than the keys: it stays where it is."""
        return _is_blank(line) or (_is_comment(line) and _indent(line) < column)

    def _mapping(
        self, node: yaml.MappingNode, start: int, end: int, shape: Shape, top: bool = False
    ) -> list[str]:
        pairs = node.value
        column = pairs[0][0].start_mark.column
        key_lines = [key.start_mark.line for key, _ in pairs]
        starts = [start] + [
            self._lead(key_lines[i], key_lines[i - 1], column) for i in range(1, len(pairs))
        ]
        ends = [*starts[1:], end]
        bodies: list[list[str]] = []
        gaps: list[list[str]] = []
        for i, (key, value) in enumerate(pairs):
            stop = ends[i]
            while stop > key_lines[i] + 1 and self._outer(self.lines[stop - 1], column):
                stop -= 1
            child = shape.child(name) if (name := _key_text(key)) is not None else Shape()
            bodies.append(
                self.lines[starts[i] : key_lines[i]]
                + self._entry(value, key_lines[i], stop, child)
            )
            gaps.append(self.lines[stop : ends[i]])
        order = sorted(range(len(pairs)), key=lambda i: (_rank(shape, pairs[i][0]), i))
        if top:  # one blank line between top-level sections
            gaps = [["\n"]] * (len(pairs) - 1) + [[]]
        out: list[str] = []
        for position, index in enumerate(order):
            out += bodies[index] + gaps[position]
        return out

    def _entry(self, value: yaml.Node, key_line: int, end: int, shape: Shape) -> list[str]:
        if isinstance(value, yaml.CollectionNode) and value.value:
            if value.flow_style:
                return self._flow_lines(value, key_line, end, shape)
            if value.start_mark.line > key_line:
                head = self.lines[key_line : key_line + 1]
                if isinstance(value, yaml.MappingNode):
                    return head + self._mapping(value, key_line + 1, end, shape)
                if isinstance(value, yaml.SequenceNode):
                    return head + self._sequence(value, key_line + 1, end, shape.element())
        return self.lines[key_line:end]

    def _dash_line(self, item: yaml.Node, column: int) -> int:
        line = item.start_mark.line
        while line > 0 and not self.lines[line][column:].startswith("-"):
            line -= 1
        return line

    def _sequence(self, node: yaml.SequenceNode, start: int, end: int, shape: Shape) -> list[str]:
        column = node.start_mark.column
        dashes = [self._dash_line(item, column) for item in node.value]
        starts = [start] + [
            self._lead(dashes[i], dashes[i - 1], column) for i in range(1, len(dashes))
        ]
        ends = [*starts[1:], end]
        out: list[str] = []
        for i, item in enumerate(node.value):
            out += self._item(item, starts[i], dashes[i], ends[i], shape)
        return out

    def _item(self, item: yaml.Node, start: int, dash: int, end: int, shape: Shape) -> list[str]:
        head = self.lines[start:dash]
        if not isinstance(item, yaml.CollectionNode) or not item.value:
            return head + self.lines[dash:end]
        if item.flow_style:
            return head + self._flow_lines(item, dash, end, shape)
        if not isinstance(item, yaml.MappingNode):
            return head + self.lines[dash:end]
        if item.start_mark.line > dash:
            return head + self.lines[dash : dash + 1] + self._mapping(item, dash + 1, end, shape)
        # `- key: value`: the first key shares the dash's line; whichever key comes first now
        # takes the dash. Comments above the dash at the keys' indentation are the first key's.
        column = item.start_mark.column
        lead = self._lead(dash, start - 1, column)
        original = self.lines[dash]
        self.lines[dash] = " " * column + original[column:]
        try:
            out = self.lines[start:lead] + self._mapping(item, lead, end, shape)
        finally:
            self.lines[dash] = original
        for index, line in enumerate(out):
            if not _is_blank(line) and not _is_comment(line):
                out[index] = original[:column] + line[column:]
                break
        return out

    # ------------------------------------------------------------------ flow collections

    def _flow_lines(
        self, node: yaml.CollectionNode, first: int, end: int, shape: Shape
    ) -> list[str]:
        start, stop = node.start_mark, node.end_mark
        parts = self._flow_parts(node, shape)
        if parts is None or self._has_comment(node):
            return self.lines[first:end]
        prefix = self.lines[start.line][: start.column]
        suffix = self.lines[stop.line][stop.column :]
        return (
            self.lines[first : start.line]
            + _wrap(prefix, parts, suffix, mapping=isinstance(node, yaml.MappingNode))
            + self.lines[stop.line + 1 : end]
        )

    def _flow(self, node: yaml.Node, shape: Shape) -> str | None:
        if isinstance(node, yaml.ScalarNode):
            text = self.source[node.start_mark.index : node.end_mark.index]
            return text if text and "\n" not in text else None
        if not isinstance(node, yaml.CollectionNode):
            return None
        parts = self._flow_parts(node, shape)
        if parts is None:
            return None
        return ("{%s}" if isinstance(node, yaml.MappingNode) else "[%s]") % ", ".join(parts)

    def _flow_parts(self, node: yaml.CollectionNode, shape: Shape) -> list[str] | None:
        opening = self.source[node.start_mark.index : node.start_mark.index + 1]
        if opening not in "{[" or node.tag not in (
            "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq",
        ):
            return None  # an anchor or tag in front: leave it as written
        parts: list[str] = []
        if isinstance(node, yaml.SequenceNode):
            for item in node.value:
                text = self._flow(item, shape.element())
                if text is None:
                    return None
                parts.append(text)
            return parts
        pairs = sorted(enumerate(node.value), key=lambda p: (_rank(shape, p[1][0]), p[0]))
        for _, (key, value) in pairs:
            name = _key_text(key)
            key_text = self._flow(key, Shape())
            value_text = self._flow(value, shape.child(name) if name is not None else Shape())
            if name is None or key_text is None or value_text is None:
                return None
            parts.append(f"{key_text}: {value_text}")
        return parts

    def _has_comment(self, node: yaml.Node) -> bool:
        text = self.source[node.start_mark.index : node.end_mark.index]
        for start, stop in sorted(_scalar_spans(node), reverse=True):
            a, b = start - node.start_mark.index, stop - node.start_mark.index
            text = text[:a] + " " * (b - a) + text[b:]
        return "#" in text


def _rank(shape: Shape, key: yaml.Node) -> tuple[int, str]:
    name = _key_text(key)
    return shape.key_rank(name) if name is not None else (1 << 30, "~")


def _scalar_spans(node: yaml.Node) -> list[tuple[int, int]]:
    if isinstance(node, yaml.ScalarNode):
        return [(node.start_mark.index, node.end_mark.index)]
    spans: list[tuple[int, int]] = []
    if isinstance(node, yaml.SequenceNode):
        for item in node.value:
            spans += _scalar_spans(item)
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            spans += _scalar_spans(key) + _scalar_spans(value)
    return spans


def _wrap(prefix: str, parts: list[str], suffix: str, *, mapping: bool) -> list[str]:
    """A flow collection on one line, or wrapped at its commas when that line is too long."""
    opening, closing = ("{", "}") if mapping else ("[", "]")
    one_line = f"{prefix}{opening}{', '.join(parts)}{closing}"
    if len(one_line) + len(suffix.rstrip("\n")) <= WIDTH or len(parts) < 2:
        return [one_line + suffix]
    indent = " " * (len(prefix) + 1)
    lines: list[str] = []
    current = prefix + opening + parts[0]
    for index, part in enumerate(parts[1:], start=2):
        tail = 1 if index == len(parts) else 0
        if len(current) + 2 + len(part) + tail <= WIDTH:
            current += ", " + part
        else:
            lines.append(current + ",\n")
            current = indent + part
    return [*lines, current + closing + suffix]


def _tidy(lines: list[str]) -> str:
    """No trailing whitespace, no runs of blank lines, no blank lines at either end."""
    out: list[str] = []
    for raw in lines:
        line = raw.rstrip() + "\n"
        if line == "\n" and (not out or out[-1] == "\n"):
            continue
        out.append(line)
    while out and out[-1] == "\n":
        out.pop()
    return "".join(out)


def comments(text: str) -> Counter[str]:
    """Every comment of a YAML text (outside scalars), as a multiset of their stripped texts."""
    spans = [
        (token.start_mark.index, token.end_mark.index)
        for token in yaml.scan(text, Loader=yaml.SafeLoader)
        if isinstance(token, yaml.ScalarToken)
    ]
    masked = list(text)
    for start, stop in spans:
        masked[start:stop] = " " * (stop - start)
    found: Counter[str] = Counter()
    for line in "".join(masked).splitlines():
        match = re.search(r"(^|\s)(#.*)$", line)
        if match:
            found[match.group(2).rstrip()] += 1
    return found


def _same_meaning(before: str, after: str) -> bool:
    try:
        same_data = list(yaml.safe_load_all(before)) == list(yaml.safe_load_all(after))
        return same_data and comments(before) == comments(after)
    except yaml.YAMLError:
        return False
