"""An honest stand-in for a database: a T-SQL tokenizer, a FakeCatalog, a RecordingConnection.

There is no SQL Server on these machines. `FakeCatalog` is an in-memory database that
understands exactly the statements the `sql` package generates and its two catalog queries —
parsed token by token, with SQL Server's quoting rules — and refuses anything else loudly, so a
change to the generated T-SQL that the fake does not understand fails the tests instead of
passing silently. `RecordingConnection` is a DB-API connection onto it that records every
statement and honours commit/rollback.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from identity_reconciler.sql import PRINCIPALS_QUERY, ROLE_MEMBERS_QUERY

# --------------------------------------------------------------------------- tokenizer

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
    |(?P<comment>--[^\n]*|/\*)
    |(?P<ident>\[(?:[^\]]|\]\])*\])
    |(?P<nstr>N'(?:[^']|'')*')
    |(?P<str>'(?:[^']|'')*')
    |(?P<word>[A-Za-z_@#][A-Za-z0-9_@#$]*)
    |(?P<num>\d+)
    |(?P<punct>[().,=;*])
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
    """T-SQL tokens as SQL Server's lexer sees them (for the subset we generate)."""
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


# --------------------------------------------------------------------------- the fake database


class FakeSqlError(Exception):
    """What a driver raises for a server error: the message carries SQL Server's number."""


def sid_of(app_id: str) -> str:
    return "0x" + uuid.UUID(app_id).bytes_le.hex().upper()


FIXED_ROLES = (
    "db_owner", "db_accessadmin", "db_securityadmin", "db_ddladmin", "db_backupoperator",
    "db_datareader", "db_datawriter", "db_denydatareader", "db_denydatawriter",
)


@dataclass
class Principal:
    id: int
    name: str
    type: str
    sid: str | None = None
    properties: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeCatalog:
    """One database: principals, direct role memberships, extended properties.

    `directory` is Entra as the server sees it (display name -> client id), or `entra` answers
    for it; a name listed in `lagging` is not replicated yet for that many more CREATE USER
    attempts (error 33130).
    """

    directory: dict[str, str] = field(default_factory=dict)
    lagging: dict[str, int] = field(default_factory=dict)
    # Or ask a live directory (the emulator's identities) for a display name's client id.
    entra: Callable[[str], str | None] | None = None
    principals: dict[int, Principal] = field(default_factory=dict)
    members: set[tuple[int, int]] = field(default_factory=set)
    next_id: int = 5

    def __post_init__(self) -> None:
        if not self.principals:
            for pid, name in ((1, "dbo"), (2, "guest"), (3, "INFORMATION_SCHEMA"), (4, "sys")):
                self.principals[pid] = Principal(pid, name, "S", "0x01" if pid == 1 else None)
            for i, role in enumerate(FIXED_ROLES):
                self.principals[16384 + i] = Principal(16384 + i, role, "R")

    # ------------------------------------------------------------- set-up helpers for tests

    def principal(self, name: str) -> Principal | None:
        return next((p for p in self.principals.values() if p.name.lower() == name.lower()), None)

    def add(self, name: str, type_: str = "E", *, app_id: str | None = None, owned: bool = False,
            roles: Sequence[str] = ()) -> Principal:
        self.next_id += 1
        sid = sid_of(app_id) if app_id else None
        p = Principal(self.next_id, name, type_, sid)
        if owned:
            p.properties["managed-by"] = "identity-reconciler"
        self.principals[p.id] = p
        for role in roles:
            target = self.principal(role)
            assert target is not None, role
            self.members.add((target.id, p.id))
        return p

    def roles_of(self, name: str) -> set[str]:
        p = self.principal(name)
        if p is None:
            return set()
        return {self.principals[r].name for r, m in self.members if m == p.id}

    # ------------------------------------------------------------- the two catalog queries

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        if sql == PRINCIPALS_QUERY:
            return [
                (p.name, p.type, p.sid, p.properties.get("managed-by"))
                for p in self.principals.values()
            ]
        if sql == ROLE_MEMBERS_QUERY:
            return [(self.principals[r].name, self.principals[m].name) for r, m in self.members]
        raise NotImplementedError(f"the fake does not know this query: {sql}")

    # ------------------------------------------------------------- statements

    def run(self, sql: str) -> None:
        parser = _Parser(tokenize(sql), self)
        parser.statement()
        parser.end()


