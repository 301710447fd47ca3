"""T-SQL tokens as SQL Server's lexer sees them, for the subset of the language served here.

Identifiers in brackets (`]` doubled inside), N'' and '' string literals (`'` doubled), words,
numbers and punctuation. A block comment is a token of its own so that the interpreter can
refuse it: nothing the reconciler sends contains one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
    |(?P<comment>--[^\n]*|/\*)
    |(?P<ident>\[(?:[^\]]|\]\])*\])
    |(?P<nstr>N'(?:[^']|'')*')
    |(?P<str>'(?:[^']|'')*')
    |(?P<word>[A-Za-z_@#][A-Za-z0-9_@#$]*)
    |(?P<num>\d+)
    |(?P<punct>::|[().,=;*:<>])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str  # ident, nstr, str, word, num, punct, comment
    text: str

    @property
    def value(self) -> str:
        """What the token stands for: an identifier's or a string's content, unescaped."""
        if self.kind == "ident":
            return self.text[1:-1].replace("]]", "]")
        if self.kind == "nstr":
            return self.text[2:-1].replace("''", "'")
        if self.kind == "str":
            return self.text[1:-1].replace("''", "'")
        return self.text


class LexError(ValueError):
    pass


def tokenize(sql: str) -> list[Token]:
    out: list[Token] = []
    pos = 0
    while pos < len(sql):
        m = _TOKEN.match(sql, pos)
        if m is None:
            raise LexError(f"unexpected {sql[pos:pos + 20]!r} at {pos}")
        kind = m.lastgroup or ""
        if kind != "ws":
            out.append(Token(kind, m.group()))
        pos = m.end()
    return out


def skeleton(tokens: Sequence[Token]) -> list[str]:
    """The statement with every identifier and string replaced by a placeholder."""
    return [
        {"ident": "[?]", "nstr": "N'?'", "str": "'?'"}.get(t.kind, t.text.upper())
        for t in tokens
    ]
