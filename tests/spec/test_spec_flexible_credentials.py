"""Flexible federated credentials in the specs: `claims_matching_expression` instead of
`subject`, checked against the expression language Microsoft Learn documents, located at the
line that is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
from spec_text import HEAD, check, only

from identity_reconciler.core.state import ClaimsExpression, FederatedCredential
from identity_reconciler.spec.values import SpecValueError, claims_clauses

GITHUB = "https://token.actions.githubusercontent.com"
BRANCHES = "claims['sub'] matches 'repo:contoso/myapp:ref:refs/heads/*'"
WITH_REPO = f"{BRANCHES} and claims['repository_id'] eq '123456'"


def _spec(credentials: str) -> str:
    return HEAD + f"""\
identities:
  - name: id-myapp-prod-uks-01
    roles: [{{role: Reader, scope: {{resource_group: rg-myapp-prod-uks-01}}}}]
    federated_credentials:
{credentials}"""


def _credentials(tmp_path: Path, credentials: str) -> tuple[FederatedCredential, ...]:
    result = check(tmp_path, _spec(credentials))
    assert result.desired is not None, result.findings
    assert not result.findings, result.findings
    (identity,) = result.desired.identities.values()
    assert identity.federated_credentials is not None
    return identity.federated_credentials


def test_a_string_and_a_mapping_give_the_same_expression(tmp_path: Path) -> None:
    creds = _credentials(tmp_path, f"""\
      - name: github-branches
        issuer: {GITHUB}
        claims_matching_expression: "{WITH_REPO}"
      - name: github-branches-mapped
        issuer: {GITHUB}
        claims_matching_expression:
          value: "{BRANCHES} and claims['repository_id'] eq '654321'"
          language_version: 1
      - name: github-main
        issuer: {GITHUB}
        subject: repo:contoso/myapp:ref:refs/heads/main
""")
    by_name = {c.name: c for c in creds}
    assert by_name["github-branches"].claims_matching_expression == ClaimsExpression(WITH_REPO, 1)
    assert by_name["github-branches"].subject is None
    mapped = by_name["github-branches-mapped"].claims_matching_expression
    assert mapped == ClaimsExpression(f"{BRANCHES} and claims['repository_id'] eq '654321'", 1)
    assert by_name["github-main"].claims_matching_expression is None
    assert by_name["github-main"].subject == "repo:contoso/myapp:ref:refs/heads/main"


def test_a_folded_expression_reads_as_one_line(tmp_path: Path) -> None:
    (cred,) = _credentials(tmp_path, f"""\
      - name: github-branches
        issuer: {GITHUB}
        claims_matching_expression: >-
          {BRANCHES}
          and claims['repository_id'] eq '123456'
""")
    assert cred.claims_matching_expression == ClaimsExpression(WITH_REPO)


@pytest.mark.parametrize(
    ("entry", "line", "message", "fix"),
    [
        (f"subject: repo:contoso/myapp:pull_request\n        claims_matching_expression: "
         f'"{BRANCHES}"', 12, "not both", "remove one of the two"),
        ("audiences: [api://AzureADTokenExchange]", 9, "needs a subject or a "
         "claims_matching_expression", "claims_matching_expression:"),
        ("claims_matching_expression: claims['sub'] matches repo:contoso/myapp:*", 11,
         "not valid at character 1", "put the comparand in single quotes: "
         "'repo:contoso/myapp:*'"),
        (f'claims_matching_expression: "{BRANCHES} or claims[\'x\'] eq \'y\'"', 11,
         "not valid at character 60", "join clauses with ' and '"),
        ("claims_matching_expression: \"claims['sub'] == 'x'\"", 11, "not valid at character 1",
         "claims['<claim>'] matches|eq '<value>'"),
        ("claims_matching_expression: {value: \"" + BRANCHES + "\", language_version: 2}", 11,
         "the number 2 is not allowed", "use 1"),
        ("claims_matching_expression: 42", 11, "a string, or a mapping", None),
        ('claims_matching_expression: "  "', 11, "must not be blank", None),
    ],
)  # fmt: skip
def test_bad_credentials_are_errors_at_their_line(
    tmp_path: Path, entry: str, line: int, message: str, fix: str | None
) -> None:
    result = check(tmp_path, _spec(f"""\
      - name: github-branches
        issuer: {GITHUB}
        {entry}
"""))
    finding = only(result, "IR012")
    assert (finding.line, finding.severity.value) == (line, "error"), finding
    assert message in finding.message
    if fix is not None:
        assert finding.fix is not None
        assert fix in finding.fix
    assert result.desired is None


def test_issuer_and_expression_are_unique_per_identity(tmp_path: Path) -> None:
    result = check(tmp_path, _spec(f"""\
      - name: github-branches
        issuer: {GITHUB}
        claims_matching_expression: "{BRANCHES}"
      - name: github-branches-2
        issuer: {GITHUB}/
        claims_matching_expression: "{BRANCHES}"
      - name: github-subject-like-the-expression
        issuer: {GITHUB}
        subject: "{BRANCHES.replace("*", "main")}"
