"""The emulator's SQLite store: ARM documents keyed by lower-case id, principals, and metadata.

One table holds every ARM object (tenants, subscriptions, resource groups, resources,
identities, federated credentials, role definitions and assignments) as its JSON body, with
the lower-case id as key, the lower-case type, the lower-case parent id for listing children,
and an insertion sequence for stable paging. Principals (users, groups, service principals of
identities) live in their own table with their creation time for the replication window.

One connection, guarded by a lock: the server is threaded, SQLite serialises writers anyway,
and a single connection keeps an in-memory store coherent.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs (
    id_key TEXT PRIMARY KEY,
    type_key TEXT NOT NULL,
    parent_key TEXT NOT NULL,
    body TEXT NOT NULL,
    seq INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS docs_type ON docs (type_key, seq);
CREATE INDEX IF NOT EXISTS docs_parent ON docs (parent_key, type_key, seq);
CREATE TABLE IF NOT EXISTS principals (
    object_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    display_name TEXT NOT NULL,
    app_id TEXT,
    resource_id TEXT,
    tenant_id TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS principals_app ON principals (app_id);
CREATE INDEX IF NOT EXISTS principals_res ON principals (resource_id);
"""


@dataclass(frozen=True)
class Principal:
    """A directory object. kind: User | Group | ServicePrincipal."""

    object_id: str
    kind: str
    display_name: str
    app_id: str | None
    resource_id: str | None  # the identity or resource a managed identity belongs to
    tenant_id: str
    created_at: float


def _key(value: str) -> str:
    return value.rstrip("/").lower()


