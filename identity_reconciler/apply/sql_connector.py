"""How apply and SQL planning reach an Azure SQL database: a DB-API connection per database.

Connections are made as the run's own credential (an Entra token, `azure/sql_connect.py`); on
`--cloud local` they reach the local Azure's SQL endpoint.
"""

from __future__ import annotations

from collections.abc import Callable

from identity_reconciler.azure import sql_connect
from identity_reconciler.azure.clients import Session
from identity_reconciler.sql import Connection

# (endpoint host name, database) -> an open connection, autocommit off.
Connector = Callable[[str, str], Connection]

NO_LOCAL_ENDPOINT = "no database connection was given for SQL users"


def default_connector(session: Session) -> Connector | None:
    """Connections as the session's credential (the local Azure's SQL endpoint on local)."""

    def connect(endpoint: str, database: str) -> Connection:
        conn: Connection = sql_connect.connect_session(session, endpoint, database)
        return conn

    return connect
