"""Safety re-derived from hand-edited operations: ids a plan's own diff never writes.

An editor can change an operation's id and re-seal the file. Apply must then either refuse the
plan outright (the operation no longer names its change's object) or still find the forced
case in what it would run: a privileged grant moved to the root scope `/` or to another
subscription, an identity delete whose id gains a trailing `/`, or is re-cased as ARM may.
"""

from __future__ import annotations

import pytest
from plan_factories import (
    SUB,
    d_grant,
    d_identity,
    desired,
    identity_id,
    l_identity,
    live,
    plan,
    user,
)

from identity_reconciler.core import roles
from identity_reconciler.core.state import PrivilegeAllowance
from identity_reconciler.plan import safety
from identity_reconciler.plan.model import (
    KNOWN_AFTER_APPLY,
    Change,
    ChangeKind,
    Operation,
    Plan,
    PlanFileError,
    Safety,
)
from identity_reconciler.plan.safety import (
    ALLOW_DELETE_IDENTITY,
    ALLOW_PRIVILEGED,
    check_safety,
)

SUB_ID = f"/subscriptions/{SUB}"
ASSIGNMENTS = "/providers/Microsoft.Authorization/roleAssignments/"


def _edited(p: Plan, old_id: str, new_id: str) -> Plan:
    """`p` with every operation on `old_id` moved to `new_id`, and the verdict emptied."""
    changes = []
    for c in p.changes:
        ops = tuple(
            op.model_copy(update={"id": new_id}) if op.id == old_id else op for op in c.operations
        )
        changes.append(c.model_copy(update={"operations": ops}))
    return p.model_copy(
        update={
            "changes": tuple(changes),
            "safety": Safety(safe=True, existing=p.safety.existing),
        }
    )


def _owner_grant() -> tuple[Plan, Operation]:
    allowance = PrivilegeAllowance(roles.OWNER, SUB_ID, "landing zone bootstrap")
    d = desired(
        [d_identity("id-myapp")],
        [],
        [d_grant(user(identity_id("id-myapp")), SUB_ID, roles.OWNER)],
        allow_privileged=(allowance,),
    )
    p = plan(d, live([l_identity("id-myapp")]))
    (op,) = p.changes[0].operations
    return p, op


def _identity_delete() -> tuple[Plan, Operation]:
    p = plan(desired(), live([l_identity("id-old")]))
    (op,) = p.changes[0].operations
    assert op.method == "DELETE"
    return p, op


@pytest.mark.parametrize(
    "where",
    [
        "/",
        "/subscriptions/22222222-2222-2222-2222-222222222222/",
        "/providers/Microsoft.Management/managementGroups/mg-other/",
    ],
    ids=["root", "another-subscription", "a-management-group"],
)
def test_a_grant_moved_to_another_scope_is_refused(where: str) -> None:
    p, op = _owner_grant()
    name = op.id.rsplit("/", 1)[-1]
    with pytest.raises(PlanFileError):
        check_safety(
            _edited(p, op.id, f"{where.rstrip('/')}{ASSIGNMENTS}{name}"), [ALLOW_PRIVILEGED]
        )


def test_a_grant_re_cased_is_still_privileged() -> None:
    p, op = _owner_grant()
    edited = _edited(p, op.id, op.id.upper().replace("ROLEASSIGNMENTS/", "roleAssignments/"))
    assert [v.flag for v in check_safety(edited)] == [ALLOW_PRIVILEGED]


def test_an_identity_delete_with_a_trailing_slash_is_refused() -> None:
    p, op = _identity_delete()
    with pytest.raises(PlanFileError):
        check_safety(_edited(p, op.id, op.id + "/"), [ALLOW_DELETE_IDENTITY])


def test_an_identity_delete_re_cased_is_still_forced() -> None:
    p, op = _identity_delete()
    found = check_safety(_edited(p, op.id, op.id.upper()))
    assert [(v.reason, v.flag) for v in found] == [("identity_delete", ALLOW_DELETE_IDENTITY)]


# The operations are also judged on their own, whatever their change says: binding refuses an
# operation that does not match its change, and this second reading must not depend on it.

MI_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"
IDENTITY = f"{SUB_ID}/resourceGroups/rg-app/providers/{MI_TYPE}/id-a"
NAME = "0f1e2d3c-4b5a-4968-8776-655443322110"
OWNER_BODY = {
    "properties": {
        "roleDefinitionId": f"/providers/Microsoft.Authorization/roleDefinitions/{roles.OWNER}",
        "principalId": "p",
    }
}


