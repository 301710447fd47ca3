"""An in-memory database for pure tests: the local Azure's SQL catalog behind a DB-API connection.

The catalog model, T-SQL lexer and statement interpreter are the local Azure's own
(`local_azure/providers/sql/`), the same code its SQL endpoint runs; only Microsoft Entra is a
dict here instead of the emulator's directory. `FakeCatalog` therefore understands exactly the
statements the `sql` package generates and its catalog queries, and refuses anything else
loudly. `RecordingConnection` is a DB-API connection onto it that records every statement and
honours commit/rollback. Tests of the real path use the endpoint (tests/sql/test_sql_local.py).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from local_azure.providers.sql import queries, statements
from local_azure.providers.sql.catalog import FIXED_ROLES, Catalog, DbPrincipal, sid_of
from local_azure.providers.sql.lexer import LexError, Token, skeleton, tokenize
from local_azure.providers.sql.statements import Entra, SqlError

__all__ = [
    "FIXED_ROLES",
    "FakeCatalog",
    "FakeSqlError",
    "LexError",
    "Principal",
    "RecordingConnection",
    "Token",
    "sid_of",
    "skeleton",
    "tokenize",
]

FakeSqlError = SqlError
Principal = DbPrincipal


@dataclass
class _DictDirectory:
    """Entra as a dict: display name -> client id; `lagging` names are not replicated yet."""

    catalog: FakeCatalog

    def _entra(self, name: str, app_id: str) -> Entra:
        key = name.lower()
        remaining = self.catalog.lagging.get(key, 0)
        if remaining > 0:
            self.catalog.lagging[key] = remaining - 1
        return Entra(app_id, app_id, group=False, visible=remaining <= 0)

    def by_name(self, name: str) -> list[Entra]:
        key = name.lower()
        app_id = self.catalog.directory.get(key) or self.catalog.directory.get(name)
        if app_id is None and self.catalog.entra is not None:
            app_id = self.catalog.entra(name)
        return [self._entra(name, app_id)] if app_id else []

    def by_object_id(self, object_id: str) -> Entra | None:
        for name, oid in self.catalog.object_ids.items():
            app_id = self.catalog.directory.get(name)
            if oid.lower() == object_id.lower() and app_id:
                return self._entra(name, app_id)
        if self.catalog.entra_objects is not None:
            found = self.catalog.entra_objects(object_id)
            if found is not None:
                return self._entra(*found)
        return None


@dataclass
class FakeCatalog(Catalog):
    """One database, with `directory` (display name -> client id) or `entra` standing for Entra.

    A name listed in `lagging` is not replicated yet for that many more CREATE USER attempts
    (error 33130). `object_ids` maps a display name to its object id, for WITH OBJECT_ID.
    """

    directory: dict[str, str] = field(default_factory=dict)
    lagging: dict[str, int] = field(default_factory=dict)
    entra: Callable[[str], str | None] | None = None
    object_ids: dict[str, str] = field(default_factory=dict)
    # Or ask a live directory for an object id's (display name, client id).
    entra_objects: Callable[[str], tuple[str, str] | None] | None = None

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        answer = queries.answer(sql)
        if answer is None:
            raise NotImplementedError(f"the fake does not know this query: {sql}")
        return answer(self)

    def run(self, sql: str) -> None:
        statements.run(self, sql, _DictDirectory(self))


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
            c = self.catalog
            shared = {id(c.directory): c.directory, id(c.lagging): c.lagging,
                      id(c.object_ids): c.object_ids}
            self._pending = copy.deepcopy(c, shared)
        return self._pending

    def cursor(self) -> RecordingCursor:
        assert not self.closed
        return RecordingCursor(self)

    def commit(self) -> None:
        if self._pending is not None:
            self.catalog.principals = self._pending.principals
            self.catalog.members = self._pending.members
            self.catalog.schemas = self._pending.schemas
            self.catalog.next_id = self._pending.next_id
        self._pending = None
        self.commits += 1

    def rollback(self) -> None:
        self._pending = None
        self.rollbacks += 1

    def close(self) -> None:
        self.closed = True
