"""One request through the emulator, independent of sockets: faults, auth, throttling, RBAC,
the router, and the headers ARM adds to every answer.

Order follows ARM's front door: the connection may drop; latency is added; the caller is
authenticated (401); its token bucket is charged (429); a share of requests fails (5xx); the
caller is authorized (403); then the provider answers, and latency that grows with the
answer's size (per item listed, per KiB) is added before it is sent. Admin and token routes
skip the fault stages unless a knob says otherwise, so a test can always inspect and reset the
emulator.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass

from local_azure.access import Access
from local_azure.faults import Faults
from local_azure.graph import PREFIX as GRAPH_PREFIX
from local_azure.kernel import ArmError, Context, Request, Response, Router
from local_azure.tokens import TOKEN_PATH

log = logging.getLogger("local_azure")

ADMIN_PREFIX = "/_emulator/"
ROUTING_REGION = "LOCAL"  # ARM names the region that routed a request: REGION:TIME:REQUEST-ID
PUBLIC_PATHS = frozenset({TOKEN_PATH, "/_emulator/jwks", "/metadata/endpoints"})


@dataclass
class Outcome:
    """A response to write, or `response` None: drop the connection without answering."""

    response: Response | None
    route: str


def _kind(path: str) -> str:
    """'public' (no auth), 'admin' (operator or secret), 'graph' or 'arm' (bearer token)."""
    lowered = path.rstrip("/").lower() or "/"
    if lowered in PUBLIC_PATHS:
        return "public"
    if lowered.startswith(ADMIN_PREFIX) or lowered == ADMIN_PREFIX.rstrip("/"):
        return "admin"
    if lowered.startswith(GRAPH_PREFIX + "/") or lowered == GRAPH_PREFIX:
        return "graph"
    return "arm"


class Gateway:
    def __init__(self, ctx: Context, router: Router, access: Access, faults: Faults) -> None:
        self.ctx = ctx
        self.router = router
        self.access = access
        self.faults = faults

    def handle(self, req: Request) -> Outcome:
        extra: dict[str, str] = {}
        try:
            outcome = self._handle(req, _kind(req.path), extra)
        except Exception:
            tracking = str(uuid.uuid4())
            log.exception(
                "unhandled error in %s %s (tracking id %s)", req.method, req.path, tracking
            )
            internal = ArmError(
                500,
                "InternalServerError",
                f"Encountered internal server error. The tracking id is '{tracking}'.",
            )
            outcome = Outcome(internal.response(), "error.internal")
        response = outcome.response
        if not req.path.lower().startswith(ADMIN_PREFIX):  # counters show client traffic only
            status = None if response is None else response.status
            self.faults.stats.record(req.method, outcome.route, status)
        if response is not None:
            self._decorate(req, response, extra)
        return outcome

    def _handle(self, req: Request, kind: str, extra: dict[str, str]) -> Outcome:
        """The stages in order; ArmErrors become answers, anything else is a 500 above."""
        faulty = kind in ("arm", "graph") or (
            req.path.lower() == TOKEN_PATH and self.faults.knobs.token_endpoint_faults
        )
        faults = self.faults
        if faulty and faults.should_drop():
            faults.stats.event("dropped")
            return Outcome(None, "fault.dropped")
        if faulty and faults.settings.latency_ms > 0:
            time.sleep(faults.latency_s())
        try:
            if kind == "admin":
                self.access.admin_allowed(self.ctx, req)
            elif kind == "graph":
                req.caller = self.access.graph_caller(self.ctx, req)
            elif kind == "arm":
                req.caller = self.access.arm_caller(self.ctx, req)
                header, remaining, throttled = faults.throttle(
                    req.method, req.path, req.caller.object_id
                )
                extra[header] = str(remaining)
                if throttled is not None:
                    return Outcome(throttled.response(), "fault.throttled")
            if faulty:
                injected = faults.injected_error()
                if injected is not None:
                    faults.stats.event("injected_error")
                    return Outcome(injected.response(), "fault.error")
            if kind == "arm" and faults.settings.enforce_rbac:
                self.access.check_rbac(self.ctx, req)
        except ArmError as err:
            return Outcome(err.response(), "auth" if err.status in (401, 403) else "error")
        response, route = self.router.dispatch(self.ctx, req)
        if faulty:
            self._size_latency(response)
        return Outcome(response, route)

    def _size_latency(self, response: Response) -> None:
        """Wait as long as the answer's size costs (items listed, KiB), when those knobs are on."""
        settings = self.faults.settings
        if settings.latency_per_item_ms <= 0 and settings.latency_per_kib_ms <= 0:
            return
        size = 0
        if response.body is not None and settings.latency_per_kib_ms > 0:
            body = json.dumps(response.body, ensure_ascii=False, separators=(",", ":"))
            size = len(body.encode("utf-8"))
        delay = self.faults.size_latency_s(response.body, size)
        if delay > 0:
            time.sleep(delay)

    def _decorate(self, req: Request, response: Response, extra: dict[str, str]) -> None:
        """ARM's per-answer headers.

        azure-core retries any error answer that carries Retry-After, so among errors only 429
        and 5xx keep it; 2xx answers keep it too (it paces long-running-operation polling).
        """
        headers = response.headers
        request_id = str(uuid.uuid4())
        headers.setdefault("x-ms-request-id", request_id)
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        headers.setdefault("x-ms-routing-request-id", f"{ROUTING_REGION}:{stamp}:{request_id}")
        headers.setdefault(
            "x-ms-correlation-request-id",
            req.headers.get("x-ms-correlation-request-id") or request_id,
        )
        for name, value in extra.items():
            headers.setdefault(name, value)
        if 400 <= response.status < 500 and response.status != 429:
            for key in [k for k in headers if k.lower() == "retry-after"]:
                del headers[key]
