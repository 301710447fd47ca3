"""Federated identity credentials of user-assigned identities.

Rules from the Microsoft Entra workload-identity-federation considerations page: at most 20
credentials per identity, exactly one audience, issuer and subject unique per identity, names
of 3-120 letters, digits, `-` and `_` starting alphanumeric, and no concurrent writes under one
identity: a write (or delete) that arrives while another is in flight for the same identity
fails with 409 ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity. Each write
holds its identity for `Settings.fic_write_hold_s` (default 0.05 s) so that a client racing
writes meets the conflict as it would in Azure, where such a write takes about a second.

At api-versions 2025-01-31-preview and 2025-05-31-preview a credential may name a
`claimsMatchingExpression` instead of a subject (a flexible credential, checked in
`claims_expression`); other versions refuse a write that names one and read such a credential
without it (no subject either), as a client pinned to them sees it.
"""

from __future__ import annotations

import re
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

from local_azure.kernel import JSON, ArmError, Context, Request, Response, Router
from local_azure.providers.listing import page, public
from local_azure.providers.managed_identity import claims_expression, identities
from local_azure.providers.versions import ResourceType, gate
from local_azure.store import Store

FIC_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials"
MAX_PER_IDENTITY = 20
MAX_ISSUER_LENGTH = 600
NAME_PATTERN = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]{2,119}$")

# Federated credentials arrived with 2022-01-31-preview.
FEDERATED = ResourceType(
    "userAssignedIdentities/federatedIdentityCredentials",
    tuple(v for v in identities.API_VERSIONS if v >= "2022-01-31-preview"),
    identities.LOCATIONS,
)

_PATH = (
    "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity"
    "/userAssignedIdentities/{name}/federatedIdentityCredentials"
)


def register(router: Router, priority: int) -> None:
    router.add("GET", _PATH, list_credentials, priority=priority, name="msi.fic.list")
    one = _PATH + "/{fic}"
    router.add("GET", one, get_credential, priority=priority, name="msi.fic.get")
    router.add("PUT", one, put_credential, priority=priority, name="msi.fic.createOrUpdate")
    router.add("DELETE", one, delete_credential, priority=priority, name="msi.fic.delete")


# ---------------------------------------------------------------------- in-flight writes


class _InFlight:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.keys: set[str] = set()


_IN_FLIGHT: weakref.WeakKeyDictionary[Store, _InFlight] = weakref.WeakKeyDictionary()
_REGISTRY_LOCK = threading.Lock()


@contextmanager
def _exclusive_write(ctx: Context, identity_id: str) -> Iterator[None]:
    """Mark the identity's credentials as being written for the whole write, or 409."""
    with _REGISTRY_LOCK:
        state = _IN_FLIGHT.setdefault(ctx.store, _InFlight())
    key = identity_id.lower()
    with state.lock:
        if key in state.keys:
            raise ArmError(
                409,
                "ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity",
                "Too many Federated Identity Credentials are written concurrently for the "
                f"managed identity '{key}'. Concurrent Federated Identity Credentials writes "
                "under the same managed identity are not supported.",
            )
        state.keys.add(key)
    try:
        yield
        hold = ctx.settings.fic_write_hold_s
        if hold > 0:
            time.sleep(hold)
    finally:
        with state.lock:
            state.keys.discard(key)


# ---------------------------------------------------------------------- handlers


def _parent(ctx: Context, params: dict[str, str], verb: str) -> JSON:
    try:
        doc, _ = identities.require_identity(ctx, params)
    except ArmError as err:
        if err.code != "ResourceNotFound":
            raise
        parent = identities.identity_id(params["sub"].lower(), params["rg"], params["name"])
        raise ArmError(
            404,
            "ParentResourceNotFound",
            f"Failed to perform '{verb}' on resource(s) of type "
            f"'userAssignedIdentities/federatedIdentityCredentials', because the parent "
            f"resource '{parent}' could not be found.",
        ) from None
    return doc


def _fic_id(identity: JSON, name: str) -> str:
    return f"{identity['id']}/federatedIdentityCredentials/{name}"


@gate(FEDERATED, identities.rg_location)
def list_credentials(ctx: Context, req: Request, params: dict[str, str]) -> Response:
    identity = _parent(ctx, params, "read")
    docs = [_render(d, req.api_version) for d in ctx.store.children(str(identity["id"]), FIC_TYPE)]
    return page(req, docs, ctx.settings.page_size)


@gate(FEDERATED, identities.rg_location)
def get_credential(ctx: Context, req: Request, params: dict[str, str]) -> Response:
    identity = _parent(ctx, params, "read")
    doc = ctx.store.get(_fic_id(identity, params["fic"]))
    if doc is None:
        raise ArmError(
            404,
            "ResourceNotFound",
            f"The Resource '{FIC_TYPE}/{params['name']}/{params['fic']}' under resource group "
            f"'{params['rg']}' was not found. For more details please go to "
            "https://aka.ms/ARMResourceNotFoundFix",
        )
    return Response(200, _render(doc, req.api_version))


