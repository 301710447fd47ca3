"""Quoting names into T-SQL so that no name, however written, can change a statement's meaning.

DDL such as `CREATE USER` and `ALTER ROLE` takes no parameters, so user and role names must be
spliced into the text. Two forms cover every place a name appears:

- as an identifier, with QUOTENAME semantics: `[name]`, every `]` doubled;
- as a string literal, N-prefixed (names are Unicode), every `'` doubled.

Inside either form no other character is special to the T-SQL lexer, so the quoted text is one
token whatever the name holds. Names longer than a `sysname` (128 characters, where QUOTENAME
itself returns NULL) are refused rather than quoted, and so are names holding control characters
(line breaks included): SQL would take them, but every statement is shown to reviewers in
terminals and pull-request comments, where such a name could forge lines of the plan.
"""

from __future__ import annotations

import re

SYSNAME_MAX = 128
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class UnsafeName(ValueError):
    """A name this package will not put into T-SQL (and so will not manage)."""


def check_name(name: str) -> str:
    if not name:
        raise UnsafeName("a database principal name must not be empty")
    if len(name) > SYSNAME_MAX:
        raise UnsafeName(
            f"{name[:40]!r}... is {len(name)} characters; SQL Server names hold at most "
            f"{SYSNAME_MAX}"
        )
    _check_text(name)
    return name


def _check_text(text: str) -> None:
    if _CONTROL.search(text):
        raise UnsafeName(f"{text!r} contains control characters; manage it by hand")


def quote_name(name: str) -> str:
    """`[name]` with `]` doubled, as QUOTENAME(name) returns it."""
    return "[" + check_name(name).replace("]", "]]") + "]"


def quote_literal(text: str) -> str:
    """`N'text'` with `'` doubled: a Unicode string literal."""
    _check_text(text)
    return "N'" + text.replace("'", "''") + "'"


def name_literal(name: str) -> str:
    """A name as a string literal (for catalog lookups), checked like an identifier."""
    return quote_literal(check_name(name))
