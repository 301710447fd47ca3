"""Apply runs only what a plan's changes say: every operation is bound to its change.

A reviewer reads a plan's changes (address, kind, actions, before/after); apply runs the
operations. The checksum is not a signature, so someone who can edit the file can make the two
disagree and re-seal it. `unbound(plan)` lists every way they disagree:

- each operation id parses through `core/armid.py` — exactly as the executor parses it — and
  names the change's own object (same canonical id) of the change's kind; the DELETE of a
  grant (deleted or replaced) names the assignment `before` shows, whose name is the one the
  planner gives that scope, role and principal; a grant waiting for its principal has no
  id yet, and its write is `(known after apply)` until apply fills it in from `after`;
- the method fits the kind, a DELETE only appears in a change whose actions say delete, and a
  PUT only in one that creates or updates;
- what a write sends matches what the reviewer saw: a grant's role, principal, condition and
  description, a federated credential's issuer, subject (or claims matching expression) and
  audiences, an identity's location and tags, and the identities an identity-block PATCH names;
- every object is inside the plan's target subscriptions (a management-group grant needs the
  plan's tenant, which apply checks against the credentials).

What is not bound here: the `type` string of an identity-block PATCH (it is computed from the
live block, which the plan does not record); `apply PLAN --specs` re-plans and compares every
operation exactly, which covers it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from identity_reconciler.core import armid, ownership
from identity_reconciler.plan import normalise
from identity_reconciler.plan.diff_grants import PRINCIPAL_TYPE
from identity_reconciler.plan.model import (
    KNOWN_AFTER_APPLY,
    Change,
    ChangeKind,
    Operation,
    Plan,
    PlanFileError,
)

_ID_KIND = {
    ChangeKind.IDENTITY: "identity",
    ChangeKind.FEDERATED_CREDENTIAL: "federated_credential",
    ChangeKind.GRANT: "role_assignment",
    ChangeKind.ATTACHMENT: "resource",
    ChangeKind.SYSTEM_ASSIGNED: "resource",
}
_METHODS = {
    ChangeKind.IDENTITY: ("PUT", "DELETE"),
    ChangeKind.FEDERATED_CREDENTIAL: ("PUT", "DELETE"),
    ChangeKind.GRANT: ("PUT", "DELETE"),
    ChangeKind.ATTACHMENT: ("PATCH",),
    ChangeKind.SYSTEM_ASSIGNED: ("PATCH",),
}


# The keys a write's body may hold (top level, then under `properties`): those the plan writes.
_KEYS: dict[ChangeKind, tuple[frozenset[str], frozenset[str]]] = {
    ChangeKind.IDENTITY: (frozenset({"location", "tags", "properties"}),
                          frozenset({"isolationScope"})),
    ChangeKind.FEDERATED_CREDENTIAL: (
        frozenset({"properties"}),
        frozenset({"issuer", "subject", "audiences", "claimsMatchingExpression"}),
    ),
    ChangeKind.GRANT: (
        frozenset({"properties"}),
        frozenset({"roleDefinitionId", "principalId", "principalType", "description",
                   "condition", "conditionVersion"}),
    ),
}  # fmt: skip


class UnboundOperation(PlanFileError):
    """A plan whose operations do not do what its changes say: apply refuses all of it."""


def check_bound(plan: Plan) -> None:
    """Raise UnboundOperation naming the first problems, when there are any."""
    problems = unbound(plan)
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise UnboundOperation(
            "the plan's operations do not match its changes, so it was edited after it was "
            "made: " + "; ".join(problems[:3]) + more
        )


def unbound(plan: Plan) -> list[str]:
    subs = {s.lower() for s in plan.target.subscriptions}
    out: list[str] = []
    for change in plan.changes:
        out.extend(f"{change.address}: {p}" for p in _change(change, subs, plan.target.tenant_id))
    return out


def _change(change: Change, subs: set[str], tenant: str) -> Iterator[str]:
    if change.kind not in _ID_KIND:  # T-SQL: checked against the database by its runner
        if any(op.method != "TSQL" for op in change.operations):
            yield "a database change may only run T-SQL"
        return
    wanted = _ID_KIND[change.kind]
    own = _own_id(change)
    if own is None:
        if change.id is not None or change.kind is not ChangeKind.GRANT or change.after is None:
            yield f"its id {change.id!r} is not a valid {wanted} id"
            return
    elif not _is(own, wanted):
        yield f"its id is a {own.kind} id, not a {wanted} id"
        return
    gone = own
    if change.kind is ChangeKind.GRANT and "delete" in change.actions:
        gone = _replaced_id(change)
        yield from _ours(change)
    elif change.is_replace:
        gone = _replaced_id(change)
    for op in change.operations:
        if op.method not in _METHODS[change.kind]:
            yield f"{op.method} is not a {change.kind.value} operation"
        if op.method == "DELETE" and "delete" not in change.actions:
            yield f"it deletes {op.id} but its actions are {list(change.actions)}"
        if op.method == "PUT" and not {"create", "update"} & set(change.actions):
            yield f"it writes {op.id} but its actions are {list(change.actions)}"
        if op.id == KNOWN_AFTER_APPLY:
            if own is not None or op.method != "PUT" or not _waits(change):
                yield "an operation without an id where the change names its object"
            continue
        bound = gone if op.method == "DELETE" else own
        target = armid.try_parse_id(op.id)
        if target is None:
            yield f"operation id {op.id!r} is not a canonical ARM id"
        elif bound is None or target.key != bound.key or not _is(target, wanted):
            yield f"operation id {op.id} is not the object the change shows"
        else:
            yield from _inside(target, subs, tenant)
            yield from _body(change, op)
            view = change.before if op.method == "DELETE" else change.after
            shown = (view or {}).get("scope")
            if target.assignment is not None and armid.key(str(shown)) != target.scope.key:
                yield f"it writes at {target.scope.id}, but the change shows scope {shown}"
    if own is None:  # a grant that waits for its principal: its scope is in `after`
        scope = armid.try_parse(str((change.after or {}).get("scope", "")))
        if scope is None:
            yield "its scope is not a canonical ARM id"
        else:
            yield from _inside(armid.ArmId(scope), subs, tenant)
        for op in change.operations:
            if op.id == KNOWN_AFTER_APPLY:
                yield from _body(change, op)


def _is(parsed: armid.ArmId, wanted: str) -> bool:
    if wanted == "resource":
        return parsed.assignment is None and parsed.scope.kind is armid.ScopeKind.RESOURCE
    return parsed.kind == wanted


def _replaced_id(change: Change) -> armid.ArmId | None:
    """The object a replace deletes: the grant `before` shows (its principal differs, so its
    name does), else the change's own object (an identity deleted and re-created in place)."""
    if change.kind is ChangeKind.GRANT:
        before = change.before or {}
        return armid.try_parse_id(
            f"{before.get('scope')}{armid.ROLE_ASSIGNMENTS}{before.get('name')}"
        )
    return _own_id(change)


