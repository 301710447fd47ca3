"""Apply a plan's Azure SQL changes: T-SQL through a DB-API connection, checked against the plan.

Two ways. `apply_sql` takes a plan's SQL changes per database: connect, re-read the catalog and
refuse if any user the plan touches changed since (stale plan), then run every statement in one
transaction. `SqlChangeRunner` is the apply engine's runner (its `ApplyOptions.sql`): the engine
orders and skips changes, and serialises each database's, so each change is one transaction.
Either way, creating the user of an identity made moments ago can fail until Entra has
replicated it (error 33130); that transaction is retried with backoff for a bounded time.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Literal

from identity_reconciler.apply.sql_connector import (
    NO_LOCAL_ENDPOINT,
    Connector,
    default_connector,
)
from identity_reconciler.azure.clients import Session
from identity_reconciler.azure.errors import scrub
from identity_reconciler.plan import Change
from identity_reconciler.sql import (
    Connection,
    LiveSqlDatabase,
    SqlExecutionError,
    execute,
    read_database,
)

# "Principal '…' could not be found or this principal type is not supported."
_NOT_REPLICATED = ("33130", "could not be found or this principal type is not supported")


@dataclass(frozen=True)
class SqlOutcome:
    address: str
    status: Literal["done", "failed", "skipped"]
    message: str | None = None


def _user_of(change: Change) -> str:
    view = change.after or change.before or {}
    return str(view.get("user", ""))


def _target(change: Change) -> tuple[str, str]:
    body = (change.operations[0].body or {}) if change.operations else {}
    return str(body.get("server", "")), str(body.get("database", ""))


def _stale(changes: Sequence[Change], live: LiveSqlDatabase) -> str | None:
    for change in changes:
        user = live.user(_user_of(change))
        now = user.fingerprint if user is not None else None
        if now != change.live_fingerprint:
            state = "now exists" if change.live_fingerprint is None else "changed or is gone"
            return (
                f"stale plan: user {_user_of(change)!r} {state} since the plan was made "
                f"({change.address}); run plan again"
            )
    return None


def _not_replicated(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(marker in text for marker in _NOT_REPLICATED)


@dataclass
class _Database:
    changes: list[Change]
    connect: Connector
    wait_seconds: float
    sleep: Callable[[float], None]

    def run(self) -> list[SqlOutcome]:
        endpoint, database = _target(self.changes[0])
        waited, delay = 0.0, 5.0
        while True:
            try:
                return self._once(endpoint, database)
            except SqlExecutionError as exc:
                if not _not_replicated(exc.cause) or waited >= self.wait_seconds:
                    return self._failed(exc)
            except Exception as exc:  # no connection, unreadable catalog
                return [SqlOutcome(c.address, "failed", scrub(str(exc))) for c in self.changes]
            self.sleep(delay)
            waited += delay
            delay = min(delay * 2, 60.0)

    def _once(self, endpoint: str, database: str) -> list[SqlOutcome]:
        conn = self.connect(endpoint, database)
        try:
            first = self.changes[0]
            server_id = (first.id or "").rsplit("/databases/", 1)[0]
            problem = _stale(self.changes, read_database(conn, server_id, database))
            if problem is not None:
                return [SqlOutcome(c.address, "failed", problem) for c in self.changes]
            execute(
                conn,
                [
                    str((op.body or {}).get("tsql"))
                    for c in self.changes
                    for op in c.operations
                    if op.method == "TSQL"
                ],
            )
        finally:
            with contextlib.suppress(Exception):
                conn.close()
        return [SqlOutcome(c.address, "done") for c in self.changes]

    def _failed(self, exc: SqlExecutionError) -> list[SqlOutcome]:
        culprit, seen = None, 0
        for change in self.changes:
            seen += sum(op.method == "TSQL" for op in change.operations)
            if exc.index < seen:
                culprit = change.address
                break
        message = scrub(str(exc))
        return [
            SqlOutcome(c.address, "failed", message)
            if c.address == culprit or culprit is None
            else SqlOutcome(c.address, "skipped", f"rolled back: {culprit} failed")
            for c in self.changes
        ]


class SqlStale(Exception):
    """A user the plan touches changed since the plan was made: nothing was written for it."""

    code = "SqlStalePlan"


class SqlFailed(Exception):
    """A change's T-SQL failed; its transaction was rolled back."""

    code = "SqlStatementFailed"