def _ops_change(*ops: Operation, after: dict[str, str] | None = None) -> Change:
    return Change(
        address="c",
        kind=ChangeKind.GRANT,
        actions=("create",),
        reason="r",
        group="c",
        id=None,
        before=None,
        after=after,
        live_fingerprint=None,
        operations=ops,
    )


@pytest.mark.parametrize(
    ("op", "after", "expected"),
    [
        (Operation(method="DELETE", id=IDENTITY), None, ("identity_delete", IDENTITY)),
        (Operation(method="DELETE", id=IDENTITY + "/"), None, ("identity_delete", IDENTITY + "/")),
        (Operation(method="DELETE", id=f"{SUB_ID}{ASSIGNMENTS}{NAME}"), None, None),
        (
            Operation(method="DELETE", id=IDENTITY + "/federatedIdentityCredentials/github"),
            None,
            None,
        ),
        (Operation(method="PATCH", id=IDENTITY), None, None),
        (
            Operation(method="PUT", id=f"{SUB_ID.upper()}{ASSIGNMENTS}{NAME}", body=OWNER_BODY),
            None,
            ("privileged_grant", f"grants role {roles.OWNER} on the whole of {SUB_ID}"),
        ),
        (
            Operation(method="PUT", id=f"{ASSIGNMENTS}{NAME}", body=OWNER_BODY),
            None,
            ("privileged_grant", f"on the whole of {ASSIGNMENTS}{NAME}"),
        ),
        (
            Operation(
                method="PUT",
                id=f"{SUB_ID}/resourceGroups/rg-app{ASSIGNMENTS}{NAME}",
                body=OWNER_BODY,
            ),
            None,
            None,
        ),
        (Operation(method="PUT", id=IDENTITY, body=OWNER_BODY), None, None),
        (
            Operation(method="PUT", id=f"{SUB_ID}{ASSIGNMENTS}{NAME}"),
            None,
            ("privileged_grant", ""),
        ),
        (
            Operation(method="PUT", id=KNOWN_AFTER_APPLY, body=OWNER_BODY),
            {"scope": f"{SUB_ID}/resourceGroups/rg-app"},
            None,
        ),
        (
            Operation(method="PUT", id=KNOWN_AFTER_APPLY, body=OWNER_BODY),
            {"scope": SUB_ID},
            ("privileged_grant", f"on the whole of {KNOWN_AFTER_APPLY}"),
        ),
        (
            Operation(method="PUT", id=KNOWN_AFTER_APPLY, body=OWNER_BODY),
            None,
            ("privileged_grant", ""),
        ),
    ],
    ids=[
        "identity-delete",
        "identity-delete-unparseable",
        "grant-delete",
        "credential-delete",
        "identity-patch",
        "owner-at-subscription",
        "owner-at-root",
        "owner-at-group",
        "put-of-an-identity",
        "no-role-at-subscription",
        "waiting-grant-at-group",
        "waiting-grant-at-subscription",
        "waiting-grant-without-scope",
    ],
)
def test_forced_cases_read_from_the_operations_alone(
    op: Operation, after: dict[str, str] | None, expected: tuple[str, str] | None
) -> None:
    found = safety._forced_operations(_ops_change(op, after=after))
    if expected is None:
        assert found == []
        return
    (violation,) = found
    reason, words = expected
    assert violation.reason == reason
    assert violation.flag == (
        ALLOW_DELETE_IDENTITY if reason == "identity_delete" else ALLOW_PRIVILEGED
    )
    assert violation.address == "c"
    assert words in violation.message
    if reason == "identity_delete":
        assert violation.message == f"c deletes the identity {op.id}"


@pytest.mark.parametrize(
    ("op_id", "scope"),
    [
        (f"{SUB_ID.upper()}{ASSIGNMENTS}{NAME}", SUB_ID),
        (f"{ASSIGNMENTS}{NAME}", None),
        (IDENTITY, None),
        (KNOWN_AFTER_APPLY, None),
    ],
    ids=["assignment", "root", "not-an-assignment", "known-after-apply"],
)
def test_the_scope_an_assignment_write_acts_on(op_id: str, scope: str | None) -> None:
    found = safety.operation_scope(Operation(method="PUT", id=op_id))
    assert (found.id if found is not None else None) == scope
