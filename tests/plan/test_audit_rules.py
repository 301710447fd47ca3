"""Audit rules on a LiveState: privileged, orphaned, unknown, not in specs, no grants, naming."""

from __future__ import annotations

import json
import re

import pytest
from plan_factories import (
    RG,
    SUB,
    d_grant,
    d_identity,
    d_resource,
    desired,
    l_grant,
    l_identity,
    l_resource,
    live,
    resource_id,
    rg_scope,
    system,
    user,
    vault,
)

from identity_reconciler.core.findings import Severity
from identity_reconciler.core.live import LiveState
from identity_reconciler.core.state import PrivilegeAllowance
from identity_reconciler.plan.audit import AuditReport, Naming, audit
from identity_reconciler.plan.audit_render import (
    render_audit_json,
    render_audit_markdown,
    render_audit_text,
)

OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
SUB_SCOPE = f"/subscriptions/{SUB}"
MG_SCOPE = "/providers/Microsoft.Management/managementGroups/mg-platform"
FUNC = resource_id("func-myapp-prod-uks-01")
GOOD = "id-myapp-prod-uks-01"


def naming() -> Naming:
    regex = re.compile(r"^id-[a-z0-9]+(?:-[a-z0-9]+)*-[a-z0-9]+-[a-z0-9]+-[0-9]{2,3}$")
    return Naming("id-{app}-{env}-{location}-{instance}", lambda name: bool(regex.match(name)))


def run(state: LiveState, **kwargs: object) -> AuditReport:
    return audit(state, subscriptions=[SUB], naming=naming(), **kwargs)  # type: ignore[arg-type]


def ids(report: AuditReport) -> list[tuple[str, Severity]]:
    return [(f.id, f.severity) for f in report.findings]


def test_a_clean_estate_has_no_findings_and_lists_every_identity() -> None:
    ident = l_identity(GOOD)
    func = l_resource(FUNC, type_="SystemAssigned")
    state = live(
        [ident], [func],
        [l_grant(ident.principal_id, vault()),
         l_grant(func.system_principal_id or "", rg_scope(), READER)],
    )
    report = run(state)
    assert report.findings == []
    assert [(i.kind, i.address, len(i.grants)) for i in report.identities] == [
        ("user_assigned", f"identity.{RG}/{GOOD}", 1),
        ("system_assigned", f"system_assigned.{RG}/sites/func-myapp-prod-uks-01", 1),
    ]
    assert report.identities[0].owned
    assert report.identities[0].grants[0].role == "Key Vault Secrets User"


@pytest.mark.parametrize(
    ("role", "scope", "expected"),
    [
        (OWNER, SUB_SCOPE, [("AUD001", Severity.ERROR)]),
        (CONTRIBUTOR, MG_SCOPE, [("AUD001", Severity.ERROR)]),
        # not a broad scope, but Contributor is more than any workload needs (validate's IR103)
        (CONTRIBUTOR, rg_scope(), [("AUD008", Severity.WARNING)]),
        (READER, SUB_SCOPE, []),  # not a privileged role
    ],
)
def test_privileged_grants_at_broad_scopes(
    role: str, scope: str, expected: list[tuple[str, Severity]]
) -> None:
    ident = l_identity(GOOD)
    report = run(live([ident], [], [l_grant(ident.principal_id, scope, role)]))
    assert ids(report) == expected


def test_an_allowance_in_the_specs_downgrades_a_privileged_grant_to_a_warning() -> None:
    ident = l_identity(GOOD)
    state = live([ident], [], [l_grant(ident.principal_id, SUB_SCOPE, OWNER)])
    d = desired(
        [d_identity(GOOD)], [], [d_grant(user(d_identity(GOOD)), SUB_SCOPE, OWNER)],
        allow_privileged=(PrivilegeAllowance(OWNER, SUB_SCOPE, "break-glass automation"),),
    )
    report = run(state, desired=d)
    assert ids(report) == [("AUD001", Severity.WARNING)]
    assert "break-glass automation" in report.findings[0].message


def test_the_operators_privileged_grant_is_not_a_managed_identity_finding() -> None:
    ident = l_identity(GOOD)
    operator = l_grant("5c0b2f9e-7d4a-4c61-9a8e-3f1d6b2e9a70", SUB_SCOPE, OWNER, owned=False,
                       description=None)
    report = run(live([ident], [], [l_grant(ident.principal_id, vault()), operator]))
    assert ids(report) == [("AUD003", Severity.INFO)]  # only "who is this?", never AUD001


