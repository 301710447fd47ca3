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

from local_azure.kernel import JSON, ArmError, Context, Request, Response
from local_azure.providers.authorization import rbac_scopes
from local_azure.providers.authorization import role_assignment_index as index
from local_azure.providers.authorization.role_assignments import ROLE_ASSIGNMENTS
from local_azure.providers.authorization.role_definitions import GUID, RA_TYPE
from local_azure.providers.listing import Seek, seek_page
from local_azure.providers.versions import gate

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


def seeker(ctx: Context, scope: rbac_scopes.Scope, query: Query) -> Seek:
    """What a list at `scope` with `query` answers, as a store seek in insertion order.

    Without `atScope()` an assignment qualifies when its scope is an ancestor of `scope` (its
    parent in the store) or lies below one of the scope's descendant roots (a key range on its
    id); with it, only the former. A principal filter narrows to the ids the index holds for
    that principal, checked against the document's own principal since entries can outlive
    their documents. Each assignment is one row, so nothing is listed twice.
    """
    parents = rbac_scopes.ancestors(ctx.store, scope)
    under = () if query.at_scope else tuple(rbac_scopes.descendant_roots(ctx.store, scope))
    principal = query.principal_id
    ids = None if principal is None else index.ids_of(ctx, principal)
    field = None if principal is None else ("_principalId", principal)

    def seek(after: int, limit: int) -> list[tuple[int, JSON]]:
        return ctx.store.seek(RA_TYPE, parents=parents, under=under, ids=ids, field=field,
                              after=after, limit=limit)  # fmt: skip

    return seek


@gate(ROLE_ASSIGNMENTS)
def list_assignments(ctx: Context, req: Request, params: dict[str, str]) -> Response:
    scope = rbac_scopes.parse(params.get("scope", ""))
    query = parse_filter(req.q("$filter"))
    rbac_scopes.require_scope(ctx, scope)
    # Authorization spells the parameter $skipToken in its nextLinks (and the SDK sends it so)
    return seek_page(req, seeker(ctx, scope, query), ctx.settings.page_size,
                     skip_param="$skipToken")  # fmt: skip