"""))
    finding = only(result, "IR034")
    assert finding.line == 14
    assert "issuer and claims_matching_expression repeat" in finding.message


def test_a_wildcard_subject_points_at_the_expression(tmp_path: Path) -> None:
    result = check(tmp_path, _spec(f"""\
      - name: github-branches
        issuer: {GITHUB}
        subject: repo:contoso/myapp:ref:refs/heads/*
"""))
    finding = only(result, "IR012")
    assert finding.line == 11
    assert finding.fix is not None
    assert "claims_matching_expression" in finding.fix


@pytest.mark.parametrize(
    ("text", "clauses"),
    [
        (WITH_REPO, [("sub", "matches", "repo:contoso/myapp:ref:refs/heads/*"),
                     ("repository_id", "eq", "123456")]),
        ("claims['sub'] eq 'it''s and more'", [("sub", "eq", "it's and more")]),
        ("claims['job_workflow_ref'] matches 'contoso/prod/.github/workflows/*.yml@refs/heads/"
         "main'", [("job_workflow_ref", "matches",
                    "contoso/prod/.github/workflows/*.yml@refs/heads/main")]),
    ],
)  # fmt: skip
def test_clauses_follow_the_documented_language(
    text: str, clauses: list[tuple[str, str, str]]
) -> None:
    assert claims_clauses(text) == clauses


@pytest.mark.parametrize(
    "text",
    [
        "claims['sub']  matches 'x'",  # two spaces
        "claims[\"sub\"] matches 'x'",  # double quotes
        "claims['sub'] like 'x'",  # no such operator
        "claims['sub'] matches 'x' and",  # a dangling and
        "claims['sub'] matches 'x' ",  # trailing space
        "claims['sub'] matches 'it's'",  # a quote not written twice
    ],
)
def test_other_text_is_not_an_expression(text: str) -> None:
    with pytest.raises(SpecValueError):
        claims_clauses(text)


# --------------------------------------------------------------------------- IR109


@pytest.mark.parametrize(
    ("issuer", "expression", "message"),
    [
        (GITHUB, BRANCHES, "must also match repository_id or repository_owner_id"),
        (GITHUB, f"{WITH_REPO} and claims['actor'] eq 'octocat'", "not 'actor'"),
        (GITHUB, f"{BRANCHES} and claims['repository_id'] matches '12*'",
         "takes only eq, not 'matches'"),
        (GITHUB, "claims['repository_id'] eq '123456'", "must match the 'sub' claim"),
        ("https://gitlab.example.com", f"{BRANCHES} and claims['repository_id'] eq '1'",
         "GitLab expressions may match sub, project_id, not 'repository_id'"),
        ("https://app.terraform.io", "claims['sub'] matches 'organization:contoso:*' and "
         "claims['project_id'] eq '1'", "Terraform Cloud expressions may match sub"),
        ("https://oidc.prod-aks.azure.com/tenant/issuer",
         "claims['sub'] matches 'system:serviceaccount:ns:*'", "only for GitHub, GitLab"),
    ],
)  # fmt: skip
def test_expressions_outside_what_learn_documents_are_warnings(
    tmp_path: Path, issuer: str, expression: str, message: str
) -> None:
    result = check(tmp_path, _spec(f"""\
      - name: flexible
        issuer: {issuer}
        claims_matching_expression: "{expression}"
"""))
    finding = only(result, "IR109")
    assert (finding.line, finding.severity.value) == (9, "warning")
    assert message in finding.message, finding.message
    assert result.desired is not None


@pytest.mark.parametrize(
    ("issuer", "expression"),
    [
        (GITHUB, WITH_REPO),
        (GITHUB, f"{BRANCHES} and claims['repository_owner_id'] eq '1' and "
                 "claims['job_workflow_ref'] matches 'contoso/prod/.github/workflows/*'"),
        ("https://gitlab.com", "claims['sub'] matches 'project_path:contoso/app:*' and "
                               "claims['project_id'] eq '57382910'"),
        ("https://app.eu.terraform.io", "claims['sub'] matches 'organization:contoso:*'"),
    ],
)  # fmt: skip
def test_documented_expressions_pass_quietly(tmp_path: Path, issuer: str, expression: str) -> None:
    result = check(tmp_path, _spec(f"""\
      - name: flexible
        issuer: {issuer}
        claims_matching_expression: "{expression}"
"""))
    assert result.findings == [], result.findings


def test_the_rule_can_be_switched_off(tmp_path: Path) -> None:
    text = _spec("""\
      - name: flexible
        issuer: https://oidc.prod-aks.azure.com/tenant/issuer
        claims_matching_expression: "claims['sub'] matches 'system:serviceaccount:ns:*'"
""") + "policy: {rules: {IR109: off}}\n"
    assert check(tmp_path, text).findings == []
