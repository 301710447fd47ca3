"""Run one database's planned T-SQL as one transaction: all of it happens, or none of it.

The first statement turns XACT_ABORT on, so that any error inside the batch dooms the whole
transaction on the server as well, whatever the driver does with the exception. A failure rolls
back and is raised as `SqlExecutionError`, naming the statement (its position and text) that
failed; the statements themselves hold names, never secrets.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

from identity_reconciler.sql.dbapi import Connection

PREAMBLE = "SET XACT_ABORT ON;"


class SqlExecutionError(RuntimeError):
    def __init__(self, index: int, statement: str, cause: BaseException) -> None:
        self.index = index
        self.statement = statement
        self.cause = cause
        where = f"statement {index + 1}" if index >= 0 else "the preamble"
        super().__init__(
            f"{where} failed and the transaction was rolled back: {cause} "
            f"(statement: {statement})"
        )


@dataclass(frozen=True)
class Executed:
    statements: int


def execute(conn: Connection, statements: Sequence[str]) -> Executed:
    """Execute `statements` in order inside one transaction and commit."""
    if not statements:
        return Executed(0)
    cursor = conn.cursor()
    done = -1  # statements executed so far, less one; -1 while in the preamble
    statement = PREAMBLE
    try:
        cursor.execute(PREAMBLE)
        for statement in statements:
            done += 1
            cursor.execute(statement)
        conn.commit()
    except Exception as exc:
        with contextlib.suppress(Exception):
            conn.rollback()
        raise SqlExecutionError(done, statement, exc) from exc
    finally:
        with contextlib.suppress(Exception):
            cursor.close()
    return Executed(len(statements))
