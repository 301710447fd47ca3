"""The fault kinds of the matrix, and how the ones the emulator's knobs cannot express are made.

Most faults are emulator knobs (`Settings`, `FaultKnobs` through `RunningEmulator.configure`).
The rest are made here, in the test's own emulator instance, by wrapping its write handlers
(`HandlerFaults`) or by another client (`Racer`):
- 500/503 before the write is made, and 500 or a lost answer after it was (the knob drops
  connections and fails requests before the handler runs);
- PrincipalNotFound for a principal created during the faulty run even when the request names
  its principalType (the knob honours principalType, as ARM documents, so apply never meets it);
- another client granting some desired grants under random names between plan and apply and
  while apply runs.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, cast

import estate
from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters

from identity_reconciler.apply import RetryPolicy
from identity_reconciler.azure.clients import Session, connect_emulator
from identity_reconciler.azure.errors import ArmRequestError as ClientError
from identity_reconciler.azure.errors import arm_errors
from identity_reconciler.core import armid
from identity_reconciler.core.state import DesiredGrant, PrincipalKind
from local_azure.api import RunningEmulator
from local_azure.kernel import ArmError, Context, Handler, Request, Response

TINY_BUCKETS = {
    "writes": {"burst": 8, "per_second": 16},
    "deletes": {"burst": 4, "per_second": 16},
    "reads": {"burst": 40, "per_second": 80},
}
ROOMY_BUCKETS = {  # throttling now and then, beside everything else
    "writes": {"burst": 16, "per_second": 32},
    "deletes": {"burst": 8, "per_second": 32},
    "reads": {"burst": 100, "per_second": 200},
}


@dataclass(frozen=True)
class FaultKind:
    name: str
    knobs: dict[str, Any] = field(default_factory=dict)
    lost_answers: float = 0.0  # share of committed writes whose answer never arrives
    failed_after_commit: float = 0.0  # share of committed writes answered 500 all the same
    failed_before_commit: float = 0.0  # share of writes answered 500/503 without being made
    strict_window: float = 0.0  # seconds a new principal is unknown even with principalType
    racer: bool = False
    # Apply's own retries absorb it: the first apply succeeds. False where a write may exhaust
    # its attempts (then a re-run must finish the job).
    absorbed: bool = True


KINDS: tuple[FaultKind, ...] = (
    FaultKind("429 + Retry-After", {"throttle": True, "throttle_limits": TINY_BUCKETS}),
    FaultKind(
        "429, no Retry-After",
        {"throttle": True, "throttle_limits": TINY_BUCKETS, "retry_after_on_429": False},
    ),
    FaultKind("500/503", {"error_rate": 0.08}, failed_after_commit=0.05),
    FaultKind("dropped connections", {"drop_rate": 0.08}, lost_answers=0.08),
    FaultKind("PrincipalNotFound", {"replication_window_s": 5.0}, strict_window=0.6),
    FaultKind("RoleAssignmentExists race", racer=True),
    FaultKind(
        "write storm",
        failed_before_commit=0.35,
        failed_after_commit=0.1,
        lost_answers=0.1,
        absorbed=False,
    ),
    FaultKind(
        "mixed",
        {
            "throttle": True,
            "throttle_limits": ROOMY_BUCKETS,
            "drop_rate": 0.03,
            "replication_window_s": 5.0,
        },
        lost_answers=0.03,
        failed_before_commit=0.05,
        failed_after_commit=0.03,
        strict_window=0.4,
        racer=True,
    ),
)
OFF = {
    "throttle": False,
    "error_rate": 0.0,
    "drop_rate": 0.0,
    "replication_window_s": 0.0,
    "retry_after_on_429": True,
}


def scaled_retry(seed: int) -> RetryPolicy:
    """Apply's retry rules with its waits scaled down (first backoff 50 ms, not 1 s)."""
    return RetryPolicy(
        backoff=0.05, backoff_max=0.5, principal_wait=10.0, throttle_budget=60.0, seed=seed
    )


def kind_for(seed: int) -> FaultKind:
    return KINDS[seed % len(KINDS)]


# --------------------------------------------------------------------------- handler faults