def _ours(change: Change) -> Iterator[str]:
    """A grant's DELETE removes the assignment `before` shows, and the planner deletes only
    assignments whose name is the one it gives that scope, role and principal; apply's
    ownership read checks the same of the live object. So the name `before` shows must be that
    one: else an id moved to another owned assignment at the scope would pass both."""
    before = change.before or {}
    try:
        guid = armid.role_definition_guid(str(before.get("role_definition_id", "")))
    except armid.ArmIdError:
        yield "the role definition id it shows deleted is not valid"
        return
    scope = str(before.get("scope", ""))
    name = ownership.assignment_name(scope, guid, str(before.get("principal_id", "")))
    if str(before.get("name", "")).lower() != name:
        yield "it deletes an assignment whose name is not ours for the role, principal and scope"


def _own_id(change: Change) -> armid.ArmId | None:
    if change.id is None or change.id == KNOWN_AFTER_APPLY:
        return None
    return armid.try_parse_id(change.id)


def _waits(change: Change) -> bool:
    return change.principal is not None and change.principal.principal_id == KNOWN_AFTER_APPLY


def _inside(target: armid.ArmId, subs: set[str], tenant: str) -> Iterator[str]:
    sub = target.subscription_id
    if sub is None:
        if not tenant:
            yield f"{target.id} is outside any subscription and the plan names no tenant"
    elif sub not in subs:
        yield f"{target.id} is outside the plan's subscriptions {sorted(subs)}"


