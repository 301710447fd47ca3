"""A DB-API 2.0 connection to the local Azure's SQL endpoint, used only for `--cloud local`.

The local Azure has no TDS listener; its databases answer one HTTPS JSON request per batch
(`POST /_sql/{server host}/{database}`, see local_azure/README.md). This module gives that
endpoint the same shape as a real driver's connection (`sql/dbapi.py`), so the catalog reads,
the planner and the transactional executor run unchanged against it:

- the endpoint keeps no session, so the connection holds its open transaction's statements and
  sends them again, in order, with each request: a read sees the transaction's own writes, a
  failing statement is reported as itself, and `commit()` sends the whole batch once more to be
  applied all or nothing; `rollback()` forgets it;
- sign-in is an Entra token for the database audience from the run's credential (the local
  managed-identity endpoint), added by azure-core's bearer policy over HTTPS with the local CA;
- every request goes through the session's request counter, so the plan's count includes them.

Server errors are raised as `LocalSqlError` with SQL Server's message number in the text, as
the ODBC drivers put it, so error handling (`sql_errors.py`) treats both alike.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence
from typing import Any

from azure.core import PipelineClient
from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError, ServiceRequestError
from azure.core.pipeline.policies import BearerTokenCredentialPolicy, SansIOHTTPPolicy
from azure.core.pipeline.transport import RequestsTransport
from azure.core.rest import HttpRequest

from identity_reconciler.azure.errors import scrub

PATH = "/_sql/"
DATABASE_SCOPE = "https://database.windows.net/.default"


class LocalSqlError(Exception):
    """A statement or sign-in the local SQL endpoint refused (SQL Server's number in the text)."""

    def __init__(self, number: int, message: str) -> None:
        super().__init__(f"[SQL Server]{message} ({number})")
        self.number = number


class _Cursor:
    def __init__(self, conn: LocalSqlConnection) -> None:
        self._conn = conn
        self._rows: list[tuple[Any, ...]] = []

    def execute(self, operation: str, *parameters: Any) -> _Cursor:
        if parameters:
            raise LocalSqlError(40000, "the local SQL endpoint takes no parameters")
        self._rows = self._conn._execute(operation)
        return self

    def fetchall(self) -> Sequence[Sequence[Any]]:
        return list(self._rows)

    def close(self) -> None:
        self._rows = []


class LocalSqlConnection:
    """Autocommit off: statements accumulate until `commit()` or `rollback()`."""

    def __init__(self, client: PipelineClient[Any, Any], url: str, timeout: float) -> None:
        self._client = client
        self._url = url
        self._timeout = timeout
        self._pending: list[str] = []
        self._closed = False

    def _post(self, statements: list[str], commit: bool) -> list[tuple[Any, ...]]:
        if self._closed:
            raise LocalSqlError(0, "the connection is closed")
        request = HttpRequest("POST", self._url, json={"statements": statements, "commit": commit})
        try:
            response = self._client.send_request(
                request, connection_timeout=self._timeout, read_timeout=self._timeout
            )
        except ServiceRequestError as exc:
            raise LocalSqlError(0, f"Login timeout expired (HYT00): {scrub(str(exc))}") from None
        except AzureError as exc:
            raise LocalSqlError(0, scrub(str(exc))) from None
        try:
            body = response.json()
        except ValueError:
            body = {}
        error = body.get("error") if isinstance(body, dict) else None
        if response.status_code != 200 or error:
            error = error if isinstance(error, dict) else {}
            raise LocalSqlError(
                int(error.get("number", 0)),
                str(error.get("message") or f"HTTP {response.status_code}"),
            )
        return [tuple(row) for row in body.get("rows") or ()]

    def _execute(self, operation: str) -> list[tuple[Any, ...]]:
        rows = self._post([*self._pending, operation], commit=False)
        if operation.lstrip()[:6].upper() != "SELECT":
            self._pending.append(operation)
        return rows

    def cursor(self) -> _Cursor:
        return _Cursor(self)

    def commit(self) -> None:
        if self._pending:
            self._post(self._pending, commit=True)
        self._pending = []

    def rollback(self) -> None:
        self._pending = []

    def close(self) -> None:
        self._pending = []
        self._closed = True


def connect(
    base_url: str,
    host: str,
    database: str,
    credential: TokenCredential,
    *,
    ca_bundle: str | None,
    counter: SansIOHTTPPolicy[Any, Any] | None = None,
    timeout: float = 30.0,
) -> LocalSqlConnection:
    """A connection to `database` on the local server whose host name is `host`."""
    policies: list[Any] = [BearerTokenCredentialPolicy(credential, DATABASE_SCOPE)]
    if counter is not None:
        policies.append(counter)
    transport = RequestsTransport(connection_verify=ca_bundle or True)
    client: PipelineClient[Any, Any] = PipelineClient(
        base_url.rstrip("/"), policies=policies, transport=transport
    )
    quoted = urllib.parse.quote(host, safe="") + "/" + urllib.parse.quote(database, safe="")
    url = base_url.rstrip("/") + PATH + quoted
    return LocalSqlConnection(client, url, timeout)
