"""Azure RBAC evaluation for the emulator's callers: which action a request is, and whether a
principal's role assignments allow it at a scope.

A request is allowed when an assignment of the principal at or above the scope (management
groups included) has a role definition whose `actions` match the action and whose `notActions`
do not (`*` wildcards, case-insensitive), and whose condition, if any, holds. Conditions get
the request body (`@Request[...]`) and, for the assignment a request acts on, its stored
document (`@Resource[...]`), which is what delegated role management needs. Deny assignments,
group membership and data actions are not modelled.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from local_azure import rbac_conditions
from local_azure.kernel import JSON, ArmError, Context
from local_azure.providers.authorization import rbac_scopes, role_assignment_lists, role_definitions

_RA = "microsoft.authorization/roleassignments"
_ATTRIBUTES = {"roledefinitionid": "roleDefinitionId", "principalid": "principalId",
               "principaltype": "principalType"}  # fmt: skip
_VERBS = {"GET": "read", "HEAD": "read", "PUT": "write", "PATCH": "write", "DELETE": "delete"}


def permitted(
    ctx: Context,
    principal_id: str,
    action: str,
    scope: str,
    request_body: Mapping[str, Any] | bytes | None = None,
) -> bool:
    """Whether `principal_id` may perform `action` at `scope` (an ARM id or scope path)."""
    try:
        target = rbac_scopes.parse(scope)
    except ArmError:
        return False
    assignments = role_assignment_lists.covering(ctx, target, principal_id.lower())
    if not assignments:
        return False
    attributes: dict[str, list[str]] | None = None
    for assignment in assignments:
        role = role_definitions.find(ctx, str(assignment.get("_roleDefinitionGuid", "")))
        if role is None or not allows(role, action):
            continue
        condition = assignment["properties"].get("condition")
        if not condition:
            return True
        if attributes is None:
            attributes = condition_attributes(ctx, scope, request_body)
        if rbac_conditions.evaluate(str(condition), action, attributes):
            return True
    return False


def allows(role: JSON, action: str) -> bool:
    """Whether a role definition's permission blocks grant a control-plane action."""
    for block in role["properties"].get("permissions") or []:
        granted = any(rbac_conditions.action_matches(a, action) for a in block.get("actions", []))
        if granted and not any(
            rbac_conditions.action_matches(n, action) for n in block.get("notActions", [])
        ):
            return True
    return False


def condition_attributes(
    ctx: Context, scope: str, request_body: Mapping[str, Any] | bytes | None
) -> dict[str, list[str]]:
    """`request:` attributes from the body, `resource:` ones from the assignment at `scope`."""
    out: dict[str, list[str]] = {}
    body = _as_json(request_body)
    _add_assignment_attributes(out, "request", body.get("properties"))
    existing = ctx.store.get(scope)
    if existing is not None and str(existing.get("type", "")).lower() == _RA:
        _add_assignment_attributes(out, "resource", existing.get("properties"))
    return out


def _add_assignment_attributes(out: dict[str, list[str]], source: str, props: Any) -> None:
    if not isinstance(props, dict):
        return
    for attribute, field in _ATTRIBUTES.items():
        value = props.get(field)
        if not value:
            continue
        text = str(value)
        if attribute == "roledefinitionid":
            text = role_definitions.guid_of(text) or text
        out[f"{source}:{_RA}:{attribute}"] = [text]


def _as_json(body: Mapping[str, Any] | bytes | None) -> Mapping[str, Any]:
    if body is None:
        return {}
    if isinstance(body, bytes | bytearray):
        try:
            value = json.loads(body or b"{}")
        except (ValueError, UnicodeDecodeError):
            return {}
        return value if isinstance(value, dict) else {}
    return body


def action_for(method: str, path: str) -> str:
    """The ARM action a request performs, e.g. `Microsoft.Web/sites/config/list/action`.

    After the last `/providers/{Namespace}` a path alternates type and name; GET, PUT, PATCH
    and DELETE act on the types (`read`, `write`, `delete`), and a POST's last segment is an
    action. Paths without a provider are Microsoft.Resources (subscriptions, resource groups).
    """
    segments = [s for s in path.split("?", maxsplit=1)[0].split("/") if s]
    verb = _VERBS.get(method.upper())
    last = max((i for i, s in enumerate(segments) if s.lower() == "providers"), default=-1)
    if last >= 0 and last + 1 < len(segments):
        namespace = segments[last + 1]
        rest = segments[last + 2 :]
    else:
        namespace = "Microsoft.Resources"
        rest = _resources_types(segments)
    if verb is None:  # POST and anything else: an action on the resource
        if len(rest) % 2 == 1:
            types = rest[:-1][0::2]
            return "/".join([namespace, *types, rest[-1], "action"])
        return "/".join([namespace, *rest[0::2], "action"])
    return "/".join([namespace, *rest[0::2], verb])


def _resources_types(segments: list[str]) -> list[str]:
    """Microsoft.Resources paths as type/name pairs: subscriptions/{s}/resourceGroups/{rg}..."""
    fixed = {"subscriptions": "subscriptions", "resourcegroups": "resourceGroups"}
    return [fixed.get(s.lower(), s) if i % 2 == 0 else s for i, s in enumerate(segments)]
