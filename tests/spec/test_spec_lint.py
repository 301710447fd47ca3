"""Policy lint rules IR101-IR107 and their configuration under policy.rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from spec_text import HEAD, RG, SUB, check, only, rules

from identity_reconciler.core.findings import Severity
from identity_reconciler.spec.naming import NamingPatternError, naming_regex

READER = f"{{role: Reader, scope: {{resource_group: {RG}}}}}"


def _identity(name: str = "id-myapp-prod-uks-01", roles: str = READER) -> str:
    return HEAD + f"identities:\n  - name: {name}\n    roles: [{roles}]\n"


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("id-myapp-prod-uks-01", True),
        ("id-my-app-dev-weu-002", True),
        ("myapp-prod-identity", False),
        ("id-MyApp-prod-uks-01", False),
        ("id-myapp-prod-uks-1", False),
    ],
)
def test_naming_default_pattern(tmp_path: Path, name: str, ok: bool) -> None:
    result = check(tmp_path, _identity(name))
    assert ("IR101" not in rules(result)) is ok
    if not ok:
        finding = only(result, "IR101")
        assert finding.severity is Severity.WARNING
        assert "id-myapp-prod-uks-01" in (finding.fix or "")
        assert (finding.line, finding.column) == (6, 11)


def test_naming_custom_pattern_and_severity(tmp_path: Path) -> None:
    text = _identity("mi-myapp-01") + (
        "policy:\n  naming: 'mi-{app}-{instance}'\n  rules: {IR101: error}\n"
    )
    assert rules(check(tmp_path, text)) == []
    result = check(tmp_path, _identity("id-myapp-prod-uks-01") + (
        "policy:\n  naming: 'mi-{app}-{instance}'\n  rules: {IR101: error}\n"
    ))
    assert only(result, "IR101").severity is Severity.ERROR
    assert not result.ok


def test_naming_regex() -> None:
    regex = naming_regex("id-{app}-{env}-{location}-{instance}")
    match = regex.match("id-my-app-prod-uks-01")
    assert match is not None
    assert match.group("app", "env", "location", "instance") == ("my-app", "prod", "uks", "01")
    with pytest.raises(NamingPatternError):
        naming_regex("id-{app")
    with pytest.raises(NamingPatternError):
        naming_regex("id-{app}-{app}")


@pytest.mark.parametrize(
    ("role", "scope", "expected"),
    [
        ("Owner", f"/subscriptions/{SUB}", ["IR102"]),
        ("Contributor", "{management_group: mg-1}", ["IR102"]),
        ("User Access Administrator", f"{{subscription: {SUB}}}", ["IR102"]),
        ("Role Based Access Control Administrator", f"/subscriptions/{SUB}", ["IR102"]),
        ("Owner", f"{{resource_group: {RG}}}", ["IR103", "IR108"]),
        ("Contributor", "{type: Microsoft.Web/sites, name: app-1}", ["IR103", "IR108"]),
        ("User Access Administrator", f"{{resource_group: {RG}}}", ["IR108"]),
        ("Reader", f"/subscriptions/{SUB}", []),
        ("Key Vault Secrets User", f"{{resource_group: {RG}}}", ["IR104"]),
        ("Storage Blob Data Reader", f"/subscriptions/{SUB}", ["IR104"]),
        ("Key Vault Administrator", "{management_group: mg-1}", ["IR104"]),
        ("Key Vault Secrets User", "{type: Microsoft.KeyVault/vaults, name: kv-1}", []),
        ("Storage Account Contributor", f"{{resource_group: {RG}}}", []),
    ],
)
def test_grant_rules(tmp_path: Path, role: str, scope: str, expected: list[str]) -> None:
    result = check(tmp_path, _identity(roles=f"{{role: {role}, scope: {scope}}}"))
    assert rules(result) == expected
    assert result.ok is ("IR102" not in expected)


def test_allow_privileged_needs_exact_role_and_scope(tmp_path: Path) -> None:
    grant = f"{{role: Owner, scope: /subscriptions/{SUB}}}"
    allowed = f"""\
policy:
  allow_privileged:
    - {{role: owner, scope: {{subscription: {SUB}}}, justification: break-glass for platform}}
"""
    assert rules(check(tmp_path, _identity(roles=grant) + allowed)) == ["IR103"]
    other = allowed.replace("owner", "User Access Administrator")
    result = check(tmp_path, _identity(roles=grant) + other)
    assert sorted(rules(result)) == ["IR102", "IR107"]


def test_unused_and_pointless_allowances(tmp_path: Path) -> None:
    text = _identity() + f"""\
policy:
  allow_privileged:
    - {{role: Reader, scope: /subscriptions/{SUB}, justification: harmless}}
    - {{role: Owner, scope: /subscriptions/{SUB}, justification: nobody needs this now}}
"""
    result = check(tmp_path, text)
    messages = [f.message for f in result.findings if f.rule_id == "IR107"]
    assert len(messages) == 2
    assert "not a privileged role" in messages[0]
    assert "matches no grant" in messages[1]


def test_system_assigned_in_prod(tmp_path: Path) -> None:
    def system(name: str, tags: str = "{}") -> str:
        return HEAD.replace("defaults:\n", f"defaults:\n  tags: {tags}\n") + (
            f"resources:\n  - {{type: Microsoft.Web/sites, name: {name}}}\n"
        )

    assert rules(check(tmp_path, system("func-myapp-prod-uks-01"))) == ["IR105"]
    assert rules(check(tmp_path, system("func-myapp-dev-uks-01"))) == []
    assert rules(check(tmp_path, system("func-myapp-dev-uks-01", "{Environment: Prod}"))) == [
        "IR105"
    ]
    assert rules(check(tmp_path, system("func-myapp-prod-uks-01", "{env: test}"))) == []


def test_identity_without_grants(tmp_path: Path) -> None:
    bare = HEAD + "identities:\n  - name: id-myapp-prod-uks-01\n"
    finding = only(check(tmp_path, bare), "IR106")
    assert (finding.line, finding.column) == (6, 11)
    with_sql = bare + (
        "sql: [{server: sql-1, database: appdb, users: [{identity: id-myapp-prod-uks-01}]}]\n"
    )
    assert rules(check(tmp_path, with_sql)) == []


def test_rules_can_be_switched_off_or_demoted(tmp_path: Path) -> None:
    text = _identity("bad_name", f"{{role: Owner, scope: /subscriptions/{SUB}}}")
    assert sorted(rules(check(tmp_path, text))) == ["IR101", "IR102"]
    quiet = text + "policy:\n  rules: {IR101: off, IR102: info}\n"
    result = check(tmp_path, quiet)
    assert [(f.rule_id, f.severity) for f in result.findings] == [("IR102", Severity.INFO)]
    assert result.ok


def test_conflicting_rule_settings_across_files(tmp_path: Path) -> None:
    from spec_text import write

    from identity_reconciler.spec import validate

    write(tmp_path, "a.yaml", "policy: {rules: {IR106: off}}\n")
    write(tmp_path, "b.yaml", "policy: {rules: {IR106: warning}}\n")
    write(tmp_path, "c.yaml", "policy: {naming: 'id-{app}'}\n")
    write(tmp_path, "d.yaml", "policy: {naming: 'mi-{app}'}\n")
    result = validate([tmp_path])
    conflicts = [f for f in result.findings if f.rule_id == "IR035"]
    assert [Path(f.file).name for f in conflicts] == ["b.yaml", "d.yaml"]
    assert "a.yaml:1:" in conflicts[0].message
