"""The mutation operators of `benchmarks/mutation.py`: one small change to a module's AST each.

A mutant is (site index, description). `sites(source)` lists every mutant of a module in a
fixed order; `mutate(source, index)` returns the module's source with only that change made.
The source is re-printed with `ast.unparse`, so comments and layout are lost in the mutated
copy; line numbers in reports are those of the original file.

Not mutated, because a change there cannot alter behaviour or is noise: docstrings, type
annotations (postponed by `from __future__ import annotations`), f-string literal parts, string
constants of a `raise` (the error's wording) and `__all__`. A line carrying
`# equivalent mutant: <reason>` (or a comment block above it carrying that mark) marks its
mutants as equivalent, `# equivalent mutant [.strip()]: <reason>` only those whose description
names `.strip()`: they are run and reported, but not counted in the score.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass

EQUIVALENT_MARK = "# equivalent mutant:"
STRIP_CALLS = frozenset({"lower", "upper", "casefold", "strip", "rstrip", "lstrip"})

_CMP_SWAPS: dict[type[ast.cmpop], tuple[type[ast.cmpop], ...]] = {
    ast.Eq: (ast.NotEq,),
    ast.NotEq: (ast.Eq,),
    ast.Lt: (ast.LtE, ast.GtE),
    ast.LtE: (ast.Lt, ast.Gt),
    ast.Gt: (ast.GtE, ast.LtE),
    ast.GtE: (ast.Gt, ast.Lt),
    ast.In: (ast.NotIn,),
    ast.NotIn: (ast.In,),
    ast.Is: (ast.IsNot,),
    ast.IsNot: (ast.Is,),
}
_BIN_SWAPS: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
}
_SYMBOL = {
    ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
    ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not",
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.And: "and", ast.Or: "or",
}  # fmt: skip


@dataclass(frozen=True)
class Site:
    """One mutant: where it is and what it changes."""

    index: int
    line: int
    description: str


# An edit receives the node found at the site and returns its replacement.
Edit = Callable[[ast.AST], ast.AST | list[ast.stmt]]


def _candidates(node: ast.AST) -> list[tuple[str, Edit]]:
    """Every mutation of one node, in a fixed order."""
    out: list[tuple[str, Edit]] = []
    if isinstance(node, ast.BoolOp):
        other = ast.Or if isinstance(node.op, ast.And) else ast.And
        out.append(
            (f"{_SYMBOL[type(node.op)]} → {_SYMBOL[other]}", lambda n: _set(n, "op", other()))
        )
    elif isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            for new in _CMP_SWAPS.get(type(op), ()):
                out.append((f"{_SYMBOL[type(op)]} → {_SYMBOL[new]}", _compare_edit(i, new)))
    elif isinstance(node, ast.BinOp | ast.AugAssign) and type(node.op) in _BIN_SWAPS:
        new_op = _BIN_SWAPS[type(node.op)]
        desc = f"{_SYMBOL[type(node.op)]} → {_SYMBOL[new_op]}"
        out.append((desc, lambda n: _set(n, "op", new_op())))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        out.append(("`not` removed", lambda n: n.operand if isinstance(n, ast.UnaryOp) else n))
    elif isinstance(node, ast.Constant):
        out.extend(_constant_edits(node))
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in STRIP_CALLS
    ):
        attr = node.func.attr
        args = "(...)" if node.args else "()"
        out.append((f"`.{attr}{args}` removed", _drop_call))
    elif isinstance(node, ast.FunctionDef):
        out.extend(_early_returns(node))
    elif isinstance(node, ast.If):
        for branch in ("body", "orelse"):
            for i, stmt in enumerate(getattr(node, branch)):
                what = "if" if branch == "body" else "else"
                out.append(
                    (
                        f"@{stmt.lineno} statement deleted from its {what}-branch",
                        _delete_edit(branch, i),
                    )
                )
    return out


def _set(node: ast.AST, field: str, value: object) -> ast.AST:
    setattr(node, field, value)
    return node


def _compare_edit(i: int, new: type[ast.cmpop]) -> Edit:
    def edit(node: ast.AST) -> ast.AST:
        assert isinstance(node, ast.Compare)
        node.ops[i] = new()
        return node

    return edit


def _delete_edit(branch: str, i: int) -> Edit:
    def edit(node: ast.AST) -> ast.AST:
        body: list[ast.stmt] = getattr(node, branch)
        body[i] = ast.Pass()
        return node

    return edit


def _drop_call(node: ast.AST) -> ast.AST:
    assert isinstance(node, ast.Call)
    assert isinstance(node.func, ast.Attribute)
    return node.func.value


def _constant_edits(node: ast.Constant) -> list[tuple[str, Edit]]:
    value = node.value
    if isinstance(value, bool):
        return [(f"{value} → {not value}", lambda n: ast.Constant(not value))]
    if isinstance(value, int):
        new = 1 if value == 0 else 0 if value == 1 else value + 1
        return [(f"{value} → {new}", lambda n: ast.Constant(new))]
    if isinstance(value, str) and value:
        return [(f"{value[:30]!r} → ''", lambda n: ast.Constant(""))]
    return []


def _early_returns(node: ast.FunctionDef) -> list[tuple[str, Edit]]:
    returns = ast.unparse(node.returns) if node.returns is not None else ""
    values: tuple[bool | None, ...] = (True, False) if returns == "bool" else (None,)
    if any(isinstance(d, ast.Name) and d.id == "property" for d in node.decorator_list):
        values = values if returns == "bool" else ()  # a property that returns None just crashes
    out: list[tuple[str, Edit]] = []
    for value in values:

        def edit(n: ast.AST, value: bool | None = value) -> ast.AST:
            assert isinstance(n, ast.FunctionDef)
            start = 1 if ast.get_docstring(n) is not None else 0
            n.body.insert(start, ast.Return(ast.Constant(value)))
            return n

        out.append((f"{node.name}() returns {value!r} at once", edit))
    return out


def _skipped_children(node: ast.AST) -> set[int]:
    """Ids of child nodes whose subtree is never mutated (docstrings, annotations, ...)."""
    skip: set[int] = set()
    if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            skip.add(id(body[0]))
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns is not None:
        skip.add(id(node.returns))
    if isinstance(node, ast.arg) and node.annotation is not None:
        skip.add(id(node.annotation))
    if isinstance(node, ast.AnnAssign):
        skip.add(id(node.annotation))
    if isinstance(node, ast.Raise) and node.exc is not None:
        skip.update(id(n) for n in ast.walk(node.exc) if isinstance(n, ast.Constant))
    if isinstance(node, ast.JoinedStr):
        skip.update(id(v) for v in node.values if isinstance(v, ast.Constant))
    if isinstance(node, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
    ):
        skip.add(id(node.value))
    return skip


def _walk(tree: ast.AST) -> list[ast.AST]:
    """Nodes in a fixed pre-order, leaving out the subtrees `_skipped_children` names."""
    out: list[ast.AST] = []
    skip: set[int] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        if id(node) in skip:
            continue
        out.append(node)
        skip |= _skipped_children(node)
        stack.extend(reversed(list(ast.iter_child_nodes(node))))
    return out


def sites(source: str) -> list[Site]:
    """Every mutant of a module, numbered in a fixed order."""
    out: list[Site] = []
    for node in _walk(ast.parse(source)):
        for text, _ in _candidates(node):
            line = getattr(node, "lineno", 0)
            at, _, description = text.partition(" ")
            if at.startswith("@"):  # a deleted statement: report the statement's line
                line = int(at[1:])
            else:
                description = text
            out.append(Site(len(out), line, description))
    return out


def mutate(source: str, index: int) -> str:
    """The module's source with mutant `index` applied (and nothing else changed)."""
    tree = ast.parse(source)
    seen = 0
    for node in _walk(tree):
        candidates = _candidates(node)
        if index < seen + len(candidates):
            _, edit = candidates[index - seen]
            _replace(tree, node, edit(node))
            return ast.unparse(ast.fix_missing_locations(tree))
        seen += len(candidates)
    raise IndexError(f"no mutant {index}")


