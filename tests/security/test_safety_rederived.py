"""Apply's safety check reads the forced cases from the operations, not only the stored verdict.

A plan file's checksum detects an edit, but it is a plain sha256 that anyone can recompute; a
verdict emptied by an editor must not let a privileged grant or an identity deletion through.
"""

from __future__ import annotations

from typing import Any

from security_support import MI_TYPE, OWNER, RG_ID, SUB, SUB_ID

from identity_reconciler.plan.model import KNOWN_AFTER_APPLY, Plan
from identity_reconciler.plan.safety import (
    ALLOW_DELETE_IDENTITY,
    ALLOW_PRIVILEGED,
    check_safety,
)

IDENTITY = f"{RG_ID}/providers/{MI_TYPE}/id-old"
A, B = "aaaaaaaa-0000-4000-8000-000000000001", "bbbbbbbb-0000-4000-8000-000000000002"
ASSIGNMENTS = "/providers/Microsoft.Authorization/roleAssignments"
OWNER_ID = f"/providers/Microsoft.Authorization/roleDefinitions/{OWNER}"
READER_ID = (
    "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"
)


def _change(address: str, kind: str, method: str, op_id: str, **extra: Any) -> dict[str, Any]:
    """A change whose operation is bound to it (plan/binding.py), as the diff would write it."""
    body = extra.pop("body", None)
    return {
        "address": address,
        "kind": kind,
        "actions": ["delete" if method == "DELETE" else "create"],
        "reason": "r",
        "group": address,
        "id": None if op_id == KNOWN_AFTER_APPLY else op_id,
        "before": None,
        "after": extra.pop("after", None),
        "live_fingerprint": None,
        "operations": [{"method": method, "id": op_id, "body": body}],
        **extra,
    }


def _plan(*changes: dict[str, Any]) -> Plan:
    """A plan whose stored verdict says everything is safe (as an editor would leave it)."""
    return Plan.model_validate(
        {
            "format_version": "1.0",
            "tool_version": "0",
            "created_at": "now",
            "target": {"cloud": "local", "tenant_id": "t", "subscriptions": [SUB]},
            "spec_digest": "sha256:x",
            "options": {},
            "changes": changes,
            "summary": {},
            "safety": {"safe": True, "existing": 0},
            "checksum": "sha256:x",
        }
    )


def _grant(op_id: str, role_id: str, scope: str | None = None) -> dict[str, Any]:
    waits = op_id == KNOWN_AFTER_APPLY
    principal = KNOWN_AFTER_APPLY if waits else "p"
    extra: dict[str, Any] = {}
    if waits:
        extra["principal"] = {"kind": "user_assigned", "id": IDENTITY, "principal_id": principal}
    return _change(
        "grant.x",
        "grant",
        "PUT",
        op_id,
        after={
            "scope": scope or op_id.split(ASSIGNMENTS, maxsplit=1)[0],
            "role_definition_id": role_id,
            "principal_id": principal,
        },
        body={
            "properties": {
                "roleDefinitionId": role_id,
                "principalId": principal,
                "principalType": "ServicePrincipal",  # as every grant the planner writes
            }
        },
        **extra,
    )


def test_privileged_grant_in_the_operations_needs_the_flag() -> None:
    plan = _plan(_grant(f"{SUB_ID}{ASSIGNMENTS}/{A}", OWNER_ID))
    assert [v.flag for v in check_safety(plan)] == [ALLOW_PRIVILEGED]
    assert check_safety(plan, [ALLOW_PRIVILEGED]) == []


def test_a_grant_known_after_apply_is_judged_by_the_scope_it_will_get() -> None:
    plan = _plan(_grant(KNOWN_AFTER_APPLY, OWNER_ID, scope=SUB_ID))
    assert [v.flag for v in check_safety(plan)] == [ALLOW_PRIVILEGED]


def test_narrow_or_unprivileged_grants_and_credential_deletes_are_not_forced() -> None:
    plan = _plan(
        _grant(f"{RG_ID}{ASSIGNMENTS}/{A}", OWNER_ID),
        _grant(f"{SUB_ID}{ASSIGNMENTS}/{B}", READER_ID),
        _change(
            "fic.x",
            "federated_credential",
            "DELETE",
            f"{IDENTITY}/federatedIdentityCredentials/github",
        ),
    )
    assert check_safety(plan) == []


def test_identity_delete_in_the_operations_needs_the_flag() -> None:
    plan = _plan(_change("identity.x", "identity", "DELETE", IDENTITY))
    assert [v.flag for v in check_safety(plan)] == [ALLOW_DELETE_IDENTITY]
    assert check_safety(plan, [ALLOW_DELETE_IDENTITY]) == []