def _render(doc: JSON, api_version: str | None) -> JSON:
    """A credential as a version shows it: without its expression where the version lacks it."""
    out = public(doc)
    props = out["properties"]
    if "claimsMatchingExpression" in props and not claims_expression.supported(api_version):
        out["properties"] = {k: v for k, v in props.items() if k != "claimsMatchingExpression"}
    return out


@gate(FEDERATED, identities.rg_location)
def put_credential(ctx: Context, req: Request, params: dict[str, str]) -> Response:
    identity = _parent(ctx, params, "write")
    name = params["fic"]
    if not NAME_PATTERN.match(name):
        raise _bad(f"Federated Identity Credential name '{name}' is invalid.")
    issuer, subject, audiences, expression = _properties(req.json(), req.api_version)
    with _exclusive_write(ctx, str(identity["id"])), ctx.store.transaction():
        existing = ctx.store.children(str(identity["id"]), FIC_TYPE)
        this_id = _fic_id(identity, name)
        others = [d for d in existing if str(d["id"]).lower() != this_id.lower()]
        for other in others:
            props = other["properties"]
            if props["issuer"] != issuer:
                continue
            if subject is not None and props.get("subject") == subject:
                raise _bad(
                    "Issuer and subject combination already exists for this Managed Identity."
                )
            if expression is not None and props.get("claimsMatchingExpression") == expression:
                raise _bad(
                    "Issuer and claimsMatchingExpression combination already exists for this "
                    "Managed Identity."
                )
        created = len(others) == len(existing)
        if created and len(existing) >= MAX_PER_IDENTITY:
            raise _bad(
                f"The managed identity '{identity['id']}' already has the maximum of "
                f"{MAX_PER_IDENTITY} federated identity credentials."
            )
        prior = next((d for d in existing if d not in others), None)
        properties: JSON = {"issuer": issuer, "audiences": audiences}
        if expression is not None:
            properties["claimsMatchingExpression"] = expression
        else:
            properties = {"issuer": issuer, "subject": subject, "audiences": audiences}
        doc: JSON = {
            "id": str(prior["id"]) if prior else this_id,
            "name": str(prior["name"]) if prior else name,
            "properties": properties,
            "type": FIC_TYPE,
        }
        ctx.store.put(str(doc["id"]), FIC_TYPE, str(identity["id"]), doc)
    return Response(201 if created else 200, _render(doc, req.api_version))


@gate(FEDERATED, identities.rg_location)
def delete_credential(ctx: Context, _req: Request, params: dict[str, str]) -> Response:
    try:
        identity, _ = identities.require_identity(ctx, params)
    except ArmError as err:
        if err.code == "ResourceNotFound":
            return Response(204)
        raise
    with _exclusive_write(ctx, str(identity["id"])):
        deleted = ctx.store.delete(_fic_id(identity, params["fic"]))
    return Response(200 if deleted else 204)


# ---------------------------------------------------------------------- validation


def _bad(message: str, target: str | None = None) -> ArmError:
    return ArmError(400, "BadRequest", message, target=target)


def _properties(
    body: JSON, api_version: str | None
) -> tuple[str, str | None, list[str], JSON | None]:
    """(issuer, subject, audiences, claimsMatchingExpression): a subject or, at the versions
    that define it, an expression, never both."""
    props = body.get("properties")
    if not isinstance(props, dict):
        raise _bad("Federated Identity Credential from HTTP body has empty properties")
    raw_expression = props.get("claimsMatchingExpression")
    if raw_expression is not None and not claims_expression.supported(api_version):
        raise claims_expression.unsupported(api_version)
    flexible = raw_expression is not None
    required = ("issuer", "audiences") if flexible else ("issuer", "subject", "audiences")
    if not all(props.get(k) not in (None, "", []) for k in required):
        raise _bad("Federated Identity Credential from HTTP body has empty properties")
    issuer, subject, audiences = props["issuer"], props.get("subject"), props["audiences"]
    expression = None
    if flexible:
        if subject not in (None, ""):
            raise _bad(
                "Federated Identity Credential must define either 'subject' or "
                "'claimsMatchingExpression', not both.",
                target="properties.claimsMatchingExpression",
            )
        subject = None
        expression = claims_expression.check(raw_expression)
    if not isinstance(issuer, str) or not isinstance(subject, (str, type(None))):
        raise _bad("Federated Identity Credential from HTTP body has empty properties")
    if (
        not issuer.lower().startswith("https://")
        or len(issuer) > MAX_ISSUER_LENGTH
        or " " in issuer
    ):
        raise _bad(
            f"Federated Identity Credential issuer '{issuer}' is invalid: it must be an https "
            f"URL of at most {MAX_ISSUER_LENGTH} characters.",
            target="properties.issuer",
        )
    if (
        not isinstance(audiences, list)
        or len(audiences) != 1
        or not all(isinstance(a, str) and a for a in audiences)
    ):
        raise _bad(
            "Federated identity credentials must have exactly 1 audience.",
            target="properties.audiences",
        )
    return issuer, subject, [str(a) for a in audiences], expression