def test_an_owned_grant_whose_identity_is_gone_is_orphaned() -> None:
    gone = l_grant("0d7e3c2a-0000-4000-8000-000000000001", vault())
    report = run(live([], [], [gone]))
    assert ids(report) == [("AUD002", Severity.WARNING)]
    assert report.findings[0].object == gone.id
    assert "or it lives in a subscription not audited" in report.findings[0].message
    whole = audit(live([], [], [gone]), subscriptions=[SUB], naming=naming(), whole_tenant=True)
    assert "not audited" not in whole.findings[0].message


def test_a_principal_azure_reports_unknown_is_orphaned() -> None:
    grant = l_grant("0d7e3c2a-0000-4000-8000-000000000002", vault(), owned=False,
                    principal_type="Unknown")
    assert ids(run(live([], [], [grant]))) == [("AUD002", Severity.WARNING)]


def test_other_principals_are_information_or_nothing() -> None:
    sp = l_grant("0d7e3c2a-0000-4000-8000-000000000003", vault(), owned=False, description=None)
    person = l_grant("a1f4c2d8-3e5b-4a79-8c61-0d2e9f7b4c13", rg_scope(), READER, owned=False,
                     principal_type="User", description=None)
    report = run(live([], [], [sp, person]))
    assert ids(report) == [("AUD003", Severity.INFO)]
    assert "Microsoft Graph" in report.findings[0].message


def test_identities_without_grants_and_bad_names() -> None:
    state = live([l_identity(GOOD), l_identity("MyIdentity")], [l_resource(FUNC,
                 type_="SystemAssigned")], [])
    report = run(state)
    assert sorted((f.id, f.object) for f in report.findings) == [
        ("AUD006", f"identity.{RG}/MyIdentity"),
        ("AUD006", f"identity.{RG}/{GOOD}"),
        ("AUD006", f"system_assigned.{RG}/sites/func-myapp-prod-uks-01"),
        ("AUD007", f"identity.{RG}/MyIdentity"),
    ]


def test_against_specs_what_is_live_but_undeclared() -> None:
    declared, stray = l_identity(GOOD), l_identity("id-stray-prod-uks-01")
    func = l_resource(FUNC, type_="SystemAssigned")
    state = live(
        [declared, stray], [func],
        [
            l_grant(declared.principal_id, vault()),
            l_grant(declared.principal_id, rg_scope(), READER, owned=False),
            l_grant(stray.principal_id, vault()),
            l_grant(func.system_principal_id or "", vault()),
        ],
    )
    d = desired(
        [d_identity(GOOD)], [d_resource(FUNC, system=True)],
        [d_grant(user(d_identity(GOOD)), vault()), d_grant(system(FUNC), vault())],
    )
    report = run(state, desired=d)
    assert sorted((f.id, f.object.rsplit("/", 1)[-1]) for f in report.findings) == sorted([
        ("AUD005", "id-stray-prod-uks-01"),
        ("AUD004", state.grants[next(k for k, g in state.grants.items()
                                     if g.role_definition_guid == READER)].name),
    ])
    assert report.with_specs


def test_fail_on_levels() -> None:
    report = run(live([l_identity(GOOD)], [], []))  # one warning (no grants)
    assert report.reaches(Severity.WARNING)
    assert not report.reaches(Severity.ERROR)


def test_views() -> None:
    ident = l_identity(GOOD)
    state = live([ident], [], [l_grant(ident.principal_id, SUB_SCOPE, OWNER)])
    report = run(state)
    data = json.loads(render_audit_json(report))
    assert data["counts"] == {"error": 1, "warning": 0, "info": 0}
    assert data["findings"][0]["rule"] == "privileged-broad-scope"
    assert data["identities"][0]["grants"][0]["role"] == "Owner"
    text = render_audit_text(report)
    assert "error   AUD001 privileged-broad-scope:" in text
    assert "Owner on subscription/" in text
    md = render_audit_markdown(report)
    assert "| error | AUD001 privileged-broad-scope |" in md


def test_markdown_is_bounded() -> None:
    ident = l_identity(GOOD)
    grants = [
        l_grant(f"0d7e3c2a-0000-4000-8000-{i:012d}", vault(), owned=False) for i in range(800)
    ]
    md = render_audit_markdown(run(live([ident], [], grants)), max_bytes=30_000)
    assert len(md.encode()) <= 30_000
    assert "entries are not shown" in md
