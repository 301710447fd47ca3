"""The slice of DB-API 2.0 (PEP 249) this package uses, as structural types.

Any driver's connection fits: mssql-python, pyodbc, or an in-memory fake in tests. The package
never imports a driver; whoever opens the connection (`azure/sql_connect.py`) passes it in, opened
with autocommit off, so that `commit()` and `rollback()` bound one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol


class Cursor(Protocol):
    def execute(self, operation: str, *parameters: Any) -> object: ...

    def fetchall(self) -> Sequence[Sequence[Any]]: ...

    def close(self) -> None: ...


class Connection(Protocol):
    def cursor(self) -> Cursor: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def close(self) -> None: ...
