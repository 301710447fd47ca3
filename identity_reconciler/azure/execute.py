"""Apply's boundary to ARM: perform one planned write exactly as the plan says it.

A reviewed plan holds the exact ARM writes (method, id, body). Apply must send those bodies and
nothing else, so every write here goes out as the plan's raw JSON through the SDK client the
change kind calls for; only what the plan could not know (the answer: a new principal id) comes
back. Retrying belongs to apply (`apply/retry.py`), which sees every 429 and its Retry-After and
paces all workers together; azure-core's own RetryPolicy is therefore switched off for these
calls (`retry_total=0` per call), so the two layers never multiply into dozens of attempts.

Fingerprints: `current_fingerprint` reads the one live object a change touches and converts it
exactly as the reader does, so it compares with the plan's `live_fingerprint`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from azure.core.exceptions import AzureError, HttpResponseError

from identity_reconciler.azure import convert, flexible_credentials, identity_blocks
from identity_reconciler.azure.clients import Session
from identity_reconciler.azure.errors import ArmRequestError, NotFound, translate
from identity_reconciler.azure.resource_types import canonical_type
from identity_reconciler.core import armid

_LRO_POLL_SECONDS = 1
# Kinds as the plan spells them (`plan.ChangeKind` values; azure/ does not import plan/).
IDENTITY, FEDERATED_CREDENTIAL, GRANT = "identity", "federated_credential", "grant"
BLOCK_KINDS = frozenset({"attachment", "system_assigned"})
ResponseHook = Callable[[int, Mapping[str, str]], None]


class OperationLike(Protocol):
    """One planned ARM write (`plan.Operation`)."""

    @property
    def method(self) -> str: ...
    @property
    def id(self) -> str: ...
    @property
    def body(self) -> dict[str, Any] | None: ...


class ChangeLike(Protocol):
    """What a fingerprint read needs of a planned change (`plan.Change`)."""

    @property
    def kind(self) -> str: ...
    @property
    def id(self) -> str | None: ...


@dataclass(frozen=True)
class WriteResult:
    """What ARM answered to one write, as far as apply needs it."""

    principal_id: str | None = None  # identity PUT, or an identity block with SystemAssigned
    answered: dict[str, Any] | None = None


# --------------------------------------------------------------------------- plumbing


def retry_after_of(exc: BaseException) -> float | None:
    """The Retry-After (seconds) an error answer carried, if any (see `_sdk`)."""
    value = getattr(exc, "retry_after", None)
    return float(value) if isinstance(value, int | float) else None


def _parse_retry_after(exc: HttpResponseError) -> float | None:
    response: Any = exc.response
    try:
        raw = response.headers.get("Retry-After") if response is not None else None
    except Exception:  # a half-built response
        return None
    try:
        return max(0.0, float(raw)) if raw else None
    except ValueError:
        return None


@contextmanager
def _sdk() -> Iterator[None]:
    """`arm_errors()` plus Retry-After on every error that carried one (5xx too, not only 429)."""
    try:
        yield
    except AzureError as exc:
        err = translate(exc)
        if isinstance(exc, HttpResponseError):
            after = _parse_retry_after(exc)
            if after is not None:
                err.retry_after = after  # type: ignore[attr-defined]
        raise err from None


def _options(hook: ResponseHook | None) -> dict[str, Any]:
    """Per-call SDK options: no azure-core retries (apply retries), and an optional header spy."""
    options: dict[str, Any] = {"retry_total": 0}
    if hook is not None:

        def on_response(pipeline_response: Any) -> None:
            http = pipeline_response.http_response
            hook(int(http.status_code), http.headers)

        options["raw_response_hook"] = on_response
    return options


def _raw(body: Mapping[str, Any] | None) -> bytes:
    """The plan's body as the exact bytes sent (the SDKs accept raw bodies unchanged)."""
    return json.dumps(body or {}, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def target(object_id: str, kind: str) -> armid.ArmId:
    """The id of a planned write, parsed strictly and checked against the change kind.

    Every write below sends the canonical form of this parse, never the plan's text: a spelling
    the HTTP stack could rewrite (dot segments, encodings, stray characters) is refused here.
    """
    try:
        parsed = armid.parse_id(object_id)
    except armid.ArmIdError as exc:
        raise ArmRequestError(0, "InvalidOperation", f"refused id: {exc}") from None
    wanted = _ID_KIND.get(kind)
    if wanted is not None and parsed.kind != wanted:
        what = kind.replace("_", " ")
        raise ArmRequestError(0, "InvalidOperation", f"{object_id!r} is not a {what} id")
    if kind in BLOCK_KINDS and parsed.scope.kind is not armid.ScopeKind.RESOURCE:
        raise ArmRequestError(0, "InvalidOperation", f"{object_id!r} is not a resource id")
    return parsed


_ID_KIND = {
    IDENTITY: "identity",
    FEDERATED_CREDENTIAL: "federated_credential",
    GRANT: "role_assignment",
}


def _identity_parts(identity_id: str) -> tuple[str, str, str]:
    scope = target(identity_id, IDENTITY).scope
    return scope.subscription_id or "", scope.resource_group or "", scope.name or ""


def _fic_parts(fic_id: str) -> tuple[str, str, str, str]:
    scope = target(fic_id, FEDERATED_CREDENTIAL).scope
    return scope.subscription_id or "", scope.resource_group or "", scope.names[0], scope.names[1]


def identity_of_credential(fic_id: str) -> str:
    """The identity id a federated credential id sits under."""
    parent = target(fic_id, FEDERATED_CREDENTIAL).parent_identity
    assert parent is not None  # target() checked the kind
    return parent


def split_grant_id(assignment_id: str) -> tuple[str, str]:
    """(scope, name) of a role assignment id."""
    parsed = target(assignment_id, GRANT)
    return parsed.scope.id, parsed.assignment or ""


def _subscription_of(scope: str) -> str:
    parsed = armid.try_parse(scope)
    return (parsed.subscription_id or "") if parsed is not None else ""


def resource_type_of(resource_id: str) -> str:
    """The resource type of an id, in its documented spelling when known."""
    return canonical_type(armid.parse_scope(resource_id).resource_type or "")


# --------------------------------------------------------------------------- writes


def run_operation(
    session: Session, kind: str, operation: OperationLike, *, hook: ResponseHook | None = None
) -> WriteResult:
    """Send one planned write through the SDK client for `kind`; ArmRequestError on failure."""
    method = operation.method.upper()
    if kind == IDENTITY:
        return _identity(session, method, operation, hook)
    if kind == FEDERATED_CREDENTIAL:
        return _credential(session, method, operation, hook)
    if kind in BLOCK_KINDS and method == "PATCH":
        return _block(session, operation, hook, keeps_only=kind == "system_assigned")
    if kind == GRANT:
        return _grant(session, method, operation, hook)
    raise ArmRequestError(
        0, "UnsupportedOperation", f"{method} of a {kind} change is not supported"
    )


def _identity(
    session: Session, method: str, op: OperationLike, hook: ResponseHook | None
) -> WriteResult:
    sub, rg, name = _identity_parts(op.id)
    ops = session.msi(sub).user_assigned_identities
    with _sdk():
        if method == "DELETE":
            ops.delete(rg, name, **_options(hook))
            return WriteResult()
        if method != "PUT":
            raise ArmRequestError(0, "UnsupportedOperation", f"{method} of an identity")
        result = ops.create_or_update(
            rg, name, _raw(op.body), content_type="application/json", **_options(hook)
        )
    body = dict(result.serialize(keep_readonly=True))
    live = convert.identity(body)
    return WriteResult(principal_id=live.principal_id or None, answered=body)


def _credential(
    session: Session, method: str, op: OperationLike, hook: ResponseHook | None
) -> WriteResult:
    sub, rg, ident, name = _fic_parts(op.id)
    ops = session.msi(sub).federated_identity_credentials
    with _sdk():
        if method == "DELETE":
            ops.delete(rg, ident, name, **_options(hook))
            return WriteResult()
        if method != "PUT":
            raise ArmRequestError(0, "UnsupportedOperation", f"{method} of a federated credential")
        if flexible_credentials.names_expression(op.body):
            answered = flexible_credentials.put_credential(
                session, target(op.id, FEDERATED_CREDENTIAL).id, _raw(op.body), _options(hook)
            )
            return WriteResult(answered=answered)
        result = ops.create_or_update(
            rg, ident, name, _raw(op.body), content_type="application/json", **_options(hook)
        )
    return WriteResult(answered=dict(result.serialize(keep_readonly=True)))


def _block(
    session: Session, op: OperationLike, hook: ResponseHook | None, *, keeps_only: bool = False
) -> WriteResult:
    """The planned identity PATCH, written as the type takes it (`identity_blocks`).

    `keeps_only` (a system-assigned switch): the user-assigned identities it names are the ones
    that stay, so each must be attached already; one that is not would be an attach no change
    shows, and the write is refused.
    """
    rid = target(op.id, "attachment").id
    rtype_name = resource_type_of(rid)
    sub = _subscription_of(rid)
    rtype = session.resource_type(rtype_name, sub)
    body = dict(op.body or {})
    current = None
    named, _ = identity_blocks.split_patch(body)
    if rtype.primary_property or not rtype.patch or (keeps_only and named):
        current = _resource_body(session, rid, hook) or {}
    if keeps_only and named:
        have = (current or {}).get("identity") or {}
        attached = {armid.key(k) for k in (have.get("userAssignedIdentities") or {})}
        extra = sorted(i for i in named if armid.key(i) not in attached)
        if extra:
            raise ArmRequestError(
                0,
                "InvalidOperation",
                f"the system-assigned switch of {rid} names {', '.join(extra)}, which is not "
                "attached; it may only keep identities, never attach one",
            )
    if not keeps_only and not _has_system(body):
        # An attachment keeps the system-assigned identity as it is: dropping it deletes a
        # principal, which only a system-assigned change (with its own review) may do.
        if current is None:
            current = _resource_body(session, rid, hook) or {}
        if _has_system(current):
            raise ArmRequestError(
                0,
                "InvalidOperation",
                f"the attachment write of {rid} would remove its system-assigned identity; "
                "only a system-assigned change may",
            )
    if current is not None and (rtype.primary_property or not rtype.patch):
        attach, detach = identity_blocks.split_patch(body)
        primary = identity_blocks.primary_identity(
            current, rtype.primary_property, attach=attach, detach=detach
        )
        if primary:
            body["properties"] = {**(body.get("properties") or {}), **primary}
    ops = session.resources(sub).resources
    with _sdk():
        if current is not None and not rtype.patch:
            poller = ops.begin_create_or_update_by_id(
                rid,
                identity_blocks.put_body(current, body),
                api_version=rtype.api_version,
                polling_interval=_LRO_POLL_SECONDS,
                **_options(hook),
            )
        else:
            poller = ops.begin_update_by_id(
                rid,
                body,
                api_version=rtype.api_version,
                polling_interval=_LRO_POLL_SECONDS,
                **_options(hook),
            )
        result = poller.result()
    answered = dict(result.as_dict()) if result is not None else {}
    if "identity" not in answered:  # some providers answer without the block: read it back
        answered = _resource_body(session, rid, hook) or {}
    live = convert.resource_identity(rid, rtype_name, answered)
    return WriteResult(principal_id=live.system_principal_id, answered=answered)


def _grant(
    session: Session, method: str, op: OperationLike, hook: ResponseHook | None
) -> WriteResult:
    grant_id = target(op.id, GRANT)
    ops = session.authorization(grant_id.subscription_id or "").role_assignments
    with _sdk():
        if method == "DELETE":
            ops.delete_by_id(grant_id.id, **_options(hook))
            return WriteResult()
        if method != "PUT":
            raise ArmRequestError(0, "UnsupportedOperation", f"{method} of a role assignment")
        result = ops.create_by_id(
            grant_id.id,
            _raw(with_principal_type(op.body)),
            content_type="application/json",
            **_options(hook),
        )
    return WriteResult(answered=dict(result.serialize(keep_readonly=True)))


def with_principal_type(body: Mapping[str, Any] | None) -> dict[str, Any]:
    """A grant body that names `principalType: ServicePrincipal`.

    Managed identities are service principals; naming the type lets ARM skip the directory
    lookup that fails with PrincipalNotFound while a new principal replicates.
    """
    out = dict(body or {})
    props = dict(out.get("properties") or {})
    props.setdefault("principalType", "ServicePrincipal")
    out["properties"] = props
    return out


# --------------------------------------------------------------------------- reads


def _has_system(body: Mapping[str, Any]) -> bool:
    kind = str((body.get("identity") or {}).get("type") or "")
    return "systemassigned" in kind.replace(" ", "").lower()


def _resource_body(
    session: Session, resource_id: str, hook: ResponseHook | None = None
) -> dict[str, Any] | None:
    rtype_name = resource_type_of(resource_id)
    sub = _subscription_of(resource_id)
    rtype = session.resource_type(rtype_name, sub)
    try:
        with _sdk():
            body = session.resources(sub).resources.get_by_id(
                resource_id, api_version=rtype.api_version, **_options(hook)
            )
    except NotFound:
        return None
    return dict(body.as_dict())