class HandlerFaults:
    """Wraps the emulator's write handlers; `active` False makes every wrapper transparent."""

    def __init__(self, emu: RunningEmulator, kind: FaultKind, seed: int) -> None:
        self.kind = kind
        self.active = False
        self.since = 0.0  # principals created from then on are "new" (strict window)
        self.counts: Counter[str] = Counter()
        self._rng = random.Random(f"handler-faults:{seed}")
        self._lock = threading.Lock()
        legacy = armid.identity_id(estate.SUB, estate.RG, "id-probe")
        grant = f"{estate.KV}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}"
        writes = [
            ("PUT", legacy),
            ("DELETE", legacy),
            ("PUT", f"{legacy}/federatedIdentityCredentials/probe"),
            ("DELETE", f"{legacy}/federatedIdentityCredentials/probe"),
            ("PATCH", estate.APP),
            ("PUT", grant),
            ("DELETE", grant),
        ]
        seen: set[int] = set()
        for method, path in writes:
            found = emu.router.match(method, path)
            assert found is not None, f"no route for {method} {path}"
            route = found[0]
            if id(route) in seen:
                continue
            seen.add(id(route))
            strict = method == "PUT" and path == grant
            route.handler = self._wrap(route.handler, strict=strict)

    def _draw(self, rate: float) -> bool:
        with self._lock:
            return rate > 0 and self._rng.random() < rate

    def _count(self, event: str) -> None:
        with self._lock:
            self.counts[event] += 1

    def _wrap(self, inner: Handler, *, strict: bool) -> Handler:
        def handler(ctx: Context, req: Request, params: dict[str, str]) -> Response:
            if self.active and strict and self.kind.strict_window > 0:
                self._not_replicated(ctx, req)
            if self.active and self._draw(self.kind.failed_before_commit):
                self._count("5xx before commit")
                status = 503 if self._draw(0.5) else 500
                raise ArmError(
                    status,
                    "ServiceUnavailable" if status == 503 else "InternalServerError",
                    "The server is currently unable to handle the request.",
                )
            response = inner(ctx, req, params)
            if not self.active or response.status >= 300:
                return response
            if self._draw(self.kind.lost_answers):
                self._count("answer lost")
                return cast(Response, None)  # the gateway drops the connection: no answer
            if self._draw(self.kind.failed_after_commit):
                self._count("500 after commit")
                failed = ArmError(500, "InternalServerError", "Encountered internal server error.")
                return failed.response()
            return response

        return handler

    def _not_replicated(self, ctx: Context, req: Request) -> None:
        principal_id = str((req.json().get("properties") or {}).get("principalId") or "")
        principal = ctx.store.get_principal(principal_id.lower())
        if (
            principal is not None
            and principal.created_at >= self.since
            and ctx.clock() - principal.created_at < self.kind.strict_window
        ):
            self._count("PrincipalNotFound")
            raise ArmError(
                400,
                "PrincipalNotFound",
                f"Principal {principal_id.replace('-', '')} does not exist in the directory "
                f"{ctx.tenant_id}.",
            )


# --------------------------------------------------------------------------- the racer


class Racer:
    """Someone else granting some of the desired grants by hand, under random names."""

    def __init__(self, emu: RunningEmulator, grants: list[DesiredGrant], seed: int) -> None:
        rng = random.Random(f"racer:{seed}")
        self._rng = rng
        self.targets = [g for g in grants if rng.random() < 0.4] or grants[:1]
        self.created: list[str] = []
        self.lost_races = 0
        self._emu = emu
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="racer", daemon=True)

    def start(self) -> None:
        """Grant up to two targets whose principal exists at once (after the plan, before apply:
        apply must meet 409 RoleAssignmentExists there), then race apply for the rest."""
        with connect_emulator(self._emu.info, retries=0) as session:
            early = 0
            for grant in list(self.targets):
                if early == 2:
                    break
                try:
                    principal = self._principal(session, grant)
                    if principal:
                        self._grant(session, grant, principal)
                        self.targets.remove(grant)
                        early += 1
                except ClientError:
                    continue
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _principal(self, session: Session, grant: DesiredGrant) -> str | None:
        with arm_errors():
            if grant.principal.kind is PrincipalKind.USER_ASSIGNED:
                scope = armid.parse_scope(grant.principal.id)
                ops = session.msi(estate.SUB).user_assigned_identities
                found = ops.get(scope.resource_group or "", scope.name or "", retry_total=0)
                return str(found.principal_id)
            body = session.resources(estate.SUB).resources.get_by_id(
                grant.principal.id, api_version="2024-11-01", retry_total=0
            )
            identity = body.identity
            return str(identity.principal_id) if identity and identity.principal_id else None

    def _grant(self, session: Session, grant: DesiredGrant, principal: str) -> None:
        name = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
        definition = (
            f"/subscriptions/{estate.SUB}/providers/Microsoft.Authorization/roleDefinitions/"
            f"{grant.role_definition_guid}"
        )
        with arm_errors():
            made = session.authorization(estate.SUB).role_assignments.create(
                grant.scope,
                name,
                RoleAssignmentCreateParameters(
                    role_definition_id=definition,
                    principal_id=principal,
                    principal_type="ServicePrincipal",
                ),
                retry_total=0,
            )
        self.created.append(str(made.id))

    def _run(self) -> None:
        pending = list(self.targets)
        with connect_emulator(self._emu.info, retries=0) as session:
            while pending and not self._stop.is_set():
                grant = pending[0]
                try:
                    principal = self._principal(session, grant)
                    if principal:
                        self._grant(session, grant, principal)
                        pending.pop(0)
                except ClientError as exc:
                    if exc.code == "RoleAssignmentExists":
                        self.lost_races += 1
                        pending.pop(0)
                    else:
                        pending.append(pending.pop(0))
                self._stop.wait(self._rng.uniform(0.01, 0.05))
