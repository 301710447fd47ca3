"""Who may call: ARM bearer-token checks, the admin API's guard, and the RBAC gate.

ARM answers 401 with its error envelope and a `WWW-Authenticate: Bearer ... error=
"invalid_token"` challenge; clients (azure-core's challenge policy among them) key off both, so
they are reproduced here. Authorization is delegated to `rbac.permitted` over the scope a
request acts on, derived from its path the way ARM names it in AuthorizationFailed messages.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from typing import Any

from local_azure import rbac
from local_azure.audiences import ARM_AUDIENCES, ARM_AUDIENCES_LOWER, graph_audiences
from local_azure.graph.query import GraphError
from local_azure.kernel import ArmError, Caller, Context, Request
from local_azure.tokens import IDENTITY_HEADER, TokenError, TokenIssuer

CLOCK_SKEW_S = 300  # ARM tolerates five minutes of clock skew on exp and nbf
_CACHE_LIMIT = 4096
_MG_PREFIX = "/providers/microsoft.management/managementgroups/"

# The linked action ARM checks on an identity that a resource write attaches.
ASSIGN_IDENTITY = "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action"
# Paths ARM serves without RBAC checks on the caller (lists filtered by what the caller sees).
RBAC_EXEMPT_EXACT = frozenset({"/subscriptions", "/tenants", "/providers", "/metadata/endpoints"})


def _unauthenticated(code: str, message: str, tenant_id: str) -> ArmError:
    description = message.replace('"', "'")
    return ArmError(
        401,
        code,
        message,
        headers={
            "WWW-Authenticate": (
                f'Bearer authorization_uri="https://login.microsoftonline.com/{tenant_id}", '
                f'error="invalid_token", error_description="{description}"'
            )
        },
    )


def _utc(epoch: float) -> str:
    """ARM's (US-style) rendering of a UTC time in its token messages."""
    t = time.gmtime(epoch)
    hour = t.tm_hour % 12 or 12
    ampm = "AM" if t.tm_hour < 12 else "PM"
    return f"{t.tm_mon}/{t.tm_mday}/{t.tm_year} {hour}:{t.tm_min:02d}:{t.tm_sec:02d} {ampm}"


