"""Access tokens: an App Service-style managed identity endpoint and the tokens it signs.

azure-identity's ManagedIdentityCredential (through MSAL) calls
`GET {IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=...[&client_id|mi_res_id|object_id]`
with the `X-IDENTITY-HEADER` secret and reads `access_token` and `expires_on` (epoch seconds).
Pointing IDENTITY_ENDPOINT at the emulator therefore gives unchanged Azure code a token. The
same URL speaks the older protocol too: `MSI_ENDPOINT`/`MSI_SECRET`, api-version 2017-09-01
with the secret in a `secret` header and `clientid` to pick an identity (as Azure Machine
Learning and older App Service clients use it); `expires_on` is epoch seconds in both. A
resource Entra would not know is refused with AADSTS500011, as Entra refuses it.

Tokens are RS256 JWTs shaped like Entra's managed-identity access tokens (v1: `sts.windows.net`
issuer, `oid`, `appid`, `idtyp: app`, `xms_mirid` for identities), signed by the emulator's
own RSA key. The key is kept beside the state so tokens survive a restart, and its public half
is published as a JWKS. Verification is cached by the raw token: a client sends the same token
thousands of times, and an RSA check per request would dominate small requests.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from local_azure.audiences import known_resource
from local_azure.kernel import Context, Request, Response, Router
from local_azure.store import Principal
from local_azure.tls import write_private

SIGNING_KEY_FILE = "signing-key.pem"
TOKEN_LIFETIME_S = 24 * 3600
BACKDATE_S = 300  # Entra backdates iat/nbf by five minutes; so do we
TOKEN_PATH = "/msi/token"  # noqa: S105 - a URL path, not a secret
TOKEN_API_VERSION = "2019-08-01"  # noqa: S105
LEGACY_API_VERSION = "2017-09-01"  # MSI_ENDPOINT / MSI_SECRET, with a `secret` header
IDENTITY_HEADER = "x-identity-header"
LEGACY_SECRET_HEADER = "secret"  # noqa: S105 - a header name
_CACHE_LIMIT = 4096


class TokenError(Exception):
    """A token that is not ours or cannot be read."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def load_or_create_key(directory: Path) -> rsa.RSAPrivateKey:
    """The signing key from `directory` (0600 PEM), generated on first use."""
    path = directory / SIGNING_KEY_FILE
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError(f"{path}: expected an RSA private key")
        return key
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    directory.mkdir(parents=True, exist_ok=True)
    write_private(
        path,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    return key


class TokenIssuer:
    """Signs tokens for principals of the store and reads them back (signature only).

    Checks that depend on who asks (audience, expiry, tenant) belong to the caller of
    `decode`, so the cache can hold any token whose signature is sound.
    """

    def __init__(self, key: rsa.RSAPrivateKey, ctx: Context) -> None:
        self._key = key
        self._public = key.public_key()
        self._ctx = ctx
        der = self._public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.kid = _b64url(hashlib.sha256(der).digest()[:20])
        self._cache: dict[str, dict[str, Any]] = {}
        self._cache_lock = threading.Lock()

    @property
    def issuer_url(self) -> str:
        return f"https://sts.windows.net/{self._ctx.tenant_id}/"

    def issue(
        self, principal: Principal, resource: str, *, lifetime_s: int = TOKEN_LIFETIME_S
    ) -> tuple[str, int]:
        """A signed token for `principal` and audience `resource`; returns (token, exp)."""
        now = int(self._ctx.clock())
        exp = now + lifetime_s
        tid = self._ctx.tenant_id
        claims: dict[str, Any] = {
            "aud": resource,
            "iss": self.issuer_url,
            "iat": now - BACKDATE_S,
            "nbf": now - BACKDATE_S,
            "exp": exp,
            "aio": _b64url(secrets.token_bytes(24)),
            "appid": principal.app_id or principal.object_id,
            "appidacr": "2",
            "idp": self.issuer_url,
            "idtyp": "app",
            "oid": principal.object_id,
            "sub": principal.object_id,
            "tid": tid,
            "uti": _b64url(secrets.token_bytes(16)),
            "ver": "1.0",
        }
        if principal.resource_id:
            doc = self._ctx.store.get(principal.resource_id)
            claims["xms_mirid"] = str(doc["id"]) if doc and "id" in doc else principal.resource_id
        token = jwt.encode(
            claims, self._key, algorithm="RS256", headers={"typ": "JWT", "kid": self.kid}
        )
        return token, exp

    def decode(self, raw: str) -> dict[str, Any]:
        """The claims of a token this emulator signed, else TokenError."""
        claims = self._cache.get(raw)
        if claims is not None:
            return claims
        try:
            claims = jwt.decode(
                raw,
                self._public,
                algorithms=["RS256"],
                options={
                    "verify_signature": True,
                    "verify_aud": False,
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "verify_iss": False,
                },
            )
        except jwt.PyJWTError as exc:
            raise TokenError(str(exc)) from None
        with self._cache_lock:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[raw] = claims
        return claims

    def jwks(self) -> dict[str, Any]:
        numbers = self._public.public_numbers()

        def b64int(value: int) -> str:
            return _b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))

        return {
            "keys": [
                {
                    "kty": "RSA",
                    "use": "sig",
                    "alg": "RS256",
                    "kid": self.kid,
                    "n": b64int(numbers.n),
                    "e": b64int(numbers.e),
                    "issuer": self.issuer_url,
                }
            ]
        }


