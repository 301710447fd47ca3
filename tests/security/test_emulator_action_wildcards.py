"""The emulator matches role actions the way Azure does, so least-privilege claims hold there.

Managed Identity Operator is the built-in role for attaching a user-assigned identity; its
actions are `userAssignedIdentities/*/read` and `userAssignedIdentities/*/assign/action`, and
Azure lets them grant `userAssignedIdentities/read` and `userAssignedIdentities/assign/action`
(a `/*/` segment may be empty). Without that, the role would grant nothing it exists for.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest

from local_azure import rbac
from local_azure.rbac_conditions import action_matches

MI = "Microsoft.ManagedIdentity/userAssignedIdentities"


def _role(name: str) -> dict[str, Any]:
    text = resources.files("identity_reconciler.data").joinpath("builtin-roles.json").read_text()
    role = next(r for r in json.loads(text) if r["roleName"] == name)
    return {"properties": {"permissions": role["permissions"]}}


@pytest.mark.parametrize(
    ("pattern", "action", "expected"),
    [
        (f"{MI}/*/assign/action", f"{MI}/assign/action", True),
        (f"{MI}/*/assign/action", f"{MI}/federatedIdentityCredentials/assign/action", True),
        (f"{MI}/*/read", f"{MI}/read", True),
        (f"{MI}/*/read", f"{MI}/write", False),
        (f"{MI}/*/assign/action", f"{MI}/write", False),
        ("*/read", "Microsoft.Web/sites/read", True),
        ("*/read", "Microsoft.Web/sites/write", False),
        ("Microsoft.Authorization/*/Write", "microsoft.authorization/roleAssignments/write", True),
        ("Microsoft.Web/sites/*", "Microsoft.Web/sites/write", True),
        ("Microsoft.Web/sites/*", "Microsoft.Compute/virtualMachines/write", False),
    ],
)
def test_action_wildcards(pattern: str, action: str, expected: bool) -> None:
    assert action_matches(pattern, action) is expected


def test_managed_identity_operator_reads_and_assigns_but_does_not_write() -> None:
    operator = _role("Managed Identity Operator")
    assert rbac.allows(operator, f"{MI}/assign/action")
    assert rbac.allows(operator, f"{MI}/read")
    assert not rbac.allows(operator, f"{MI}/write")
    assert not rbac.allows(operator, f"{MI}/delete")
    contributor = _role("Managed Identity Contributor")
    assert rbac.allows(contributor, f"{MI}/write")
    assert not rbac.allows(contributor, f"{MI}/assign/action")
