"""The emulator's own API under `/_emulator/`: request counters, knobs at run time, tokens.

Tests and benchmarks steer a running emulator through it (or through the same functions via
`api.RunningEmulator`): switch throttling on, read how many writes a client sent, mint a token
for a principal. It is guarded like the rest (operator token or identity-header secret).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from local_azure.faults import BucketSpec, Faults
from local_azure.kernel import ArmError, Context, Request, Response, Router
from local_azure.tokens import TOKEN_LIFETIME_S, TokenIssuer

_RATES = ("error_rate", "drop_rate")
_NON_NEGATIVE = (
    "latency_ms",
    "latency_per_item_ms",
    "latency_per_kib_ms",
    "replication_window_s",
    "role_assignment_limit",
)


def settings_json(ctx: Context, faults: Faults) -> dict[str, Any]:
    return {**dataclasses.asdict(ctx.settings), **faults.knobs.as_json()}


def _bad(message: str) -> ArmError:
    return ArmError(400, "InvalidSettings", message)


def _coerce(name: str, kind: Any, value: Any) -> Any:
    """Check one knob value against its declared type (bools are not numbers here)."""
    if kind in (bool, "bool"):
        if not isinstance(value, bool):
            raise _bad(f"'{name}' must be true or false.")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _bad(f"'{name}' must be a number.")
    if kind in (int, "int"):
        if int(value) != value:
            raise _bad(f"'{name}' must be a whole number.")
        return int(value)
    return float(value)


def _limits(value: Any) -> dict[str, BucketSpec]:
    if not isinstance(value, dict):
        raise _bad("'throttle_limits' must map reads/writes/deletes to {burst, per_second}.")
    out: dict[str, BucketSpec] = {}
    for cat, spec in value.items():
        if cat not in ("reads", "writes", "deletes") or not isinstance(spec, dict):
            raise _bad(f"'throttle_limits.{cat}' is not one of reads, writes, deletes.")
        burst = _coerce(f"throttle_limits.{cat}.burst", float, spec.get("burst"))
        rate = _coerce(f"throttle_limits.{cat}.per_second", float, spec.get("per_second"))
        if burst < 1 or rate < 0:
            raise _bad(f"'throttle_limits.{cat}' needs burst >= 1 and per_second >= 0.")
        out[cat] = BucketSpec(burst, rate)
    return out


def apply_settings(ctx: Context, faults: Faults, changes: dict[str, Any]) -> dict[str, Any]:
    """Validate and apply knob changes all-or-nothing; returns the resulting settings."""
    fields = {f.name: f.type for f in dataclasses.fields(ctx.settings)}
    updates: dict[str, Any] = {}
    limits: dict[str, BucketSpec] | None = None
    token_faults: bool | None = None
    for name, value in changes.items():
        if name == "throttle_limits":
            limits = _limits(value)
        elif name == "token_endpoint_faults":
            token_faults = _coerce(name, bool, value)
        elif name in fields:
            updates[name] = _coerce(name, fields[name], value)
        else:
            known = ", ".join(sorted([*fields, "throttle_limits", "token_endpoint_faults"]))
            raise _bad(f"Unknown setting '{name}'. Known settings: {known}.")
    for name in _RATES:
        if name in updates and not 0.0 <= updates[name] <= 1.0:
            raise _bad(f"'{name}' must be between 0 and 1.")
    for name in _NON_NEGATIVE:
        if name in updates and updates[name] < 0:
            raise _bad(f"'{name}' must not be negative.")
    if updates.get("page_size", 1) < 1:
        raise _bad("'page_size' must be at least 1.")

    settings = ctx.settings
    reset_buckets = limits is not None or any(
        name in updates and updates[name] != getattr(settings, name)
        for name in ("throttle", "throttle_reads")
    )
    for name, value in updates.items():
        setattr(settings, name, value)
    if limits is not None:
        faults.knobs.limits.update(limits)
    if token_faults is not None:
        faults.knobs.token_endpoint_faults = token_faults
    if "seed" in updates:
        with ctx.lock:
            ctx.rng.seed(settings.seed)
        faults.reseed(settings.seed)
    if reset_buckets:
        faults.reset_buckets()
    return settings_json(ctx, faults)


def register(router: Router, faults: Faults, issuer: TokenIssuer) -> None:
    def stats(_ctx: Context, _req: Request, _p: dict[str, str]) -> Response:
        return Response(200, faults.stats.snapshot())

    def reset(_ctx: Context, _req: Request, _p: dict[str, str]) -> Response:
        faults.stats.reset()
        return Response(200, faults.stats.snapshot())

    def get_settings(ctx: Context, _req: Request, _p: dict[str, str]) -> Response:
        return Response(200, settings_json(ctx, faults))

    def patch_settings(ctx: Context, req: Request, _p: dict[str, str]) -> Response:
        return Response(200, apply_settings(ctx, faults, req.json()))

    def token(ctx: Context, req: Request, _p: dict[str, str]) -> Response:
        """Mint a token for any service principal (tests of expiry, other identities)."""
        body = req.json()
        object_id = body.get("object_id") or ctx.store.meta_get("operator_object_id") or ""
        principal = ctx.store.get_principal(str(object_id))
        if principal is None:
            raise ArmError(404, "PrincipalNotFound", f"Principal '{object_id}' does not exist.")
        resource = str(body.get("resource") or "https://management.azure.com/")
        lifetime = _coerce("lifetime_s", int, body.get("lifetime_s", TOKEN_LIFETIME_S))
        raw, exp = issuer.issue(principal, resource, lifetime_s=lifetime)
        return Response(200, {"access_token": raw, "expires_on": str(exp), "resource": resource})

    router.add("GET", "/_emulator/stats", stats, name="emulator.stats", priority=100)
    router.add("POST", "/_emulator/stats/reset", reset, name="emulator.stats.reset", priority=100)
    router.add("GET", "/_emulator/settings", get_settings, name="emulator.settings", priority=100)
    router.add(
        "PATCH", "/_emulator/settings", patch_settings, name="emulator.settings", priority=100
    )
    router.add("POST", "/_emulator/token", token, name="emulator.token", priority=100)