# ---------------------------------------------------------------------- the MI endpoint


def _mi_error(status: int, message: str) -> Response:
    """The App Service endpoint's error body; MSAL reports `statusCode, message` from it."""
    return Response(
        status,
        {"statusCode": status, "message": message, "correlationId": str(uuid.uuid4())},
    )


def select_principal(ctx: Context, req: Request) -> Principal | str:
    """The principal a token request names; a string is the reason it names none usable."""
    store = ctx.store
    selectors = (
        ("client_id", store.principal_by_app_id),
        ("clientid", store.principal_by_app_id),  # the 2017-09-01 spelling
        ("mi_res_id", store.principal_by_resource),
        ("msi_res_id", store.principal_by_resource),
        ("object_id", store.get_principal),
        ("principal_id", store.get_principal),
    )
    given = [(name, fn, req.q(name)) for name, fn in selectors if req.q(name)]
    if len(given) > 1:
        return "Only one of client_id, mi_res_id and object_id may be given."
    if given:
        name, fn, value = given[0]
        principal = fn(value or "")
        if principal is None:
            return f"Unable to load the proper Managed Identity. No identity with {name} '{value}'."
    else:
        operator = store.meta_get("operator_object_id")
        principal = store.get_principal(operator) if operator else None
        if principal is None:
            return "No managed identity is enabled for this application."
    if principal.kind != "ServicePrincipal":
        return (
            "Unable to load the proper Managed Identity. "
            f"'{principal.object_id}' is a {principal.kind}."
        )
    return principal


def unknown_resource(ctx: Context, resource: str) -> str:
    """Entra's AADSTS500011 for a resource no service principal in the tenant stands for."""
    return (
        f"AADSTS500011: The resource principal named {resource} was not found in the tenant "
        f"named {ctx.tenant_id}. This can happen if the application has not been installed by "
        "the administrator of the tenant or consented to by any user in the tenant. You might "
        f"have sent your authentication request to the wrong tenant. Trace ID: {uuid.uuid4()} "
        f"Correlation ID: {uuid.uuid4()} Timestamp: {ctx.now_iso()}"
    )


def register(router: Router, issuer: TokenIssuer, secret: str) -> None:
    """Add the managed identity endpoint at TOKEN_PATH, guarded by `secret`."""

    def token(ctx: Context, req: Request, _params: dict[str, str]) -> Response:
        version = req.api_version
        legacy = version == LEGACY_API_VERSION
        header = LEGACY_SECRET_HEADER if legacy else IDENTITY_HEADER
        presented = req.headers.get(header)
        if presented is None:
            return _mi_error(401, f"The {header.upper()} header is missing.")
        if not secrets.compare_digest(presented.encode(), secret.encode()):
            return _mi_error(403, f"The {header.upper()} header does not match.")
        if version not in (TOKEN_API_VERSION, LEGACY_API_VERSION):
            return _mi_error(
                400,
                f"The api-version '{version or ''}' is not supported; use '{TOKEN_API_VERSION}' "
                f"(or '{LEGACY_API_VERSION}' with MSI_ENDPOINT and MSI_SECRET).",
            )
        resource = req.q("resource")
        if not resource:
            return _mi_error(400, "The 'resource' query parameter is required.")
        principal = select_principal(ctx, req)
        if isinstance(principal, str):
            return _mi_error(400, principal)
        if not known_resource(ctx, resource, req.base_url):
            return _mi_error(400, unknown_resource(ctx, resource))
        raw, exp = issuer.issue(principal, resource)
        return Response(
            200,
            {
                "access_token": raw,
                "expires_on": str(exp),
                "resource": resource,
                "token_type": "Bearer",
                "client_id": principal.app_id or principal.object_id,
            },
        )

    def jwks(_ctx: Context, _req: Request, _params: dict[str, str]) -> Response:
        return Response(200, issuer.jwks())

    router.add("GET", TOKEN_PATH, token, name="msi.token", priority=100)
    router.add("GET", "/_emulator/jwks", jwks, name="emulator.jwks", priority=100)
