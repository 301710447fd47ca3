"""Our own error types for everything that can go wrong talking to ARM.

azure-core raises a zoo of exceptions (HttpResponseError and its subclasses chosen by status,
ServiceRequestError for sockets, ClientAuthenticationError from credentials, ...). Callers above
`azure/` should not need to know any of them: every SDK call in this package runs inside
`arm_errors()`, which turns them into `ArmRequestError` and friends carrying the ARM error code, the
`x-ms-request-id` support needs, and a message that never contains a token.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ServiceRequestError,
    ServiceResponseError,
)

from identity_reconciler.core.errors import UserError
from identity_reconciler.core.redact import redact_tokens

# "... does not have authorization to perform action '{a}' over scope '{s}' ..."
_AUTHZ_RE = re.compile(r"perform action '([^']+)' over scope '([^']+)'", re.IGNORECASE)
# Bearer tokens and JWT-looking strings: scrubbed from every message we build.
_SECRET_RE = re.compile(
    r"(Bearer\s+)[A-Za-z0-9\-_.~+/=]+|eyJ[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]*",
    re.IGNORECASE,
)


def scrub(text: str) -> str:
    """Remove anything that looks like a bearer token or a JWT."""
    return redact_tokens(_SECRET_RE.sub(lambda m: (m.group(1) or "") + "<redacted>", text))


class ArmRequestError(UserError):
    """An ARM call failed. `status` is 0 when no HTTP answer was received."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        request_id: str | None = None,
        target: str | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = scrub(message)
        self.request_id = request_id
        self.target = target
        super().__init__(self.summary())

    def summary(self) -> str:
        """One line for a person: status, code, message, and the request id for support."""
        head = f"{self.status} {self.code}" if self.status else self.code
        text = f"{head}: {self.message}"
        if self.request_id:
            text += f" (x-ms-request-id: {self.request_id})"
        return text


class NotFound(ArmRequestError):
    """404: the object (or its parent) does not exist."""


class Conflict(ArmRequestError):
    """409: the object exists, or a concurrent operation holds it."""


class RoleAssignmentExists(Conflict):
    """409 RoleAssignmentExists: the same scope+role+principal exists under another name."""


class PrincipalNotFound(ArmRequestError):
    """400 PrincipalNotFound: Entra has not replicated a new principal yet (retryable)."""


class BadRequest(ArmRequestError):
    """400: ARM rejected the request as invalid."""


class Throttled(ArmRequestError):
    """429 after the retry policy gave up."""

    def __init__(self, *args: Any, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.retry_after = retry_after


class Forbidden(ArmRequestError):
    """403 AuthorizationFailed: the caller lacks `action` over `scope`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        m = _AUTHZ_RE.search(self.message)
        self.action: str | None = m.group(1) if m else None
        self.scope: str | None = m.group(2) if m else None


class AuthenticationFailed(ArmRequestError):
    """401, or no credential could produce a token."""


class ServerError(ArmRequestError):
    """5xx after the retry policy gave up."""


class ArmUnavailable(ArmRequestError):
    """No answer at all: connection refused or reset, DNS, TLS, timeout."""


def _header(exc: HttpResponseError, name: str) -> str | None:
    response = exc.response
    if response is None:
        return None
    try:
        value = getattr(response, "headers", {}).get(name)
    except Exception:  # a half-built response: no headers to read
        return None
    return str(value) if value else None


def _error_class(status: int, code: str) -> type[ArmRequestError]:
    lcode = code.lower()
    if lcode == "roleassignmentexists":
        return RoleAssignmentExists
    if lcode == "principalnotfound":
        return PrincipalNotFound
    by_status: dict[int, type[ArmRequestError]] = {
        400: BadRequest,
        401: AuthenticationFailed,
        403: Forbidden,
        404: NotFound,
        409: Conflict,
        429: Throttled,
    }
    if status in by_status:
        return by_status[status]
    if status >= 500:
        return ServerError
    return ArmRequestError


def translate(exc: BaseException) -> ArmRequestError:
    """Map an azure-core / azure-identity exception to ours (already ours: unchanged)."""
    if isinstance(exc, ArmRequestError):
        return exc
    if isinstance(exc, HttpResponseError) and exc.status_code:
        status = int(exc.status_code)
        err = exc.error
        code = (err.code if err is not None else None) or (exc.reason or f"Http{status}")
        message = (err.message if err is not None else None) or str(exc.message or exc.reason)
        target = err.target if err is not None else None
        request_id = _header(exc, "x-ms-request-id") or _header(exc, "x-ms-correlation-request-id")
        cls = _error_class(status, code)
        kwargs: dict[str, Any] = {"request_id": request_id, "target": target}
        if cls is Throttled:
            after = _header(exc, "Retry-After")
            kwargs["retry_after"] = float(after) if after and after.isdigit() else None
        return cls(status, code, message.strip(), **kwargs)
    if isinstance(exc, ClientAuthenticationError):
        # Raised by credentials when no token can be had (no HTTP status from ARM).
        return AuthenticationFailed(0, "AuthenticationFailed", _first_line(exc))
    if isinstance(exc, ServiceRequestError | ServiceResponseError):
        return ArmUnavailable(0, "ArmUnavailable", _first_line(exc))
    if isinstance(exc, AzureError):
        return ArmRequestError(0, type(exc).__name__, _first_line(exc))
    raise TypeError(f"not an Azure error: {type(exc).__name__}")


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "message", None) or exc) or type(exc).__name__
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


@contextmanager
def arm_errors() -> Iterator[None]:
    """Run SDK calls inside this: SDK exceptions leave it as `ArmRequestError`s (chain dropped)."""
    try:
        yield
    except AzureError as exc:
        raise translate(exc) from None
