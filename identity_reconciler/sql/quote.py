"""Quoting names into T-SQL so that no name, however written, can change a statement's meaning.

DDL such as `CREATE USER` and `ALTER ROLE` takes no parameters, so user and role names must be
spliced into the text. Two forms cover every place a name appears:

- as an identifier, with QUOTENAME semantics: `[name]`, every `]` doubled;
- as a string literal, N-prefixed (names are Unicode), every `'` doubled.

Inside either form no other character is special to the T-SQL lexer, so the quoted text is one
token whatever the name holds. Names longer than a `sysname` (128 characters, where QUOTENAME
itself returns NULL) or holding NUL are refused rather than quoted.
"""

from __future__ import annotations

SYSNAME_MAX = 128


class UnsafeName(ValueError):
    """A name that cannot be a SQL Server identifier at all."""


def check_name(name: str) -> str:
    if not name:
        raise UnsafeName("a database principal name must not be empty")
    if len(name) > SYSNAME_MAX:
        raise UnsafeName(
            f"{name[:40]!r}... is {len(name)} characters; SQL Server names hold at most "
            f"{SYSNAME_MAX}"
        )
    if "\x00" in name:
        raise UnsafeName(f"{name!r} contains a NUL character")
    return name


def quote_name(name: str) -> str:
    """`[name]` with `]` doubled, as QUOTENAME(name) returns it."""
    return "[" + check_name(name).replace("]", "]]") + "]"


def quote_literal(text: str) -> str:
    """`N'text'` with `'` doubled: a Unicode string literal."""
    if "\x00" in text:
        raise UnsafeName(f"{text!r} contains a NUL character")
    return "N'" + text.replace("'", "''") + "'"


def name_literal(name: str) -> str:
    """A name as a string literal (for catalog lookups), checked like an identifier."""
    return quote_literal(check_name(name))
