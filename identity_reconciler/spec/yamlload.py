"""YAML text -> plain data plus the file position of every node.

Built from the parser's event stream rather than `yaml.compose`/`yaml.load`, because that is
where every hazard can be stopped before it costs anything:
- the composer recurses per nesting level; this builder keeps an explicit stack and a depth cap;
- aliases are never copied: an alias reuses the anchored object, and the nodes it stands for are
  counted, so a "billion laughs" file fails at the alias that crosses the cap;
- duplicate keys are errors (PyYAML silently keeps the last one);
- no tag can construct a Python object: only plain data types are accepted.

Plain scalars resolve by the YAML 1.2 core schema (`true`/`false`, not `yes`/`no`/`on`), the
schema yaml-language-server also uses, so `country: no` stays a string.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from identity_reconciler.spec.errors import SpecLoadError
from identity_reconciler.spec.yamltext import resolve_plain, syntax_error

PathT = tuple[str | int, ...]
Pos = tuple[int, int]

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TAG = "tag:yaml.org,2002:"
_MERGE = object()

@dataclass(frozen=True)
class Limits:
    """Bounds on one spec file; defaults fit any real spec with a wide margin."""

    max_file_bytes: int = 5 * 1024 * 1024
    # Nodes per file, counting every alias expansion: about 14,000 role grants, and enough to
    # keep a hostile file's validation (and its error list) small.
    max_nodes: int = 200_000
    max_aliases: int = 10_000  # alias uses per file
    max_depth: int = 64  # nesting, counting what aliases bring in


@dataclass
class LocatedDocument:
    """One YAML document: its data and where each part of it was written."""

    file: str
    index: int
    data: Any = None
    start: Pos = (1, 1)
    values: dict[PathT, Pos] = field(default_factory=dict)
    keys: dict[PathT, Pos] = field(default_factory=dict)
    redirects: dict[PathT, PathT] = field(default_factory=dict)

    def position(self, path: PathT, *, key: bool = False) -> Pos:
        """Line and column (1-based) of the node at `path`, or of its nearest known ancestor.

        `key=True` prefers the position of the mapping key over its value (for "unknown key").
        Paths through an alias or a merge key lead to where the anchored value was written.
        """
        current = tuple(path)
        for _ in range(64):  # redirect chains are short; the bound only guards against cycles
            redirected = False
            for i in range(len(current), -1, -1):
                prefix = current[:i]
                if key and i == len(current) and prefix in self.keys:
                    return self.keys[prefix]
                target = self.redirects.get(prefix)
                if target is not None:
                    current = target + current[i:]
                    redirected = True
                    break
                if prefix in self.values:
                    return self.values[prefix]
            if not redirected:
                break
        return self.start


@dataclass
class _Anchor:
    value: Any
    path: PathT
    size: int
    height: int


@dataclass
class _Frame:
    value: Any  # dict or list
    path: PathT
    pos: Pos
    anchor: str | None
    size: int = 1
    height: int = 0
    key: Any = None  # pending mapping key (str, _MERGE, or None when a key is expected)
    merges: list[tuple[Any, PathT, Pos]] = field(default_factory=list)


def _pos(mark: Any) -> Pos:
    return (int(mark.line) + 1, int(mark.column) + 1)


class _Builder:
    """Turns the events of one file into LocatedDocuments, enforcing the limits as it goes."""

    def __init__(self, file: str, limits: Limits) -> None:
        self.file = file
        self.limits = limits
        self.documents: list[LocatedDocument] = []
        self.doc: LocatedDocument | None = None
        self.stack: list[_Frame] = []
        self.anchors: dict[str, _Anchor] = {}
        self.nodes = 0
        self.aliases = 0
        self._handlers: dict[type, Callable[[Any], None]] = {
            yaml.ScalarEvent: self._scalar,
            yaml.MappingStartEvent: self._start,
            yaml.SequenceStartEvent: self._start,
            yaml.MappingEndEvent: self._end,
            yaml.SequenceEndEvent: self._end,
            yaml.AliasEvent: self._alias,
            yaml.DocumentStartEvent: self._document_start,
            yaml.DocumentEndEvent: self._document_end,
        }

    def fail(self, pos: Pos, rule: str, message: str, fix: str | None = None) -> SpecLoadError:
        return SpecLoadError(self.file, pos, rule, message, fix)

    # ------------------------------------------------------------------ events

    def feed(self, event: Any) -> None:
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)

    def _document_start(self, event: Any) -> None:
        self.doc = LocatedDocument(self.file, len(self.documents), start=_pos(event.start_mark))
        self.anchors = {}

    def _document_end(self, event: Any) -> None:
        if self.doc is not None:
            self.documents.append(self.doc)
            self.doc = None

    def _count(self, pos: Pos, nodes: int) -> None:
        self.nodes += nodes
        if self.nodes > self.limits.max_nodes:
            raise self.fail(
                pos,
                "IR003",
                f"more than {self.limits.max_nodes:,} nodes, counting what aliases expand to",
                "split the file, and do not nest aliases of aliases",
            )

    def _check_depth(self, pos: Pos, depth: int) -> None:
        if depth > self.limits.max_depth:
            raise self.fail(
                pos,
                "IR003",
                f"nesting deeper than {self.limits.max_depth} levels",
                "flatten the structure; specs need only a few levels",
            )

    def _expecting_key(self) -> _Frame | None:
        if self.stack and isinstance(self.stack[-1].value, dict) and self.stack[-1].key is None:
            return self.stack[-1]
        return None

    def _child_path(self) -> PathT:
        if not self.stack:
            return ()
        top = self.stack[-1]
        if isinstance(top.value, list):
            return (*top.path, len(top.value))
        if top.key is _MERGE:
            return (*top.path, "<<")
        return (*top.path, top.key)

    def _set_key(self, frame: _Frame, key: str, pos: Pos, *, merge: bool = False) -> None:
        if merge:
            frame.key = _MERGE
            return
        assert self.doc is not None
        path = (*frame.path, key)
        if key in frame.value:
            first = self.doc.keys[path]
            raise self.fail(
                pos,
                "IR002",
                f"duplicate key {key!r} (first at line {first[0]})",
                "remove one of them; YAML keeps only the last, silently",
            )
        self.doc.keys[path] = pos
        frame.key = key

    def _scalar(self, event: Any) -> None:
        # The hot path: most events are scalars, so the common checks are inlined here.
        mark = event.start_mark
        pos = (mark.line + 1, mark.column + 1)
        self.nodes += 1
        if self.nodes > self.limits.max_nodes:
            self._count(pos, 0)
        stack = self.stack
        if stack:
            top = stack[-1]
            if top.key is None and type(top.value) is dict:
                self._check_tag(event.tag, pos, "str")
                plain = not event.style and event.tag is None
                self._set_key(top, str(event.value), pos, merge=plain and event.value == "<<")
                if event.anchor:
                    self.anchors[event.anchor] = _Anchor(str(event.value), (), 1, 0)
                return
        if event.tag is None and not event.style:
            value = resolve_plain(event.value)
        else:
            value = self._resolve(event, pos)
        path = self._child_path()
        assert self.doc is not None
        self.doc.values[path] = pos
        self._done(value, path, pos, size=1, height=0, anchor=event.anchor)

    def _alias(self, event: Any) -> None:
        pos = _pos(event.start_mark)
        anchor = self.anchors.get(event.anchor)
        if anchor is None:
            raise self.fail(
                pos,
                "IR001",
                f"alias *{event.anchor} refers to no anchor defined before it",
                f"define &{event.anchor} earlier in the same document",
            )
        self.aliases += 1
        if self.aliases > self.limits.max_aliases:
            raise self.fail(
                pos, "IR003", f"more than {self.limits.max_aliases:,} aliases",
                "write the values out, or split the file",
            )
        self._count(pos, anchor.size)
        self._check_depth(pos, len(self.stack) + anchor.height)
        frame = self._expecting_key()
        if frame is not None:
            if not isinstance(anchor.value, str):
                raise self.fail(
                    pos, "IR012", "a mapping key must be a plain name",
                    "alias only scalar values as keys",
                )
            self._set_key(frame, anchor.value, pos)
            return
        path = self._child_path()
        self._record(path, pos)
        assert self.doc is not None
        self.doc.redirects[path] = anchor.path
        self._done(anchor.value, path, pos, size=anchor.size, height=anchor.height, anchor=None)

    def _start(self, event: Any) -> None:
        pos = _pos(event.start_mark)
        self._count(pos, 1)
        self._check_depth(pos, len(self.stack) + 1)
        is_map = isinstance(event, yaml.MappingStartEvent)
        self._check_tag(event.tag, pos, "map" if is_map else "seq")
        if self._expecting_key() is not None:
            raise self.fail(
                pos,
                "IR012",
                "a mapping key must be a plain name, not a list or mapping",
                "write the key as a plain string",
            )
        path = self._child_path()
        self._record(path, pos)
        self.stack.append(_Frame({} if is_map else [], path, pos, event.anchor))

    def _end(self, event: Any) -> None:
        frame = self.stack.pop()
        if frame.merges:
            self._apply_merges(frame)
        self._done(
            frame.value,
            frame.path,
            frame.pos,
            size=frame.size,
            height=frame.height,
            anchor=frame.anchor,
        )

    # ------------------------------------------------------------------ helpers

    def _record(self, path: PathT, pos: Pos) -> None:
        assert self.doc is not None
        self.doc.values[path] = pos

    def _done(
        self, value: Any, path: PathT, pos: Pos, *, size: int, height: int, anchor: str | None
    ) -> None:
        if anchor:
            self.anchors[anchor] = _Anchor(value, path, size, height)
        if not self.stack:
            assert self.doc is not None
            self.doc.data = value
            return
        parent = self.stack[-1]
        parent.size += size
        parent.height = max(parent.height, height + 1)
        if isinstance(parent.value, list):
            parent.value.append(value)
        elif parent.key is _MERGE:
            parent.merges.append((value, path, pos))
            parent.key = None
        else:
            parent.value[parent.key] = value
            parent.key = None

    def _apply_merges(self, frame: _Frame) -> None:
        """`<<: *base` / `<<: [*a, *b]`: explicit keys win, then earlier merged mappings."""
        assert self.doc is not None
        sources: list[tuple[Mapping[str, Any], PathT]] = []
        for value, path, pos in frame.merges:
            if isinstance(value, dict):
                sources.append((value, path))
            elif isinstance(value, list) and all(isinstance(v, dict) for v in value):
                sources.extend((v, (*path, i)) for i, v in enumerate(value))
            else:
                raise self.fail(
                    pos,
                    "IR012",
                    "the merge key << needs a mapping or a list of mappings",
                    "merge an anchored mapping, e.g. <<: *defaults",
                )
        mapping: dict[str, Any] = frame.value
        for source, path in sources:
            for key, value in source.items():
                if key not in mapping:
                    mapping[key] = value
                    self.doc.redirects[(*frame.path, key)] = (*path, key)

    def _check_tag(self, tag: str | None, pos: Pos, kind: str) -> None:
        if tag is None or tag == "!" or tag == _TAG + kind:
            return
        shown = tag.replace(_TAG, "!!")
        raise self.fail(
            pos,
            "IR005",
            f"YAML tag {shown} is not supported",
            "remove the tag; specs hold plain strings, numbers, booleans, lists and mappings",
        )

    def _resolve(self, event: Any, pos: Pos) -> Any:
        text: str = event.value
        tag = event.tag
        if tag is None and not event.style:
            return resolve_plain(text)
        if tag is None or tag == "!" or tag == _TAG + "str":
            return text
        if tag in (_TAG + "int", _TAG + "float", _TAG + "bool", _TAG + "null"):
            value = resolve_plain(text)
            wanted = tag[len(_TAG) :]
            ok = {
                "int": isinstance(value, int) and not isinstance(value, bool),
                "float": isinstance(value, int | float) and not isinstance(value, bool),
                "bool": isinstance(value, bool),
                "null": value is None,
            }[wanted]
            if not ok:
                raise self.fail(
                    pos, "IR012", f"{text!r} is not a valid !!{wanted}",
                    f"remove the !!{wanted} tag or fix the value",
                )
            return float(value) if wanted == "float" else value
        self._check_tag(tag, pos, "str")  # raises: no other tag is plain data
        return text


def parse_yaml(text: str, file: str, limits: Limits | None = None) -> list[LocatedDocument]:
    """All documents of one file, located. Raises SpecLoadError and nothing else."""
    builder = _Builder(file, limits or Limits())
    try:
        parser = _LOADER(text)
        try:
            while (event := parser.get_event()) is not None:
                builder.feed(event)
        finally:
            parser.dispose()
    except yaml.YAMLError as exc:
        raise syntax_error(text, file, exc, builder.limits.max_depth) from None
    return builder.documents