class Store:
    def __init__(self, path: str | Path | None = None) -> None:
        """`path` None: in memory. Otherwise a file (its directory is created)."""
        if path is None:
            target = ":memory:"
        else:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            target = str(path)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        if target != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        row = self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM docs").fetchone()
        self._seq = int(row[0])

    # ------------------------------------------------------------------ transactions

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """Hold the store's lock inside one SQLite transaction (re-entrant)."""
        with self._lock:
            if self._db.in_transaction:
                yield self
                return
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ------------------------------------------------------------------ metadata

    def meta_get(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def meta_set(self, key: str, value: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    # ------------------------------------------------------------------ documents

    def get(self, arm_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT body FROM docs WHERE id_key = ?", (_key(arm_id),)
            ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def put(self, arm_id: str, type_: str, parent: str, body: dict[str, Any]) -> bool:
        """Insert or replace a document; True when it was created. Keeps the original seq."""
        k = _key(arm_id)
        text = json.dumps(body, separators=(",", ":"))
        with self._lock:
            cur = self._db.execute(
                "UPDATE docs SET body = ?, type_key = ?, parent_key = ? WHERE id_key = ?",
                (text, type_.lower(), _key(parent), k),
            )
            if cur.rowcount:
                return False
            self._seq += 1
            self._db.execute(
                "INSERT INTO docs (id_key, type_key, parent_key, body, seq) VALUES (?, ?, ?, ?, ?)",
                (k, type_.lower(), _key(parent), text, self._seq),
            )
            return True

    def delete(self, arm_id: str) -> bool:
        with self._lock:
            cur = self._db.execute("DELETE FROM docs WHERE id_key = ?", (_key(arm_id),))
            return cur.rowcount > 0

    def delete_tree(self, arm_id: str) -> int:
        """Delete a document and everything whose id lies below it (a resource group, say)."""
        k = _key(arm_id)
        with self._lock:
            cur = self._db.execute(
                "DELETE FROM docs WHERE id_key = ? OR substr(id_key, 1, ?) = ?",
                (k, len(k) + 1, k + "/"),
            )
            return cur.rowcount

    def children(self, parent: str, type_: str | None = None) -> list[dict[str, Any]]:
        """Documents whose parent is `parent` (optionally of one type), in insertion order."""
        sql = "SELECT body FROM docs WHERE parent_key = ?"
        args: list[Any] = [_key(parent)]
        if type_ is not None:
            sql += " AND type_key = ?"
            args.append(type_.lower())
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY seq", args).fetchall()
        return [dict(json.loads(r[0])) for r in rows]

    def by_type(self, type_: str, under: str | None = None) -> list[dict[str, Any]]:
        """Documents of a type, optionally only those whose id lies below `under`."""
        sql = "SELECT body FROM docs WHERE type_key = ?"
        args: list[Any] = [type_.lower()]
        if under is not None:
            k = _key(under)
            sql += " AND substr(id_key, 1, ?) = ?"
            args += [len(k) + 1, k + "/"]
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY seq", args).fetchall()
        return [dict(json.loads(r[0])) for r in rows]

    def seek(
        self,
        type_: str,
        *,
        parents: Sequence[str] = (),
        under: Sequence[str] = (),
        ids: Sequence[str] | None = None,
        field: tuple[str, str] | None = None,
        after: int = 0,
        limit: int | None = None,
    ) -> list[tuple[int, dict[str, Any]]]:
        """(seq, body) of documents of a type after seq `after`, in seq order, at most `limit`.

        Paged lists resume from the last seq they served instead of re-reading everything
        before an offset, so a page costs its own size. Kept: documents whose parent is one
        of `parents` or whose id lies below one of `under` ("/" is everything; both empty:
        every document of the type), and, when given, whose id is one of `ids` and whose
        top-level body key `field[0]` equals `field[1]`. Filtering happens in SQLite: rows are
        walked in seq order and the walk stops once `limit` have matched.
        """
        roots = [_key(u) for u in under]
        sql = "SELECT seq, body FROM docs WHERE type_key = ? AND seq > ?"
        args: list[Any] = [type_.lower(), after]
        if "" not in roots and (parents or roots):
            terms = ["parent_key IN (SELECT value FROM json_each(?))"] if parents else []
            if parents:
                args.append(json.dumps([_key(p) for p in parents]))
            for root in roots:  # below `root` is the key range [root + "/", root + "0")
                terms.append("(id_key >= ? AND id_key < ?)")
                args += [root + "/", root + "0"]
            sql += f" AND ({' OR '.join(terms)})"
        if ids is not None:
            sql += " AND id_key IN (SELECT value FROM json_each(?))"
            args.append(json.dumps([_key(i) for i in ids]))
        if field is not None:
            sql += " AND json_extract(body, ?) = ?"
            args += [f'$."{field[0]}"', field[1]]
        sql += " ORDER BY seq"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        return [(int(r[0]), dict(json.loads(r[1]))) for r in rows]

    def count(self, type_: str, under: str | None = None) -> int:
        sql = "SELECT COUNT(*) FROM docs WHERE type_key = ?"
        args: list[Any] = [type_.lower()]
        if under is not None:
            k = _key(under)
            sql += " AND substr(id_key, 1, ?) = ?"
            args += [len(k) + 1, k + "/"]
        with self._lock:
            return int(self._db.execute(sql, args).fetchone()[0])

    # ------------------------------------------------------------------ principals

    def add_principal(self, p: Principal) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO principals VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    p.object_id.lower(),
                    p.kind,
                    p.display_name,
                    p.app_id.lower() if p.app_id else None,
                    _key(p.resource_id) if p.resource_id else None,
                    p.tenant_id,
                    p.created_at,
                ),
            )

    def get_principal(self, object_id: str) -> Principal | None:
        return self._principal_where("object_id = ?", object_id.lower())

    def principal_by_app_id(self, app_id: str) -> Principal | None:
        return self._principal_where("app_id = ?", app_id.lower())

    def principal_by_resource(self, resource_id: str) -> Principal | None:
        return self._principal_where("resource_id = ?", _key(resource_id))

    def delete_principal(self, object_id: str) -> bool:
        with self._lock:
            cur = self._db.execute(
                "DELETE FROM principals WHERE object_id = ?", (object_id.lower(),)
            )
            return cur.rowcount > 0

    def principals(self) -> list[Principal]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM principals ORDER BY created_at").fetchall()
        return [Principal(*r) for r in rows]

    def _principal_where(self, clause: str, value: str) -> Principal | None:
        with self._lock:
            row = self._db.execute(f"SELECT * FROM principals WHERE {clause}", (value,)).fetchone()  # noqa: S608
        return None if row is None else Principal(*row)
