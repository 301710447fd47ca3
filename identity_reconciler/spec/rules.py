"""Every rule the spec layer can report, by id.

IR0xx rules are about whether a spec can be read and means something; they are always errors
(or fixed warnings). IR1xx rules are policy: each has a default severity and can be set to
`error`, `warning`, `info` or `off` under `policy.rules` in any spec file.
"""

from __future__ import annotations

from dataclasses import dataclass

from identity_reconciler.core.findings import Severity


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: Severity
    summary: str

    @property
    def configurable(self) -> bool:
        return self.id.startswith("IR1")


_E, _W = Severity.ERROR, Severity.WARNING

RULES: dict[str, Rule] = {
    r.id: r
    for r in (
        Rule("IR001", "yaml-syntax", _E, "the file is not valid YAML"),
        Rule("IR002", "duplicate-key", _E, "a mapping repeats a key"),
        Rule("IR003", "input-limit", _E, "file size, alias expansion, node count or depth limit"),
        Rule("IR004", "unreadable", _E, "missing, empty, binary or non-UTF-8 input"),
        Rule("IR005", "yaml-tag", _E, "an explicit YAML tag other than the plain data types"),
        Rule("IR010", "unknown-key", _E, "a key the spec format does not have"),
        Rule("IR011", "missing-key", _E, "a required key is absent"),
        Rule("IR012", "invalid-value", _E, "a value of the wrong type or format"),
        Rule("IR013", "missing-default", _E, "no subscription, location or resource group"),
        Rule("IR020", "bad-scope", _E, "a scope or resource id that is not a valid ARM id"),
        Rule("IR021", "unknown-role", _E, "a role name that is not a built-in role"),
        Rule("IR022", "custom-role", _W, "a role id that is not built in (assumed custom)"),
        Rule("IR023", "former-role-name", _W, "a built-in role by a name it no longer has"),
        Rule("IR030", "duplicate-identity", _E, "the same identity declared twice"),
        Rule("IR031", "duplicate-grant", _E, "the same role grant declared twice"),
        Rule("IR032", "unresolved-reference", _E, "a reference to an identity no spec declares"),
        Rule("IR033", "duplicate-declaration", _E, "a resource, attachment or SQL user twice"),
        Rule("IR034", "duplicate-credential", _E, "federated credentials that collide"),
        Rule("IR035", "conflicting-policy", _E, "two files set one policy value differently"),
        Rule("IR036", "identity-host-limit", _E, "more identities than the resource type takes"),
        Rule("IR037", "managed-scope", _E, "managed: twice, or an identity outside it"),
        Rule("IR101", "naming", _W, "identity name does not follow the naming pattern"),
        Rule("IR102", "privileged-broad-scope", _E, "privileged role (or unknown role) at sub/MG"),
        Rule("IR103", "owner-contributor", _W, "Owner or Contributor at any scope"),
        Rule("IR104", "broad-data-plane-scope", _W, "data-plane role above one resource"),
        Rule("IR105", "system-assigned-in-prod", _W, "system-assigned identity in production"),
        Rule("IR106", "identity-without-grants", _W, "an identity that is granted nothing"),
        Rule("IR107", "unused-allowance", _W, "an allow_privileged entry no grant needs"),
        Rule("IR108", "privileged-narrow-scope", _W, "privileged role below subscription scope"),
        Rule("IR109", "flexible-claims", _W,
             "claims expression outside what Learn documents for its issuer"),
    )
}

CONFIGURABLE_RULES = tuple(r for r in RULES if RULES[r].configurable)


def rule_table() -> str:
    """A plain-text table of the rules, for `validate --list-rules`."""
    return "\n".join(
        f"{r.id}  {r.severity.value:<7}  {r.name:<24} {r.summary}" for r in RULES.values()
    )