class SqlChangeRunner:
    """`ApplyOptions.sql` for the apply engine: one SQL change at a time, as the graph orders.

    The engine serialises each database's changes (one lane per database) and skips those whose
    identity failed, so here each change is its own transaction. The catalog is compared with
    the plan once per user, before the first write to it: after our own write its fingerprint
    legitimately changes. Connections are opened once per database and closed by `close()`.
    """

    def __init__(
        self,
        session: Session | None = None,
        *,
        connect: Connector | None = None,
        wait_seconds: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.connect = connect or (default_connector(session) if session is not None else None)
        self.wait_seconds = wait_seconds
        self.sleep = sleep
        self._lock = threading.Lock()
        self._connections: dict[str, Connection] = {}
        # (database, user) -> why it is stale, or None: decided before the first write to it
        self._verdicts: dict[tuple[str, str], str | None] = {}

    def _connection(self, change: Change) -> Connection:
        key = (change.id or "").lower()
        with self._lock:
            conn = self._connections.get(key)
        if conn is None:
            if self.connect is None:
                raise SqlFailed(f"{change.address}: {NO_LOCAL_ENDPOINT}")
            conn = self.connect(*_target(change))
            with self._lock:
                self._connections[key] = conn
        return conn

    def __call__(self, change: Change) -> int:
        conn = self._connection(change)
        user = ((change.id or "").lower(), _user_of(change).lower())
        with self._lock:
            checked, problem = user in self._verdicts, self._verdicts.get(user)
        if not checked:
            server_id = (change.id or "").rsplit("/databases/", 1)[0]
            live = read_database(conn, server_id, _target(change)[1])
            problem = _stale([change], live)
            with self._lock:
                self._verdicts[user] = problem  # a stale user stays refused for this apply
        if problem is not None:
            raise SqlStale(problem)
        statements = [
            str((op.body or {}).get("tsql")) for op in change.operations if op.method == "TSQL"
        ]
        waited, delay = 0.0, 5.0
        while True:
            try:
                return execute(conn, statements).statements
            except SqlExecutionError as exc:
                if not _not_replicated(exc.cause) or waited >= self.wait_seconds:
                    raise SqlFailed(scrub(str(exc))) from None
            self.sleep(delay)
            waited += delay
            delay = min(delay * 2, 60.0)

    def close(self) -> None:
        with self._lock:
            connections = list(self._connections.values())
            self._connections.clear()
        for conn in connections:
            with contextlib.suppress(Exception):
                conn.close()


def apply_sql(
    session: Session | None,
    changes: Sequence[Change],
    *,
    connect: Connector | None = None,
    failed: Collection[str] = (),
    wait_seconds: float = 300.0,
    sleep: Callable[[float], None] = time.sleep,
) -> list[SqlOutcome]:
    """Run the plan's SQL changes (in plan order), one transaction per database.

    `failed` holds addresses of changes that failed or were skipped earlier in the apply: SQL
    changes depending on them (directly or through another SQL change) are skipped.
    """
    connector = connect or (default_connector(session) if session is not None else None)
    blocked = {a.lower() for a in failed}
    outcomes: list[SqlOutcome] = []
    by_database: dict[str, list[Change]] = {}
    for change in changes:
        waits = [d for d in change.depends_on if d.lower() in blocked]
        if waits:
            blocked.add(change.address.lower())
            outcomes.append(SqlOutcome(change.address, "skipped", f"{waits[0]} did not apply"))
            continue
        by_database.setdefault((change.id or "").lower(), []).append(change)
    for group in by_database.values():
        if connector is None:
            outcomes += [SqlOutcome(c.address, "failed", NO_LOCAL_ENDPOINT) for c in group]
            continue
        outcomes += _Database(group, connector, wait_seconds, sleep).run()
    return outcomes
