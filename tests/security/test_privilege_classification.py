"""Privilege is what a role can do: judged from its permissions, with wildcards, never by name.

Reproduced before: Key Vault Data Access Administrator at subscription scope passed validate,
plan and apply with no warning (it can write role assignments, so it can grant Owner); Managed
Identity Contributor (federated credentials on every identity: a takeover) likewise; an unknown
role id at a management group was only a warning.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import pytest
from security_support import documented_condition

from identity_reconciler.cli import main
from identity_reconciler.core import armid, privilege, roles
from identity_reconciler.core.roles import Permission

ROLE_WRITE = "microsoft.authorization/roleassignments/write"
FIC_WRITE = "microsoft.managedidentity/userassignedidentities/federatedidentitycredentials/write"


def _can(perms: tuple[Permission, ...], operation: str) -> bool:
    """An independent reading of ARM's rule (fnmatch, lower case) to check the classifier by."""
    for p in perms:
        for allowed, denied in ((p.actions, p.not_actions), (p.data_actions, p.not_data_actions)):
            if any(fnmatch.fnmatchcase(operation, a.lower()) for a in allowed) and not any(
                fnmatch.fnmatchcase(operation, n.lower()) for n in denied
            ):
                return True
    return False


@pytest.mark.parametrize("operation", [ROLE_WRITE, FIC_WRITE])
def test_every_catalog_role_that_can_take_over_is_classified_privileged(operation: str) -> None:
    able = [r for r in roles.catalog().roles() if _can(r.permissions, operation)]
    missed = [r.name for r in able if not privilege.of_guid(r.guid).privileged]
    assert not missed
    assert len(able) >= (25 if operation == ROLE_WRITE else 5)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Key Vault Data Access Administrator", True),
        ("Managed Identity Contributor", True),
        ("Owner", True),
        ("Contributor", True),  # not through Authorization (notActions), through identities
        ("Resource Policy Contributor", True),
        ("Reader", False),
        ("Key Vault Secrets User", False),
        ("Managed Identity Operator", False),
        ("Website Contributor", False),
    ],
)
def test_builtin_verdicts(name: str, expected: bool) -> None:
    role = roles.catalog().by_name(name)
    assert role is not None
    assert privilege.of_guid(role.guid).privileged is expected


@pytest.mark.parametrize(
    ("actions", "not_actions", "expected"),
    [
        (("*",), (), True),
        (("*/read",), (), False),
        (("Microsoft.Authorization/*/write",), (), True),
        (("MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE",), (), True),
        (("Microsoft.Authorization/*",), ("Microsoft.Authorization/*",), False),
        (("Microsoft.Authorization/*",), ("Microsoft.Authorization/*/Write",), True),  # delete
        (("Microsoft.Authorization/newThing/*",), (), True),  # not listed, still a write
        (("Microsoft.ManagedIdentity/*",), (), True),
        (("Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action",), (), False),
        (("*",), ("Microsoft.Authorization/*", "Microsoft.ManagedIdentity/*"), False),
    ],
)
def test_custom_permissions(
    actions: tuple[str, ...], not_actions: tuple[str, ...], expected: bool
) -> None:
    verdict = privilege.classify([Permission(actions=actions, not_actions=not_actions)])
    assert verdict.privileged is expected


def test_unknown_role_is_privileged_only_at_broad_scope() -> None:
    unknown = "0badc0de-0000-4000-8000-000000000000"
    assert privilege.forced_at(unknown, armid.ScopeKind.MANAGEMENT_GROUP) is not None
    assert privilege.forced_at(unknown, armid.ScopeKind.SUBSCRIPTION) is not None
    assert privilege.forced_at(unknown, armid.ScopeKind.RESOURCE_GROUP) is None


def test_the_documented_condition_lists_no_privileged_role() -> None:
    text = documented_condition()
    guids = {g.lower() for g in _guids(text)}
    assert guids
    assert not [g for g in guids if privilege.of_guid(g).privileged]


def _guids(text: str) -> set[str]:
    return set(re.findall(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}", text))


SPEC = """subscription: 11111111-1111-1111-1111-111111111111
defaults: {location: uksouth, resource_group: rg-myapp-prod-uks-01}
identities:
  - name: id-deploy-prod-uks-01
    roles:
      - {role: "%s", scope: "%s"}
"""
SUB_ID = "/subscriptions/11111111-1111-1111-1111-111111111111"
MG_ID = "/providers/Microsoft.Management/managementGroups/mg-platform"


@pytest.mark.parametrize(
    ("role", "scope", "code", "exit_code"),
    [
        ("Key Vault Data Access Administrator", SUB_ID, "IR102", 1),
        ("Managed Identity Contributor", SUB_ID, "IR102", 1),
        ("0badc0de-0000-4000-8000-000000000000", MG_ID, "IR102", 1),
        ("Key Vault Data Access Administrator", f"{SUB_ID}/resourceGroups/rg-x", "IR108", 0),
        ("Managed Identity Contributor", f"{SUB_ID}/resourceGroups/rg-x", "IR108", 0),
    ],
)
def test_validate_judges_by_permissions(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    role: str,
    scope: str,
    code: str,
    exit_code: int,
) -> None:
    spec = tmp_path / "deploy.yaml"
    spec.write_text(SPEC % (role, scope), encoding="utf-8")
    assert main(["validate", str(spec)]) == exit_code
    out, err = capsys.readouterr()
    assert f"{code}" in out + err
    assert "deploy.yaml:6:" in out + err
    assert "privileged" in out + err
