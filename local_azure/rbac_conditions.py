"""Azure ABAC role-assignment conditions (version 2.0): a parser and an evaluator.

Enough of the language for delegated role management ("Role Based Access Control
Administrator, constrained"): `ActionMatches{'...'}`, `SubOperationMatches{'...'}`, `!`/`NOT`,
`AND`/`&&`, `OR`/`||`, parentheses, and comparisons such as
`@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals
{guid, guid}` with the four ForAny/ForAll quantifiers and the Guid/String operators. Attributes
the emulator cannot know evaluate as absent, and a comparison on an absent attribute is false,
so an unsupported condition denies rather than grants.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

Attributes = Mapping[str, Sequence[str]]  # "request:ns/type:name" (lower-case) -> values


class ConditionSyntaxError(ValueError):
    pass


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class BoolOp:
    op: str  # "and" | "or"
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class ActionMatches:
    patterns: tuple[str, ...]
    sub_operation: bool = False


@dataclass(frozen=True)
class Compare:
    source: str  # request | resource | principal | environment
    attribute: str  # e.g. microsoft.authorization/roleassignments:roledefinitionid
    quantifier: str | None  # foranyofanyvalues ... or None
    operator: str
    values: tuple[str, ...]


Node = Not | BoolOp | ActionMatches | Compare

_TOKEN = re.compile(
    r"\s*(?:(?P<attr>@\w+\[[^\]]*\])|(?P<str>'(?:[^']|'')*')|(?P<sym>&&|\|\||[(){},!])"
    r"|(?P<word>[A-Za-z0-9_.:/*\-]+))"
)


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ConditionSyntaxError(f"unexpected text at {pos}: {text[pos : pos + 20]!r}")
        out.append(m.group(m.lastgroup or "word"))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> str | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, expected: str | None = None) -> str:
        tok = self.peek()
        if tok is None or (expected is not None and tok.lower() != expected.lower()):
            raise ConditionSyntaxError(f"expected {expected or 'a token'} at token {self.i}")
        self.i += 1
        return tok

    def parse(self) -> Node:
        node = self.expr()
        if self.peek() is not None:
            raise ConditionSyntaxError(f"unexpected {self.peek()!r} at token {self.i}")
        return node

    def expr(self) -> Node:
        return self._chain("or", ("or", "||"), self.conj)

    def conj(self) -> Node:
        return self._chain("and", ("and", "&&"), self.unary)

    def _chain(self, op: str, words: tuple[str, ...], sub: Callable[[], Node]) -> Node:
        parts = [sub()]
        while (tok := self.peek()) is not None and tok.lower() in words:
            self.take()
            parts.append(sub())
        return parts[0] if len(parts) == 1 else BoolOp(op, tuple(parts))

    def unary(self) -> Node:
        tok = self.peek()
        if tok is not None and tok.lower() in ("!", "not"):
            self.take()
            return Not(self.unary())
        return self.primary()

    def primary(self) -> Node:
        tok = self.peek()
        if tok is None:
            raise ConditionSyntaxError("unexpected end of condition")
        if tok == "(":
            self.take()
            node = self.expr()
            self.take(")")
            return node
        if tok.lower() in ("actionmatches", "suboperationmatches"):
            self.take()
            return ActionMatches(self.value_set(), tok.lower() == "suboperationmatches")
        if tok.startswith("@"):
            return self.comparison()
        raise ConditionSyntaxError(f"unexpected {tok!r} at token {self.i}")

    def comparison(self) -> Compare:
        m = re.fullmatch(r"@(\w+)\[([^\]]*)\]", self.take())
        assert m is not None
        op = self.take()
        if op.startswith("'") or op in "(){},!":
            raise ConditionSyntaxError(f"expected an operator, got {op!r}")
        quantifier, _, operator = op.rpartition(":")
        values = self.value_set() if self.peek() == "{" else (self.scalar(),)
        return Compare(
            m.group(1).lower(), m.group(2).strip().lower(), quantifier.lower() or None,
            operator.lower(), values,
        )  # fmt: skip

    def value_set(self) -> tuple[str, ...]:
        self.take("{")
        values = [self.scalar()]
        while self.peek() == ",":
            self.take()
            values.append(self.scalar())
        self.take("}")
        return tuple(values)

    def scalar(self) -> str:
        tok = self.take()
        if tok.startswith("'"):
            return tok[1:-1].replace("''", "'")
        if tok in "(){},!" or tok.startswith("@"):
            raise ConditionSyntaxError(f"expected a value, got {tok!r}")
        return tok


def parse(text: str) -> Node:
    """The condition's syntax tree, or ConditionSyntaxError."""
    return _Parser(text).parse()


# ---------------------------------------------------------------------- evaluation


def action_matches(pattern: str, action: str) -> bool:
    """ARM action wildcard match, case-insensitive: `*` spans anything, and a `/*/` segment may
    also be empty.

    Built-in roles rely on the empty segment: Managed Identity Operator's
    `userAssignedIdentities/*/assign/action` and `.../*/read` are what grant
    `userAssignedIdentities/assign/action` (attaching an identity) and `.../read`.
    """
    escaped = re.escape(pattern.lower())
    regex = "^" + escaped.replace(r"/\*/", "/(?:.*/)?").replace(r"\*", ".*") + "$"
    return re.match(regex, action.lower()) is not None


def _guid(v: str) -> str:
    return v.strip().strip("{}").lower()


_OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "guidequals": lambda a, b: _guid(a) == _guid(b),
    "guidnotequals": lambda a, b: _guid(a) != _guid(b),
    "stringequals": lambda a, b: a == b,
    "stringnotequals": lambda a, b: a != b,
    "stringequalsignorecase": lambda a, b: a.lower() == b.lower(),
    "stringnotequalsignorecase": lambda a, b: a.lower() != b.lower(),
    "stringlike": fnmatch.fnmatchcase,
    "stringnotlike": lambda a, b: not fnmatch.fnmatchcase(a, b),
    "stringstartswith": lambda a, b: a.startswith(b),
    "stringnotstartswith": lambda a, b: not a.startswith(b),
    "stringstartswithignorecase": lambda a, b: a.lower().startswith(b.lower()),
    "stringnotstartswithignorecase": lambda a, b: not a.lower().startswith(b.lower()),
}


def _compare(node: Compare, attributes: Attributes) -> bool:
    found = attributes.get(f"{node.source}:{node.attribute}")
    fn = _OPERATORS.get(node.operator)
    if not found or fn is None:
        return False
    outer = all if node.quantifier and node.quantifier.startswith("forall") else any
    inner = all if node.quantifier and node.quantifier.endswith("ofallvalues") else any
    return outer(inner(fn(a, v) for v in node.values) for a in found)


def evaluate(condition: str | Node, action: str, attributes: Attributes) -> bool:
    """Whether the condition holds for `action`; syntax errors count as not satisfied."""
    try:
        node = parse(condition) if isinstance(condition, str) else condition
    except ConditionSyntaxError:
        return False
    return _eval(node, action, attributes)


def _eval(node: Node, action: str, attributes: Attributes) -> bool:
    if isinstance(node, Not):
        return not _eval(node.operand, action, attributes)
    if isinstance(node, BoolOp):
        results = (_eval(n, action, attributes) for n in node.operands)
        return all(results) if node.op == "and" else any(results)
    if isinstance(node, ActionMatches):
        if node.sub_operation:
            return False  # sub-operations are not modelled
        return any(action_matches(p, action) for p in node.patterns)
    return _compare(node, attributes)
