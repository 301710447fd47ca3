"""Listing role assignments with ARM's scope semantics and its small `$filter` language.

Without a filter a list shows what applies at, above and below the scope; `atScope()` keeps
what is at or above it; `principalId eq '{id}'` and `assignedTo('{id}')` keep one principal's
assignments at, above and below (group membership is not modelled, so both behave alike);
`atScope() and assignedTo('{id}')` combines the two. Anything else is 400 UnsupportedQuery with
Azure's message. The filter is percent-decoded here as well, because the SDK encodes role
assignment filters only partly (spaces, not quotes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from identity_reconciler.emulator.kernel import JSON, ArmError, Context, Request, Response
from identity_reconciler.emulator.providers import rbac_scopes
from identity_reconciler.emulator.providers import role_assignment_index as index
from identity_reconciler.emulator.providers.listing import SKIP_TOKEN, page
from identity_reconciler.emulator.providers.role_assignments import ROLE_ASSIGNMENTS
from identity_reconciler.emulator.providers.role_definitions import GUID, RA_TYPE
from identity_reconciler.emulator.providers.versions import gate

_WS = r"[\s+]+"  # '+' is a space in query strings that were not decoded as forms
_AT_SCOPE = re.compile(r"atScope\(\)", re.IGNORECASE)
_PRINCIPAL = re.compile(rf"principalId{_WS}eq{_WS}'([^']*)'", re.IGNORECASE)
_ASSIGNED_TO = re.compile(r"assignedTo\('([^']*)'\)", re.IGNORECASE)
_AND = re.compile(rf"{_WS}and{_WS}", re.IGNORECASE)


@dataclass(frozen=True)
class Query:
    at_scope: bool = False
    principal_id: str | None = None


def parse_filter(raw: str | None) -> Query:
    if raw is None or not raw.strip():
        return Query()
    text = unquote(raw).strip().strip("+").strip()
    unsupported = ArmError(
        400,
        "UnsupportedQuery",
        f"The filter '{text}' is not supported. Supported filters are either 'atScope()' or "
        "'principalId eq '{value}' or assignedTo('{value}')'.",
    )
    terms = _AND.split(text)
    if len(terms) > 2:
        raise unsupported
    at_scope = False
    principal = None
    kinds: list[str] = []
    for term in terms:
        if _AT_SCOPE.fullmatch(term):
            at_scope = True
            kinds.append("atScope")
        elif m := _PRINCIPAL.fullmatch(term):
            principal = m.group(1)
            kinds.append("principalId")
        elif m := _ASSIGNED_TO.fullmatch(term):
            principal = m.group(1)
            kinds.append("assignedTo")
        else:
            raise unsupported
    if len(kinds) == 2 and sorted(kinds) != ["assignedTo", "atScope"]:
        raise unsupported
    if principal is not None and not GUID.match(principal):
        raise unsupported
    return Query(at_scope=at_scope, principal_id=principal.lower() if principal else None)


def _scope_key(doc: JSON) -> str:
    return str(doc["properties"]["scope"]).rstrip("/").lower() or "/"


def covering(ctx: Context, scope: rbac_scopes.Scope, principal_id: str | None = None) -> list[JSON]:
    """Assignments at or above `scope` (root first), optionally of one principal."""
    chain = rbac_scopes.ancestors(ctx.store, scope)
    if principal_id is not None:
        rank = {a.lower(): i for i, a in enumerate(chain)}
        held = [d for d in index.of_principal(ctx, principal_id) if _scope_key(d) in rank]
        return sorted(held, key=lambda d: rank[_scope_key(d)])
    return [doc for ancestor in chain for doc in ctx.store.children(ancestor, RA_TYPE)]


def _below(doc: JSON, roots: list[str]) -> bool:
    key = _scope_key(doc)
    return any(r == "/" or key == r.lower() or key.startswith(r.lower() + "/") for r in roots)


def select(ctx: Context, scope: rbac_scopes.Scope, query: Query) -> list[JSON]:
    """The assignments a list at `scope` with `query` answers, without duplicates."""
    found = covering(ctx, scope, query.principal_id)
    if not query.at_scope:
        roots = rbac_scopes.descendant_roots(ctx.store, scope)
        if query.principal_id is not None:
            found += [d for d in index.of_principal(ctx, query.principal_id) if _below(d, roots)]
        else:
            for root in roots:
                found += ctx.store.by_type(RA_TYPE, under=None if root == "/" else root)
    seen: set[str] = set()
    unique = []
    for doc in found:
        key = str(doc["id"]).lower()
        if key not in seen:
            seen.add(key)
            unique.append(doc)
    return unique


@gate(ROLE_ASSIGNMENTS)
def list_assignments(ctx: Context, req: Request, params: dict[str, str]) -> Response:
    scope = rbac_scopes.parse(params.get("scope", ""))
    query = parse_filter(req.q("$filter"))
    rbac_scopes.require_scope(ctx, scope)
    response = page(req, select(ctx, scope, query), ctx.settings.page_size)
    body = response.body
    if isinstance(body, dict) and "nextLink" in body:  # Authorization spells it $skipToken
        body["nextLink"] = str(body["nextLink"]).replace(f"&{SKIP_TOKEN}=", "&$skipToken=")
    return response
