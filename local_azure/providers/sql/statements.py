"""The statements this endpoint executes, and nothing else.

Exactly the forms the reconciler emits, parsed token by token with SQL Server's quoting rules:

    SET XACT_ABORT ON;
    IF [NOT] EXISTS (SELECT 1 FROM sys.<catalog view> WHERE ...) <statement>
    BEGIN <statement>... END;
    CREATE USER [name] FROM EXTERNAL PROVIDER [WITH OBJECT_ID = '<guid>'];
    DROP USER [name];
    ALTER ROLE [role] ADD|DROP MEMBER [name];
    ALTER AUTHORIZATION ON SCHEMA::[schema] TO [principal];
    EXEC sys.sp_addextendedproperty @name = N'..', @value = N'..',
         @level0type = N'USER', @level0name = N'..';

Anything else is refused with `NotSupported`, naming what was found. Server errors carry SQL
Server's message numbers (15023, 15138, 15151, 33130, 33131, 33134, ...) and texts, because
that is what clients key their handling on.

`CREATE USER … FROM EXTERNAL PROVIDER` asks the `Directory` (Microsoft Entra as the server sees
it) for the principal: by display name (none: 33130; several: 33131) or by object id (unknown:
33134). A principal inside the replication window is not visible yet (33130).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from local_azure.providers.sql.catalog import ROLE, Catalog, sid_of
from local_azure.providers.sql.lexer import Token, tokenize

_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


class SqlError(Exception):
    """A server error, as a driver reports it: SQL Server's number and message."""

    def __init__(self, number: int, message: str) -> None:
        super().__init__(f"{message} ({number})")
        self.number = number
        self.message = message


