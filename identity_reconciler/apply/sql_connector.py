"""How apply and SQL planning reach an Azure SQL database: a DB-API connection per database.

Connections are made as the run's own credential (an Entra token, `azure/sql_connect.py`); the
local emulator has no SQL endpoint, so there is no connector for it.
"""

from __future__ import annotations

from collections.abc import Callable

from identity_reconciler.azure import sql_connect
from identity_reconciler.azure.clients import Session
from identity_reconciler.sql import Connection

# (endpoint host name, database) -> an open connection, autocommit off.
Connector = Callable[[str, str], Connection]

NO_LOCAL_ENDPOINT = "no SQL endpoint on the local emulator"


def default_connector(session: Session) -> Connector | None:
    """Connections as the session's credential; None on the local emulator (no SQL there)."""
    if session.cloud == "local":
        return None

    def connect(endpoint: str, database: str) -> Connection:
        conn: Connection = sql_connect.connect(
            endpoint, database, session.credential, cloud=session.cloud
        )
        return conn

    return connect
