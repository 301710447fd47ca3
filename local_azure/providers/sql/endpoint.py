"""The SQL endpoint: one HTTPS JSON request runs a batch against one database's catalog.

    POST /_sql/{server host name}/{database}
    Authorization: Bearer <Entra token for https://database.windows.net/>
    {"statements": ["...", ...], "commit": false}

The statements run in order on a copy of the catalog. With `commit` true the copy replaces the
catalog in one store transaction; otherwise it is thrown away. The answer holds the rows of the
last statement when it is a catalog query: `{"rows": [[...], ...]}`. A failing statement is
answered in-band, as TDS does, with status 200 and `{"error": {"number", "message", "index"}}`;
nothing is written. Sign-in failures are 401, a missing database 404. The endpoint keeps no session:
a client holds its open transaction's statements and sends them again with each request, which
is how `azure/local_sql.py` in the reconciler gives DB-API semantics (reads see the
transaction's own writes; commit is all or nothing).

Sign-in is Azure SQL's: a token this emulator issued, for the database audience, unexpired, for
the server's Microsoft Entra administrator as ARM reports it (the principal itself, or a member
of the administrator group). Anything else is error 18456, Login failed.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from local_azure import membership
from local_azure.kernel import Context, Request, Response, Router
from local_azure.providers.sql import queries, statements
from local_azure.providers.sql.catalog import Catalog, meta_key
from local_azure.providers.sql.statements import Entra, NotSupported, SqlError
from local_azure.tokens import TokenError, TokenIssuer

PREFIX = "/_sql/"
SQL_AUDIENCES = frozenset({"https://database.windows.net/", "https://database.windows.net"})
SERVER_TYPE = "microsoft.sql/servers"
CLOCK_SKEW_S = 300
MAX_STATEMENTS = 1000


class StoreDirectory:
    """Microsoft Entra as a server sees it: the emulator's principals, with replication lag."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def _entra(self, p: Any) -> Entra:
        window = self.ctx.settings.replication_window_s
        visible = self.ctx.clock() - p.created_at >= window
        service = p.kind == "ServicePrincipal"
        return Entra(p.object_id, (p.app_id if service else None) or p.object_id,
                     p.kind == "Group", visible)

    def by_name(self, name: str) -> list[Entra]:
        folded = name.lower()
        return [self._entra(p) for p in self.ctx.store.principals()
                if p.display_name.lower() == folded]

    def by_object_id(self, object_id: str) -> Entra | None:
        p = self.ctx.store.get_principal(object_id)
        return self._entra(p) if p is not None else None


def _error(status: int, number: int, message: str, index: int | None = None) -> Response:
    body: dict[str, Any] = {"number": number, "message": message}
    if index is not None:
        body["index"] = index
    return Response(status, {"error": body})


def _login_failed(detail: str) -> Response:
    response = _error(401, 18456, f"Login failed for user '<token-identified principal>'. {detail}")
    response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return response


def find_server(ctx: Context, host: str) -> dict[str, Any] | None:
    for doc in ctx.store.by_type(SERVER_TYPE):
        fqdn = str((doc.get("properties") or {}).get("fullyQualifiedDomainName") or "")
        if fqdn.lower() == host.lower():
            return doc
    return None


def _admin_sid(ctx: Context, server_id: str) -> str | None:
    admin = ctx.store.get(f"{server_id}/administrators/ActiveDirectory")
    sid = ((admin or {}).get("properties") or {}).get("sid")
    return str(sid).lower() if sid else None


class SqlEndpoint:
    def __init__(self, issuer: TokenIssuer) -> None:
        self.issuer = issuer

    def caller(self, ctx: Context, req: Request) -> str | Response:
        """The signed-in principal's object id, or the login failure to answer."""
        scheme, _, raw = (req.headers.get("authorization") or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            return _login_failed("No access token was presented.")
        try:
            claims = self.issuer.decode(raw.strip())
        except TokenError:
            return _login_failed("The access token is not valid.")
        if claims.get("tid") != ctx.tenant_id or claims.get("iss") != self.issuer.issuer_url:
            return _login_failed("The access token is from another tenant.")
        if str(claims.get("aud", "")).lower() not in SQL_AUDIENCES:
            return _login_failed("The access token's audience is not https://database.windows.net/.")
        if ctx.clock() > float(claims.get("exp", 0)) + CLOCK_SKEW_S:
            return _login_failed("The access token has expired.")
        return str(claims.get("oid", "")).lower()

    def handle(self, ctx: Context, req: Request, params: dict[str, str]) -> Response:
        host, database = params["server"], params["database"]
        oid = self.caller(ctx, req)
        if isinstance(oid, Response):
            return oid
        server = find_server(ctx, host)
        if server is None:
            return _login_failed(f"No server has the host name '{host}'.")
        server_id = str(server["id"])
        admin = _admin_sid(ctx, server_id)
        if admin is None or (oid != admin and not membership.is_member(ctx.store, admin, oid)):
            return _login_failed("Only the server's Microsoft Entra administrator (or a member "
                                 "of the administrator group) may sign in to this endpoint.")
        database_id = f"{server_id}/databases/{database}"
        if ctx.store.get(database_id) is None:
            return _error(404, 4060, f'Cannot open database "{database}" requested by the '
                                     "login. The login failed.")
        try:
            body = json.loads(req.body or b"{}")
            batch = [str(s) for s in body.get("statements", [])]
            commit = bool(body.get("commit", False))
        except (ValueError, AttributeError, TypeError):
            return _error(400, 40000, "The request body must be {\"statements\": [...], "
                                      "\"commit\": false}.")
        if not batch or len(batch) > MAX_STATEMENTS:
            return _error(400, 40000, f"A batch holds 1 to {MAX_STATEMENTS} statements.")
        with ctx.store.transaction():
            return self.run(ctx, database_id, batch, commit)

    def run(self, ctx: Context, database_id: str, batch: list[str], commit: bool) -> Response:
        db = load(ctx, database_id)
        work = copy.deepcopy(db)
        directory = StoreDirectory(ctx)
        rows: list[list[Any]] = []
        for index, sql in enumerate(batch):
            try:
                query = queries.answer(sql) if sql.lstrip()[:6].upper() == "SELECT" else None
                if query is not None:
                    rows = [list(r) for r in query(work)]
                elif sql.lstrip()[:6].upper() == "SELECT":
                    raise NotSupported("this catalog query")
                else:
                    statements.run(work, sql, directory)
                    rows = []
            except SqlError as exc:  # in-band, as TDS reports statement errors
                return _error(200, exc.number, exc.message, index)
            except ValueError as exc:  # a lexing error: text outside the served subset
                refused = NotSupported(str(exc))
                return _error(200, refused.number, refused.message, index)
        if commit:
            save(ctx, database_id, work)
        return Response(200, {"rows": rows})


def load(ctx: Context, database_id: str) -> Catalog:
    raw = ctx.store.meta_get(meta_key(database_id))
    return Catalog.from_json(raw) if raw else Catalog()


def save(ctx: Context, database_id: str, db: Catalog) -> None:
    ctx.store.meta_set(meta_key(database_id), db.to_json())


def register(router: Router, issuer: TokenIssuer) -> None:
    endpoint = SqlEndpoint(issuer)
    router.add("POST", PREFIX + "{server}/{database}", endpoint.handle, name="sql.batch",
               priority=100)
