"""Federated credentials with a `claimsMatchingExpression`, which azure-mgmt-msi cannot carry.

azure-mgmt-msi 7.1.0 speaks Microsoft.ManagedIdentity 2024-11-30, whose models have no
`claimsMatchingExpression`; only the 2025-01-31-preview and 2025-05-31-preview api-versions
define it (the stable versions published since do not). These requests therefore go out as
plain HTTP through the msi client's own pipeline (`_client.send_request`): the same credential,
retry policy, request counter, logging and per-call options (apply's `retry_total=0` and its
response hook) as every typed call; only the api-version and the body's model differ. Errors
are raised as the SDK raises them (HttpResponseError with ARM's error format), so the callers'
`arm_errors()` / `_sdk()` map them like any other.

When they are used:
- Reads list (or get) at 2024-11-30 first, typed, as every identity needs. A credential that
  comes back with neither a subject nor an expression is one that version cannot show (a
  flexible one); only then is it read again at `FLEXIBLE_API`: one more request per identity
  that has flexible credentials, none for the others.
- A write whose body names `claimsMatchingExpression` (an expression, or null to clear one
  when a credential goes back to a subject) is sent at `FLEXIBLE_API`; other writes stay typed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest, HttpResponse
from azure.mgmt.core.exceptions import ARMErrorFormat

from identity_reconciler.azure import convert
from identity_reconciler.azure.clients import Session
from identity_reconciler.core import armid
from identity_reconciler.core.live import LiveFederatedCredential

FLEXIBLE_API = "2025-01-31-preview"
EXPRESSION = "claimsMatchingExpression"


def hidden(credential: LiveFederatedCredential) -> bool:
    """Read at a version that cannot show what it matches: neither subject nor expression."""
    return credential.subject is None and credential.claims_matching_expression is None


def names_expression(body: Mapping[str, Any] | None) -> bool:
    """Whether a planned PUT body speaks of an expression (and so needs `FLEXIBLE_API`)."""
    props = (body or {}).get("properties")
    return isinstance(props, Mapping) and EXPRESSION in props


def _send(
    session: Session,
    subscription_id: str,
    method: str,
    url: str,
    *,
    content: bytes | None = None,
    options: Mapping[str, Any] | None = None,
) -> HttpResponse:
    """One request through the msi client's pipeline; HttpResponseError unless 200/201/204."""
    pipeline = session.msi(subscription_id)._client
    absolute = url if url.startswith("https://") else pipeline.format_url(url)
    params = {} if "api-version=" in absolute else {"api-version": FLEXIBLE_API}
    headers = {"Accept": "application/json"}
    if content is not None:
        headers["Content-Type"] = "application/json"
    request = HttpRequest(method, absolute, params=params, headers=headers, content=content)
    response: HttpResponse = pipeline.send_request(request, **dict(options or {}))
    if response.status_code not in (200, 201, 204):
        response.read()
        raise HttpResponseError(response=response, error_format=ARMErrorFormat)
    return response


def _parts(credential_id: str) -> tuple[str, str]:
    """(subscription, canonical id) of a federated credential id, parsed strictly."""
    parsed = armid.parse_id(credential_id)
    if parsed.kind != "federated_credential":
        raise ValueError(f"{credential_id!r} is not a federated credential id")
    return parsed.subscription_id or "", parsed.id


def list_credentials(session: Session, identity_id: str) -> tuple[LiveFederatedCredential, ...]:
    """Every credential of an identity as `FLEXIBLE_API` shows it (expressions included)."""
    scope = armid.parse_scope(identity_id)
    sub = scope.subscription_id or ""
    return tuple(
        convert.federated_credential(item)
        for item in _pages(session, sub, f"{scope.id}/{armid.FIC_CHILD}")
    )


def _pages(session: Session, subscription_id: str, url: str) -> Iterator[Mapping[str, Any]]:
    next_url: str | None = url
    while next_url:
        body = json.loads(_send(session, subscription_id, "GET", next_url).text() or "{}")
        yield from body.get("value") or ()
        next_url = body.get("nextLink") or None


def get_credential(
    session: Session, credential_id: str, options: Mapping[str, Any] | None = None
) -> LiveFederatedCredential:
    """One credential at `FLEXIBLE_API` (HttpResponseError 404 when it does not exist)."""
    sub, fic_id = _parts(credential_id)
    response = _send(session, sub, "GET", fic_id, options=options)
    return convert.federated_credential(json.loads(response.text()))


def put_credential(
    session: Session,
    credential_id: str,
    content: bytes,
    options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """PUT the exact planned body at `FLEXIBLE_API`; ARM's answer as JSON."""
    sub, fic_id = _parts(credential_id)
    response = _send(session, sub, "PUT", fic_id, content=content, options=options)
    text = response.text()
    return dict(json.loads(text)) if text else {}