class _Parser:
    """Executes one statement of the grammar we generate, failing on anything else."""

    def __init__(self, tokens: list[Token], db: FakeCatalog) -> None:
        self.tokens = tokens
        self.pos = 0
        self.db = db

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def at(self, word: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind == "word" and tok.text.upper() == word

    def take(self, kind: str, text: str | None = None) -> Token:
        tok = self.peek()
        if tok is None or tok.kind != kind or (text is not None and tok.text.upper() != text):
            raise NotImplementedError(f"the fake expected {text or kind}, found {tok}")
        self.pos += 1
        return tok

    def words(self, *texts: str) -> None:
        for text in texts:
            if text in "().,=;":
                self.take("punct", text)
            else:
                self.take("word", text)

    def end(self) -> None:
        if self.peek() is not None:
            raise NotImplementedError(f"the fake found more after the statement: {self.peek()}")

    def principal_id(self) -> int | None:
        self.words("DATABASE_PRINCIPAL_ID", "(")
        name = self.take("nstr").value
        self.words(")")
        p = self.db.principal(name)
        return p.id if p else None

    def condition(self) -> bool:
        self.words("SELECT")
        self.take("num", "1")
        self.words("FROM", "SYS", ".")
        table = self.take("word").text.lower()
        self.words("WHERE")
        if table == "database_principals":
            self.words("NAME", "=")
            return self.db.principal(self.take("nstr").value) is not None
        if table == "extended_properties":
            self.words("CLASS", "=")
            self.take("num", "4")
            self.words("AND", "MAJOR_ID", "=")
            pid = self.principal_id()
            self.words("AND", "MINOR_ID", "=")
            self.take("num", "0")
            self.words("AND", "NAME", "=")
            key = self.take("nstr").value
            return pid is not None and key in self.db.principals[pid].properties
        if table == "database_role_members":
            self.words("ROLE_PRINCIPAL_ID", "=")
            role = self.principal_id()
            self.words("AND", "MEMBER_PRINCIPAL_ID", "=")
            member = self.principal_id()
            return (role, member) in self.db.members
        raise NotImplementedError(f"the fake does not know sys.{table}")

    def statement(self) -> None:
        tok = self.take("word")
        word = tok.text.upper()
        if word == "IF":
            negate = self.at("NOT")
            if negate:
                self.words("NOT")
            self.words("EXISTS", "(")
            holds = self.condition() != negate
            self.words(")")
            if holds:
                self.statement()
            else:
                self.skip_statement()
        elif word == "BEGIN":
            while not self.at("END"):
                self.statement()
            self.words("END", ";")
        elif word == "SET":
            self.words("XACT_ABORT", "ON", ";")
        elif word == "CREATE":
            self.words("USER")
            name = self.take("ident").value
            self.words("FROM", "EXTERNAL", "PROVIDER", ";")
            self.create_user(name)
        elif word == "DROP":
            self.words("USER")
            p = self.db.principal(self.take("ident").value)
            self.words(";")
            if p is None:
                raise FakeSqlError("Msg 15151: Cannot drop the user, because it does not exist")
            del self.db.principals[p.id]
            self.db.members = {(r, m) for r, m in self.db.members if m != p.id}
        elif word == "ALTER":
            self.alter_role()
        elif word == "EXEC":
            self.add_property()
        else:
            raise NotImplementedError(f"the fake cannot run {word}")

    def skip_statement(self) -> None:
        """Consume one (possibly BEGIN…END) statement without running it."""
        depth = 0
        while (tok := self.peek()) is not None:
            self.pos += 1
            if tok.kind == "word" and tok.text.upper() == "BEGIN":
                depth += 1
            elif tok.kind == "word" and tok.text.upper() == "END":
                depth -= 1
            elif tok.kind == "punct" and tok.text == ";" and depth == 0:
                return

    def create_user(self, name: str) -> None:
        key = name.lower()
        if self.db.principal(name) is not None:
            raise FakeSqlError(f"Msg 15023: User, group, or role '{name}' already exists")
        remaining = self.db.lagging.get(key, 0)
        app_id = self.db.directory.get(key) or (self.db.entra(name) if self.db.entra else None)
        if remaining > 0 or app_id is None:
            self.db.lagging[key] = max(0, remaining - 1)
            raise FakeSqlError(
                f"Msg 33130: Principal '{name}' could not be found or this principal type is "
                "not supported."
            )
        self.db.add(name, "E", app_id=app_id)

    def alter_role(self) -> None:
        self.words("ROLE")
        role = self.db.principal(self.take("ident").value)
        verb = self.take("word").text.upper()
        self.words("MEMBER")
        member = self.db.principal(self.take("ident").value)
        self.words(";")
        if role is None or role.type != "R" or member is None:
            raise FakeSqlError("Msg 15151: Cannot alter the role, because it does not exist")
        if verb == "ADD":
            self.db.members.add((role.id, member.id))
        elif verb == "DROP":
            self.db.members.discard((role.id, member.id))
        else:
            raise NotImplementedError(f"the fake cannot ALTER ROLE … {verb}")

    def add_property(self) -> None:
        self.words("SYS", ".", "SP_ADDEXTENDEDPROPERTY")
        args: dict[str, str] = {}
        for i, name in enumerate(("@NAME", "@VALUE", "@LEVEL0TYPE", "@LEVEL0NAME")):
            if i:
                self.words(",")
            self.take("word", name)
            self.words("=")
            args[name] = self.take("nstr").value
        self.words(";")
        target = self.db.principal(args["@LEVEL0NAME"])
        if args["@LEVEL0TYPE"].upper() != "USER" or target is None:
            raise FakeSqlError("Msg 15135: Object is invalid; extended properties not permitted")
        if args["@NAME"] in target.properties:
            raise FakeSqlError("Msg 15233: Property cannot be added. Property already exists")
        target.properties[args["@NAME"]] = args["@VALUE"]


# --------------------------------------------------------------------------- DB-API connection


class RecordingCursor:
    def __init__(self, conn: RecordingConnection) -> None:
        self.conn = conn
        self.rows: list[tuple[Any, ...]] = []

    def execute(self, operation: str, *parameters: Any) -> RecordingCursor:
        assert not parameters, "the sql package never sends parameters"
        self.conn.executed.append(operation)
        if operation.lstrip().upper().startswith("SELECT"):
            self.rows = self.conn.working().query(operation)
        else:
            self.rows = []
            self.conn.working().run(operation)
        return self

    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self.rows)

    def close(self) -> None:
        pass


class RecordingConnection:
    """A DB-API connection onto a FakeCatalog: autocommit off, every statement recorded."""

    def __init__(self, catalog: FakeCatalog) -> None:
        self.catalog = catalog
        self.executed: list[str] = []
        self.commits = 0
        self.rollbacks = 0
        self.closed = False
        self._pending: FakeCatalog | None = None

    def working(self) -> FakeCatalog:
        """The transaction's copy of the database; Entra (directory, lag) is shared, not copied."""
        if self._pending is None:
            shared = {id(self.catalog.directory): self.catalog.directory,
                      id(self.catalog.lagging): self.catalog.lagging}
            self._pending = copy.deepcopy(self.catalog, shared)
        return self._pending

    def cursor(self) -> RecordingCursor:
        assert not self.closed
        return RecordingCursor(self)

    def commit(self) -> None:
        if self._pending is not None:
            self.catalog.principals = self._pending.principals
            self.catalog.members = self._pending.members
            self.catalog.next_id = self._pending.next_id
        self._pending = None
        self.commits += 1

    def rollback(self) -> None:
        self._pending = None
        self.rollbacks += 1

    def close(self) -> None:
        self.closed = True
