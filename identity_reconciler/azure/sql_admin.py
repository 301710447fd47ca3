"""Is an Azure SQL server ready for contained Entra users? Ask ARM, before any database.

`CREATE USER … FROM EXTERNAL PROVIDER` works only on a server with a Microsoft Entra
administrator (`Microsoft.Sql/servers/{s}/administrators/ActiveDirectory`), and only in a
database that exists. Three reads per server answer both: the server (does it exist, what is its
host name), its administrators, and its databases. They go through the generic resources
client's pipeline (`send_request`), so authentication, retries and request counting are the
session's, as for every other read.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest
from azure.mgmt.core.exceptions import ARMErrorFormat

from identity_reconciler.azure.clients import Session
from identity_reconciler.azure.errors import arm_errors
from identity_reconciler.core import armid

SQL_API = "2023-08-01"
ADMIN_TYPE = "activedirectory"


@dataclass(frozen=True)
class SqlServer:
    """What ARM says about one SQL server; `exists=False` leaves the rest empty."""

    id: str
    exists: bool
    endpoint: str | None = None  # fullyQualifiedDomainName
    admin_login: str | None = None  # the Entra administrator, None when there is none
    admin_sid: str | None = None
    databases: frozenset[str] = frozenset()  # lower-case names

    def has_database(self, name: str) -> bool:
        return name.lower() in self.databases


def _get(session: Session, subscription_id: str, path: str) -> dict[str, Any] | None:
    """One GET as JSON; None for 404 (the object or its parent does not exist)."""
    client = session.resources(subscription_id)
    with arm_errors():
        response = client.send_request(HttpRequest("GET", path, params={"api-version": SQL_API}))
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise HttpResponseError(response=response, error_format=ARMErrorFormat)
        body = response.json()
    return body if isinstance(body, dict) else {}


def _items(session: Session, subscription_id: str, path: str) -> Iterator[dict[str, Any]]:
    url: str | None = path
    while url:
        body = _get(session, subscription_id, url)
        if body is None:
            return
        yield from (v for v in body.get("value") or () if isinstance(v, dict))
        url = body.get("nextLink") or None
        if url:  # keep the link's own query (skip token) without repeating api-version
            parts = urllib.parse.urlsplit(url)
            query = [
                (k, v)
                for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
                if k.lower() != "api-version"
            ]
            url = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def read_server(session: Session, server_id: str) -> SqlServer:
    """The server's existence, host name, Entra administrator and databases (3 requests)."""
    scope = armid.parse_scope(server_id)
    sub = scope.subscription_id or ""
    server = _get(session, sub, server_id)
    if server is None:
        return SqlServer(server_id, exists=False)
    props = server.get("properties") or {}
    login = sid = None
    for admin in _items(session, sub, f"{server_id}/administrators"):
        admin_props = admin.get("properties") or {}
        kind = str(admin_props.get("administratorType") or admin.get("name") or "")
        if kind.lower() == ADMIN_TYPE and admin_props.get("login"):
            login, sid = str(admin_props["login"]), str(admin_props.get("sid") or "") or None
    names = frozenset(
        str(db.get("name", "")).lower() for db in _items(session, sub, f"{server_id}/databases")
    )
    return SqlServer(
        server_id,
        exists=True,
        endpoint=str(props.get("fullyQualifiedDomainName") or "") or None,
        admin_login=login,
        admin_sid=sid,
        databases=names,
    )
