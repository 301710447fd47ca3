"""The emulator's request model: Request, Response, ArmError, Context and the Router.

Provider modules (resources, managed identity, authorization, ...) register handlers on a
Router; the HTTPS server turns each HTTP exchange into a Request, asks the Router, and writes
the Response. Handlers are plain functions `(ctx, req, params) -> Response`, testable without
a socket.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from local_azure.store import Store

JSON = dict[str, Any]


class ArmError(Exception):
    """An ARM error answer: `{"error": {"code", "message", "target"?, "details"?}}`."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        target: str | None = None,
        details: list[JSON] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.target = target
        self.details = details
        self.headers = dict(headers or {})

    def body(self) -> JSON:
        err: JSON = {"code": self.code, "message": self.message}
        if self.target is not None:
            err["target"] = self.target
        if self.details is not None:
            err["details"] = self.details
        return {"error": err}

    def response(self) -> Response:
        return Response(self.status, self.body(), dict(self.headers))


@dataclass
class Caller:
    """The authenticated principal of a request (from its bearer token)."""

    object_id: str
    tenant_id: str
    app_id: str = ""
    display_name: str = ""


@dataclass
class Request:
    method: str
    path: str  # percent-decoded path, no query
    query: dict[str, str]  # percent-decoded; keys as sent
    headers: dict[str, str]  # keys lower-cased
    body: bytes = b""
    base_url: str = ""  # e.g. https://127.0.0.1:8443, for absolute nextLinks
    caller: Caller | None = None

    def q(self, name: str, default: str | None = None) -> str | None:
        """A query parameter, name matched case-insensitively (ARM is lenient here)."""
        lname = name.lower()
        for k, v in self.query.items():
            if k.lower() == lname:
                return v
        return default

    @property
    def api_version(self) -> str | None:
        return self.q("api-version")

    def json(self) -> JSON:
        """The body as a JSON object, or 400 InvalidRequestContent."""
        if not self.body:
            raise ArmError(
                400,
                "InvalidRequestContent",
                "The request content was invalid and could not be deserialized: "
                "'The request body is empty.'",
            )
        try:
            value = json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ArmError(
                400,
                "InvalidRequestContent",
                f"The request content was invalid and could not be deserialized: '{exc}'.",
            ) from None
        if not isinstance(value, dict):
            raise ArmError(
                400, "InvalidRequestContent", "The request content must be a JSON object."
            )
        return value


@dataclass
class Response:
    status: int
    body: JSON | list[Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Settings:
    """Realism knobs; every random choice goes through `Context.rng` seeded from `seed`."""

    seed: int = 0
    latency_ms: float = 0.0
    # Latency that grows with the answer: per item listed (`value` entries, or 1 for a single
    # resource) and per KiB of body, added to `latency_ms`. Big list pages cost time, as in ARM.
    latency_per_item_ms: float = 0.0
    latency_per_kib_ms: float = 0.0
    error_rate: float = 0.0  # share of requests answered 500/503
    drop_rate: float = 0.0  # share of connections closed without an answer
    throttle: bool = False  # ARM token buckets per subscription and principal, every category
    throttle_reads: bool = False  # the reads bucket alone (250 burst, 25/s), writes unthrottled
    retry_after_on_429: bool = True
    replication_window_s: float = 0.0  # PrincipalNotFound for new principals without principalType
    enforce_rbac: bool = False
    role_assignment_limit: int = 4000
    page_size: int = 1000
    # How long a federated-credential write holds its identity: a second write to the same
    # identity's credentials inside it gets ARM's 409 for concurrent writes.
    fic_write_hold_s: float = 0.05


@dataclass
class Context:
    """What a handler may use: the store, the clock, randomness, identity of the emulated cloud."""

    store: Store
    settings: Settings
    tenant_id: str
    clock: Callable[[], float] = time.time
    rng: random.Random = field(default_factory=random.Random)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def new_guid(self) -> str:
        with self.lock:
            return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def now_iso(self) -> str:
        t = self.clock()
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1e6):06d}Z"


Handler = Callable[[Context, Request, dict[str, str]], Response]


def no_api_version() -> ArmError:
    return ArmError(
        400,
        "MissingApiVersionParameter",
        "The api-version query parameter (?api-version=) is required for all requests.",
    )


def invalid_api_version(version: str, supported: Iterable[str]) -> ArmError:
    return ArmError(
        400,
        "InvalidApiVersionParameter",
        f"The api-version '{version}' is invalid. The supported versions are "
        f"'{','.join(sorted(supported, reverse=True))}'.",
    )


@dataclass
class Route:
    method: str
    pattern: str
    regex: re.Pattern[str]
    handler: Handler
    api_versions: frozenset[str] | None  # None: any (or none) accepted
    api_version_error: Callable[[Request, str, frozenset[str]], ArmError] | None
    priority: int
    name: str


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """`/subscriptions/{sub}/...` -> regex; `{name*}` spans slashes; literals match any case."""
    out = ""
    pos = 0
    for m in re.finditer(r"\{(\w+)(\*?)\}", pattern):
        out += re.escape(pattern[pos : m.start()])
        out += f"(?P<{m.group(1)}>.+?)" if m.group(2) else f"(?P<{m.group(1)}>[^/]+)"
        pos = m.end()
    out += re.escape(pattern[pos:])
    return re.compile(f"^{out}/?$", re.IGNORECASE)


class Router:
    def __init__(self) -> None:
        self._routes: list[Route] = []

    def add(
        self,
        method: str,
        pattern: str,
        handler: Handler,
        *,
        api_versions: Iterable[str] | None = None,
        api_version_error: Callable[[Request, str, frozenset[str]], ArmError] | None = None,
        priority: int = 0,
        name: str | None = None,
    ) -> None:
        """Register a handler. Higher priority is tried first; ties keep registration order."""
        self._routes.append(
            Route(
                method.upper(),
                pattern,
                compile_pattern(pattern),
                handler,
                frozenset(api_versions) if api_versions is not None else None,
                api_version_error,
                priority,
                name or f"{method.upper()} {pattern}",
            )
        )
        self._routes.sort(key=lambda r: -r.priority)

    def route(self, method: str, pattern: str, **kw: Any) -> Callable[[Handler], Handler]:
        def deco(fn: Handler) -> Handler:
            self.add(method, pattern, fn, **kw)
            return fn

        return deco

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        method = method.upper()
        path_matched = False
        for r in self._routes:
            m = r.regex.match(path)
            if not m:
                continue
            path_matched = True
            if r.method == method:
                return r, m.groupdict()
        if path_matched:
            raise ArmError(
                405,
                "MethodNotAllowed",
                f"The requested resource does not support http method '{method}'.",
            )
        return None

    def dispatch(self, ctx: Context, req: Request) -> tuple[Response, str]:
        """Answer a request; returns the response and the route name (for request counters)."""
        try:
            found = self.match(req.method, req.path)
            if found is None:
                raise ArmError(
                    404,
                    "InvalidResourceType" if "/providers/" in req.path.lower() else "NotFound",
                    f"The resource type could not be found for path '{req.path}'.",
                )
            route, params = found
            if route.api_versions is not None:
                version = req.api_version
                if not version:
                    raise no_api_version()
                if version not in route.api_versions:
                    make = route.api_version_error or (lambda _r, v, s: invalid_api_version(v, s))
                    raise make(req, version, route.api_versions)
            return route.handler(ctx, req, params), route.name
        except ArmError as err:
            return err.response(), "error"
