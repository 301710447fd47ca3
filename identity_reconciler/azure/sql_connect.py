"""Open a DB-API connection to an Azure SQL database as the run's own Entra identity.

The token comes from the same azure-identity credential that talks to ARM, for the database
audience of the cloud, and reaches the driver as the pre-connect attribute
SQL_COPT_SS_ACCESS_TOKEN (1256): the token's UTF-16-LE bytes behind a 4-byte little-endian
length. mssql-python (preferred; it bundles its ODBC driver) and pyodbc (with Microsoft's
"ODBC Driver 18 for SQL Server" installed) both take it through `attrs_before`, so the token is
never part of a connection string, a log line or an error message.

Drivers are optional at run time: they are imported only here, only when a database is to be
read, and a missing one is a clear error naming the package to install.
"""

from __future__ import annotations

import importlib
import importlib.util
import struct
from types import ModuleType
from typing import Any

from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError

from identity_reconciler.azure import local_sql
from identity_reconciler.azure.clients import Session
from identity_reconciler.azure.errors import scrub

SQL_COPT_SS_ACCESS_TOKEN = 1256
PORT = 1433
LOGIN_TIMEOUT_SECONDS = 30
ODBC_DRIVER = "ODBC Driver 18 for SQL Server"
# The database audience per cloud (`--cloud` names, as in clients.CLOUDS).
SQL_SCOPES = {
    "azure": "https://database.windows.net/.default",
    "azure-china": "https://database.chinacloudapi.cn/.default",
    "azure-usgov": "https://database.usgovcloudapi.net/.default",
}
INSTALL_HINT = (
    "install mssql-python to manage SQL users (pip install mssql-python, or the sql extra: "
    "pip install 'identity-reconciler[sql]'; on Debian/Ubuntu it needs the system packages "
    "libltdl7 libkrb5-3 libgssapi-krb5-2)"
)

# A DB-API 2.0 connection of whichever driver was found (see sql/dbapi.py for its shape).
DriverConnection = Any


class SqlConnectError(Exception):
    """No connection to the database: no driver, no token, or the server refused us."""


class SqlDriverMissing(SqlConnectError):
    def __init__(self) -> None:
        super().__init__(INSTALL_HINT)


def token_struct(token: str) -> bytes:
    """What SQL_COPT_SS_ACCESS_TOKEN expects: length-prefixed UTF-16-LE token bytes."""
    raw = token.encode("utf-16-le")
    return struct.pack("<I", len(raw)) + raw


def odbc_value(value: str) -> str:
    """A connection-string value in braces, `}` doubled, so `;` or `=` in it stay data."""
    return "{" + value.replace("}", "}}") + "}"


def connection_string(endpoint: str, database: str, *, odbc_driver: str | None = None) -> str:
    """Encrypted, certificate-checked, no credentials: the token goes in attrs_before."""
    parts = [
        f"Server=tcp:{endpoint},{PORT}",
        f"Database={odbc_value(database)}",
        "Encrypt=yes",
        "TrustServerCertificate=no",
    ]
    if odbc_driver:
        parts.insert(0, f"Driver={odbc_value(odbc_driver)}")
    return ";".join(parts) + ";"


def sql_scope(cloud: str) -> str:
    try:
        return SQL_SCOPES[cloud]
    except KeyError:
        raise SqlConnectError(f"no Azure SQL endpoint is known for cloud {cloud!r}") from None


def load_driver(preferred: tuple[str, ...] = ("mssql_python", "pyodbc")) -> ModuleType:
    """The first importable driver module; SqlDriverMissing when there is none."""
    for name in preferred:
        try:
            return importlib.import_module(name)
        except ImportError as exc:
            if importlib.util.find_spec(name) is not None:  # installed, but cannot load
                # The caller explains the message (sql/errors.py names the system packages).
                raise SqlConnectError(f"{name} is installed but cannot be loaded: {exc}") from None
            continue
    raise SqlDriverMissing()


def connect_session(session: Session, endpoint: str, database: str) -> DriverConnection:
    """A connection as the session's own credential: the driver, or on `--cloud local` the
    local Azure's SQL endpoint (`local_sql.py`), whose requests the session counts."""
    if session.cloud == "local":
        return local_sql.connect(
            session.arm_endpoint, endpoint, database, session.credential,
            ca_bundle=session.ca_bundle, counter=session.counter,
        )
    return connect(endpoint, database, session.credential, cloud=session.cloud)


def connect(
    endpoint: str,
    database: str,
    credential: TokenCredential,
    *,
    cloud: str = "azure",
    driver: ModuleType | None = None,
    timeout: int = LOGIN_TIMEOUT_SECONDS,
) -> DriverConnection:
    """A connection to `database` on `endpoint` (host name), autocommit off."""
    module = driver or load_driver()
    try:
        token = credential.get_token(sql_scope(cloud)).token
    except AzureError as exc:
        raise SqlConnectError(
            f"cannot get an Entra token for Azure SQL: {scrub(str(exc)).splitlines()[0]}"
        ) from None
    odbc = ODBC_DRIVER if module.__name__ == "pyodbc" else None
    try:
        return module.connect(
            connection_string(endpoint, database, odbc_driver=odbc),
            autocommit=False,
            attrs_before={SQL_COPT_SS_ACCESS_TOKEN: token_struct(token)},
            timeout=timeout,
        )
    except Exception as exc:  # the driver's boundary: any failure means "no connection"
        raise SqlConnectError(
            f"cannot connect to database {database!r} on {endpoint} with {module.__name__}: "
            f"{scrub(str(exc)).strip()}"
        ) from None