def _body(change: Change, op: Operation) -> Iterator[str]:
    if op.method == "DELETE" or change.after is None:
        return
    body: Mapping[str, Any] = op.body or {}
    after = change.after
    raw = body.get("properties")
    props: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    if change.kind in _KEYS:
        yield from _keys(change.kind, body, props)
    if change.kind is ChangeKind.GRANT:
        yield from _grant(after, props)
    elif change.kind is ChangeKind.FEDERATED_CREDENTIAL:
        sent = (props.get("issuer"), props.get("subject"))
        if sent != (after.get("issuer"), after.get("subject")):
            yield "its write sends another issuer or subject than the change shows"
        if _expression(props) != (
            after.get("claims_matching_expression"),
            after.get("language_version"),
        ):
            yield "its write sends another claims matching expression than the change shows"
        audiences = sorted(normalise.audiences(tuple(props.get("audiences") or ())))
        if audiences != list(after.get("audiences") or ()):
            yield "its write sends other audiences than the change shows"
    elif change.kind is ChangeKind.IDENTITY:
        if body.get("location") != after.get("location") or dict(
            body.get("tags") or {}
        ) != dict(after.get("tags") or {}):
            yield "its write sends another location or tags than the change shows"
    else:
        yield from _block(change, body)


def _keys(kind: ChangeKind, body: Mapping[str, Any], props: Mapping[str, Any]) -> Iterator[str]:
    """The body is sent as stored, and ARM reads property names without regard to case: a key
    the plan never writes (`Issuer` beside `issuer`) would reach ARM unchecked."""
    top, inner = _KEYS[kind]
    extra = sorted(set(body) - top) + sorted(set(props) - inner)
    if extra or not isinstance(body.get("properties", {}), Mapping):
        yield f"its write sends {extra or ['properties']}, which the change does not show"


def _expression(props: Mapping[str, Any]) -> tuple[Any, Any]:
    """(value, languageVersion) a credential write sends; (None, None) when it sends none."""
    sent = props.get("claimsMatchingExpression")
    if sent is None:
        return None, None
    if not isinstance(sent, Mapping) or set(sent) != {"value", "languageVersion"}:
        return sent, None
    version = sent["languageVersion"]
    return sent["value"], version if type(version) is int else repr(version)


def _grant(after: Mapping[str, Any], props: Mapping[str, Any]) -> Iterator[str]:
    try:
        sent = armid.role_definition_guid(str(props.get("roleDefinitionId", "")))
        shown = armid.role_definition_guid(str(after.get("role_definition_id", "")))
    except armid.ArmIdError:
        yield "its role definition id is not valid"
        return
    if sent != shown:
        yield f"it grants role {sent}, but the change shows {after.get('role')}"
    principal = str(props.get("principalId", "")).lower()
    if principal != str(after.get("principal_id", "")).lower():
        yield "it grants another principal than the change shows"
    if (props.get("condition") or None) != (after.get("condition") or None):
        yield "its condition is not the one the change shows"
    if (props.get("conditionVersion") or None) != (
        (after.get("condition_version") or None) if after.get("condition") else None
    ):
        yield "its condition version is not the one the change shows"
    if props.get("principalType") != PRINCIPAL_TYPE:
        yield f"it names principal type {props.get('principalType')!r}, not {PRINCIPAL_TYPE!r}"
    if (props.get("description") or None) != (after.get("description") or None):
        yield "its description is not the one the change shows"


def _block(change: Change, body: Mapping[str, Any]) -> Iterator[str]:
    # The body is sent as stored: anything beside the identity block (tags, properties, sku)
    # would change the resource beyond what an identity change shows.
    if set(body) - {"identity"}:
        yield f"its write sends {sorted(set(body) - {'identity'})}, not only an identity block"
    block = body.get("identity") or {}
    if not isinstance(block, Mapping) or set(block) - {"type", "userAssignedIdentities"}:
        yield "its identity block holds more than a type and user-assigned identities"
        return
    named = {armid.key(str(k)) for k in (block.get("userAssignedIdentities") or {})}
    if change.kind is ChangeKind.SYSTEM_ASSIGNED:
        # It names the user-assigned identities that stay (a type with UserAssigned needs at
        # least one); apply checks they are attached when it writes (azure/execute.py), so it
        # can neither attach nor detach one.
        if any(v is None for v in (block.get("userAssignedIdentities") or {}).values()):
            yield "a system-assigned switch may not detach user-assigned identities"
        return
    shown = {
        armid.key(str(v.get("identity_id", "")))
        for v in (change.before, change.after)
        if v is not None
    }
    if not named <= shown:
        yield "its write names identities the change does not show"