def _replace(tree: ast.AST, old: ast.AST, new: ast.AST | list[ast.stmt]) -> None:
    if new is old:
        return
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if value is old:
                setattr(parent, field, new)
                return
            if isinstance(value, list):
                for i, item in enumerate(value):
                    if item is old:
                        value[i] = new
                        return
    raise ValueError("node to replace not found")


def equivalent_marks(source: str) -> dict[int, str]:
    """Line -> which of its mutants are marked equivalent ('' for all of them).

    `# equivalent mutant: <reason>` marks every mutant of its line (or, on a comment line of its
    own, of the next line that is not a comment); `# equivalent mutant [<description>]: ...`
    only those whose description contains `<description>`, e.g. `[.strip()]`.
    """
    out: dict[int, str] = {}
    lines = source.splitlines()
    for number, text in enumerate(lines, start=1):
        at = text.find(EQUIVALENT_MARK.rstrip(":"))
        if at < 0:
            continue
        rest = text[at + len(EQUIVALENT_MARK) - 1 :].strip()
        which = rest[1 : rest.index("]")] if rest.startswith("[") and "]" in rest else ""
        target = number
        if text.strip().startswith("#"):
            while target < len(lines) and lines[target].strip().startswith("#"):
                target += 1
            target += 1
        out[target] = which
    return out


def is_marked(site: Site, marks: dict[int, str]) -> bool:
    which = marks.get(site.line)
    return which is not None and which in site.description