class NotSupported(SqlError):
    """A statement form this endpoint does not execute (it is not SQL Server)."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            40000, f"The local Azure SQL endpoint runs only the statement forms identity-"
            f"reconciler emits, and this is not one of them: {detail}",
        )


@dataclass(frozen=True)
class Entra:
    """A directory principal as SQL needs it: its SID, user type, and visibility."""

    object_id: str
    sid_guid: str  # application id for service principals, object id otherwise
    group: bool
    visible: bool = True  # False inside the replication window


class Directory(Protocol):
    def by_name(self, name: str) -> list[Entra]: ...

    def by_object_id(self, object_id: str) -> Entra | None: ...


def run(db: Catalog, sql: str, directory: Directory) -> None:
    """Execute one statement (possibly a guarded block) against `db`, in place."""
    parser = _Parser(tokenize(sql), db, directory)
    parser.statement()
    parser.end()


class _Parser:
    def __init__(self, tokens: list[Token], db: Catalog, directory: Directory) -> None:
        self.tokens = tokens
        self.pos = 0
        self.db = db
        self.directory = directory

    # ------------------------------------------------------------- token helpers

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def at(self, word: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind == "word" and tok.text.upper() == word

    def take(self, kind: str, text: str | None = None) -> Token:
        tok = self.peek()
        if tok is None or tok.kind != kind or (text is not None and tok.text.upper() != text):
            found = "the end of the statement" if tok is None else repr(tok.text)
            raise NotSupported(f"expected {text or kind}, found {found}")
        self.pos += 1
        return tok

    def literal(self) -> str:
        tok = self.peek()
        if tok is not None and tok.kind in ("nstr", "str"):
            self.pos += 1
            return tok.value
        return self.take("nstr").value

    def words(self, *texts: str) -> None:
        for text in texts:
            if text in ("(", ")", ".", ",", "=", ";", "::"):
                self.take("punct", text)
            else:
                self.take("word", text)

    def end(self) -> None:
        if self.peek() is not None:
            raise NotSupported(f"unexpected {self.peek().text!r} after the statement")  # type: ignore[union-attr]

    # ------------------------------------------------------------- conditions

    def principal_id(self) -> int | None:
        self.words("DATABASE_PRINCIPAL_ID", "(")
        name = self.literal()
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
            return self.db.principal(self.literal()) is not None
        if table == "extended_properties":
            self.words("CLASS", "=")
            self.take("num", "4")
            self.words("AND", "MAJOR_ID", "=")
            pid = self.principal_id()
            self.words("AND", "MINOR_ID", "=")
            self.take("num", "0")
            self.words("AND", "NAME", "=")
            key = self.literal()
            return pid is not None and key in self.db.principals[pid].properties
        if table == "database_role_members":
            self.words("ROLE_PRINCIPAL_ID", "=")
            role = self.principal_id()
            self.words("AND", "MEMBER_PRINCIPAL_ID", "=")
            member = self.principal_id()
            return (role, member) in self.db.members
        if table == "schemas":
            self.words("NAME", "=")
            schema = self.db.schema(self.literal())
            self.words("AND", "PRINCIPAL_ID", "=")
            owner = self.principal_id()
            return schema is not None and self.db.schemas[schema] == owner
        raise NotSupported(f"sys.{table} is not a catalog view served here")

    # ------------------------------------------------------------- statements

    def statement(self) -> None:
        word = self.take("word").text.upper()
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
            self.create_user()
        elif word == "DROP":
            self.drop_user()
        elif word == "ALTER":
            if self.at("AUTHORIZATION"):
                self.alter_authorization()
            else:
                self.alter_role()
        elif word == "EXEC":
            self.add_property()
        else:
            raise NotSupported(f"{word} statements")

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

    def create_user(self) -> None:
        self.words("USER")
        name = self.take("ident").value
        self.words("FROM", "EXTERNAL", "PROVIDER")
        object_id = None
        if self.at("WITH"):
            self.words("WITH", "OBJECT_ID", "=")
            object_id = self.literal()
        self.words(";")
        if self.db.principal(name) is not None:
            raise SqlError(15023, f"User, group, or role '{name}' already exists in the current "
                                  "database.")
        found = self.resolve(name, object_id)
        sid = sid_of(found.sid_guid)
        if any(p.sid == sid for p in self.db.principals.values()):
            raise SqlError(15063, "The login already has an account under a different user name.")
        self.db.add(name, "X" if found.group else "E", sid=sid)

    def resolve(self, name: str, object_id: str | None) -> Entra:
        if object_id is not None:
            if not _GUID.match(object_id):
                raise SqlError(33134, f"Principal '{name}' could not be resolved. Error message: "
                                      f"'OBJECT_ID {object_id!r} is not a GUID'")
            found = self.directory.by_object_id(object_id)
            if found is None:
                raise SqlError(33134, f"Principal '{name}' could not be resolved. Error message: "
                                      f"'no directory object has the id {object_id}'")
            candidates = [found]
        else:
            candidates = self.directory.by_name(name)
            if len(candidates) > 1:
                raise SqlError(33131, f"Principal '{name}' has a duplicate display name. Make the "
                                      "display name unique in Azure Active Directory and execute "
                                      "this statement again.")
        if not candidates or not candidates[0].visible:
            raise SqlError(33130, f"Principal '{name}' could not be found or this principal type "
                                  "is not supported.")
        return candidates[0]

    def drop_user(self) -> None:
        self.words("USER")
        name = self.take("ident").value
        self.words(";")
        p = self.db.principal(name)
        if p is None or p.type == ROLE:
            raise SqlError(15151, f"Cannot drop the user '{name}', because it does not exist or "
                                  "you do not have permission.")
        if self.db.owned_schemas(p.id):
            raise SqlError(15138, "The database principal owns a schema in the database, and "
                                  "cannot be dropped.")
        self.db.drop(p.id)

    def alter_role(self) -> None:
        self.words("ROLE")
        role_name = self.take("ident").value
        verb = self.take("word").text.upper()
        if verb not in ("ADD", "DROP"):
            raise NotSupported(f"ALTER ROLE … {verb}")
        self.words("MEMBER")
        member_name = self.take("ident").value
        self.words(";")
        role, member = self.db.principal(role_name), self.db.principal(member_name)
        if role is None or role.type != ROLE:
            raise SqlError(15151, f"Cannot alter the role '{role_name}', because it does not "
                                  "exist or you do not have permission.")
        if member is None:
            raise SqlError(15151, f"Cannot add the principal '{member_name}', because it does "
                                  "not exist or you do not have permission.")
        if verb == "ADD":
            self.db.members.add((role.id, member.id))
        else:
            self.db.members.discard((role.id, member.id))

    def alter_authorization(self) -> None:
        self.words("AUTHORIZATION", "ON", "SCHEMA", "::")
        schema_name = self.take("ident").value
        self.words("TO")
        owner_name = self.take("ident").value
        self.words(";")
        schema, owner = self.db.schema(schema_name), self.db.principal(owner_name)
        if schema is None:
            raise SqlError(15151, f"Cannot find the schema '{schema_name}', because it does not "
                                  "exist or you do not have permission.")
        if owner is None:
            raise SqlError(15151, f"Cannot find the user '{owner_name}', because it does not "
                                  "exist or you do not have permission.")
        self.db.schemas[schema] = owner.id

    def add_property(self) -> None:
        self.words("SYS", ".", "SP_ADDEXTENDEDPROPERTY")
        args: dict[str, str] = {}
        for i, name in enumerate(("@NAME", "@VALUE", "@LEVEL0TYPE", "@LEVEL0NAME")):
            if i:
                self.words(",")
            self.take("word", name)
            self.words("=")
            args[name] = self.literal()
        self.words(";")
        target = self.db.principal(args["@LEVEL0NAME"])
        if args["@LEVEL0TYPE"].upper() != "USER" or target is None or target.type == ROLE:
            raise SqlError(15135, "Object is invalid. Extended properties are not permitted on "
                                  f"'{args['@LEVEL0NAME']}', or the object does not exist.")
        if args["@NAME"] in target.properties:
            raise SqlError(15233, "Property cannot be added. Property 'managed-by' already "
                                  f"exists for '{target.name}'.")
        target.properties[args["@NAME"]] = args["@VALUE"]