class Access:
    """Turns a request's credentials into a Caller, or the error ARM would answer."""

    def __init__(self, issuer: TokenIssuer, identity_secret: str) -> None:
        self.issuer = issuer
        self._secret = identity_secret.encode()
        self._callers: dict[str, Caller] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ authentication

    def arm_caller(
        self, ctx: Context, req: Request, *, audiences: frozenset[str] | None = None
    ) -> Caller:
        """The caller of an ARM request, or a 401 ArmError shaped like ARM's.

        `audiences` (lower-cased) replaces ARM's for another service (the Graph endpoint).
        """
        tid = ctx.tenant_id
        header = req.headers.get("authorization")
        if header is None:
            raise _unauthenticated(
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is missing.",
                tid,
            )
        scheme, _, raw = header.strip().partition(" ")
        raw = raw.strip()
        if scheme.lower() != "bearer" or not raw:
            raise _unauthenticated(
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is provided in an invalid "
                "format.",
                tid,
            )
        try:
            claims = self.issuer.decode(raw)
        except TokenError:
            raise _unauthenticated(
                "InvalidAuthenticationToken", "The access token is invalid.", tid
            ) from None
        self._check_claims(claims, ctx, audiences)
        caller = self._callers.get(raw)
        if caller is None:
            caller = self._make_caller(ctx, claims)
            with self._lock:
                if len(self._callers) >= _CACHE_LIMIT:
                    self._callers.clear()
                self._callers[raw] = caller
        return caller

    def graph_caller(self, ctx: Context, req: Request) -> Caller:
        """The caller of a Graph request: a token for the Graph audience, or Graph's 401."""
        try:
            caller = self.arm_caller(ctx, req, audiences=graph_audiences(req.base_url))
        except ArmError as err:
            raise GraphError(
                401,
                "InvalidAuthenticationToken",
                "Access token validation failure. Invalid audience."
                if err.code == "InvalidAuthenticationTokenAudience"
                else err.message,
                headers=err.headers,
            ) from None
        return caller

    def _check_claims(
        self, claims: dict[str, Any], ctx: Context, audiences: frozenset[str] | None = None
    ) -> None:
        tid = ctx.tenant_id
        if claims.get("tid") != tid or claims.get("iss") != self.issuer.issuer_url:
            raise _unauthenticated(
                "InvalidAuthenticationToken",
                f"The access token is from the wrong issuer '{claims.get('iss')}'. It must match "
                f"the tenant 'https://sts.windows.net/{tid}/' associated with this subscription.",
                tid,
            )
        aud = str(claims.get("aud", ""))
        if aud.lower() not in (audiences or ARM_AUDIENCES_LOWER):
            allowed = ",".join(f"'{a}'" for a in ARM_AUDIENCES)
            raise _unauthenticated(
                "InvalidAuthenticationTokenAudience",
                f"The access token has been obtained for wrong audience or resource '{aud}'. It "
                f"should exactly match with one of the allowed audiences {allowed}.",
                tid,
            )
        now = ctx.clock()
        exp = float(claims.get("exp", 0))
        if now > exp + CLOCK_SKEW_S:
            raise _unauthenticated(
                "InvalidAuthenticationToken",
                f"The access token expiry UTC time '{_utc(exp)}' is earlier than current UTC "
                f"time '{_utc(now)}'.",
                tid,
            )
        nbf = float(claims.get("nbf", 0))
        if now + CLOCK_SKEW_S < nbf:
            raise _unauthenticated(
                "InvalidAuthenticationToken",
                f"The access token is not valid before UTC time '{_utc(nbf)}'; current UTC time "
                f"is '{_utc(now)}'.",
                tid,
            )

    @staticmethod
    def _make_caller(ctx: Context, claims: dict[str, Any]) -> Caller:
        oid = str(claims.get("oid", ""))
        principal = ctx.store.get_principal(oid) if oid else None
        return Caller(
            object_id=oid,
            tenant_id=str(claims.get("tid", "")),
            app_id=str(claims.get("appid", "")),
            display_name=principal.display_name if principal else "",
        )

    def admin_allowed(self, ctx: Context, req: Request) -> None:
        """The admin API answers the identity-header secret or the operator's ARM token."""
        presented = req.headers.get(IDENTITY_HEADER)
        if presented is not None and secrets.compare_digest(presented.encode(), self._secret):
            return
        caller = self.arm_caller(ctx, req)
        req.caller = caller
        operator = ctx.store.meta_get("operator_object_id") or ""
        if caller.object_id.lower() != operator.lower():
            raise ArmError(
                403,
                "AuthorizationFailed",
                f"The client '{caller.app_id or caller.object_id}' with object id "
                f"'{caller.object_id}' may not use the emulator's admin API; only the operator "
                "may.",
            )

    # ------------------------------------------------------------------ authorization

    def check_rbac(self, ctx: Context, req: Request) -> None:
        """403 AuthorizationFailed unless the caller holds the request's action at its scope."""
        caller = req.caller
        if caller is None or req.path.rstrip("/").lower() in RBAC_EXEMPT_EXACT:
            return
        scope = authorization_scope(req.path)
        if req.method.upper() in ("GET", "HEAD") and _tenant_level(scope):
            return  # tenant-level reads (built-in role definitions, operations): any caller
        action = str(rbac.action_for(req.method, req.path))
        client = caller.app_id or caller.object_id
        if not rbac.permitted(ctx, caller.object_id, action, scope, request_body=req.body):
            raise ArmError(
                403,
                "AuthorizationFailed",
                f"The client '{client}' with object id '{caller.object_id}' does not have "
                f"authorization to perform action '{action}' over scope '{scope}' or the scope "
                "is invalid. If access was recently granted, please refresh your credentials.",
            )
        denied = [
            linked
            for linked in linked_identities(req)
            if not rbac.permitted(ctx, caller.object_id, ASSIGN_IDENTITY, linked)
        ]
        if denied:
            raise ArmError(
                403,
                "LinkedAuthorizationFailed",
                f"The client '{client}' with object id '{caller.object_id}' has permission to "
                f"perform action '{action}' on scope '{scope}'; however, it does not have "
                f"permission to perform action(s) '{ASSIGN_IDENTITY}' on the linked scope(s) "
                f"'{','.join(denied)}' (respectively) or the linked scope(s) are invalid.",
            )


def linked_identities(req: Request) -> list[str]:
    """User-assigned identities a PUT or PATCH attaches: ARM checks `assign/action` on each.

    Entries mapped to null detach, which needs no right on the identity.
    """
    if req.method.upper() not in ("PUT", "PATCH") or b"userassignedidentities" not in (
        req.body.lower()
    ):
        return []
    try:
        body = json.loads(req.body)
    except (ValueError, UnicodeDecodeError):
        return []
    identity = body.get("identity") if isinstance(body, dict) else None
    attached = identity.get("userAssignedIdentities") if isinstance(identity, dict) else None
    if not isinstance(attached, dict):
        return []
    return [str(k) for k, v in attached.items() if v is not None]


def _tenant_level(scope: str) -> bool:
    """Outside every subscription and management group."""
    lowered = scope.lower()
    return not lowered.startswith(("/subscriptions/", _MG_PREFIX))


def authorization_scope(path: str) -> str:
    """The ARM scope a request acts on, as named in AuthorizationFailed messages.

    After the last `/providers/{Namespace}` the path alternates type/name. An even tail names
    a resource (or an extension resource such as a role assignment), which is itself the scope;
    an odd tail is a collection or an action, whose scope is the resource (or the scope in front
    of the provider) that holds it. Paths without a provider segment keep their complete
    `subscriptions/{id}` and `resourceGroups/{name}` pairs. Anything at or above an assignment's
    scope is covered by it, so `rbac.permitted` can compare prefixes.
    """
    segments = [s for s in path.split("/") if s]
    last = -1
    for i, seg in enumerate(segments):
        if seg.lower() == "providers":
            last = i
    if last < 0:
        kept: list[str] = []
        for i in range(0, len(segments) - 1, 2):
            if segments[i].lower() not in ("subscriptions", "resourcegroups"):
                break
            kept += segments[i : i + 2]
        return "/" + "/".join(kept)
    tail = segments[last + 2 :]
    if not tail or len(tail) == 1:
        kept = segments[:last]
    elif len(tail) % 2 == 0:
        kept = segments
    else:
        kept = segments[:-1]
    return "/" + "/".join(kept)
