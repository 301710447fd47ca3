"""IR109: a flexible credential's expression against what Microsoft Learn documents per issuer.

"Flexible federated identity credentials" (Learn) names the issuers whose tokens such a
credential matches (GitHub, GitLab, Terraform Cloud), the claims each may be matched on and
with which operators, and for GitHub that the expression must match `sub` and one or both of
the immutable `repository_id` / `repository_owner_id` (a repository re-created under the same
name would otherwise match). The setup page adds `project_id` for GitLab. Azure's REST example
uses another issuer and expects success, so none of this is a schema error; each departure is
a warning that says what Learn asks for.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from identity_reconciler.core.state import FederatedCredential, SourceRef
from identity_reconciler.spec.values import SpecValueError, claims_clauses

EQ, BOTH = frozenset({"eq"}), frozenset({"eq", "matches"})


@dataclass(frozen=True)
class Platform:
    name: str
    claims: dict[str, frozenset[str]]  # claim -> operators Learn lists for it
    immutable: tuple[str, ...] = ()  # one of these must be matched too (with eq)


GITHUB = Platform(
    "GitHub",
    {"sub": BOTH, "job_workflow_ref": BOTH, "repository_id": EQ, "repository_owner_id": EQ},
    immutable=("repository_id", "repository_owner_id"),
)
GITLAB = Platform("GitLab", {"sub": BOTH, "project_id": EQ})
TERRAFORM = Platform("Terraform Cloud", {"sub": BOTH})
_GITLAB_HOST = re.compile(r"^gitlab(\.[a-z0-9-]+)*\.[a-z]{2,}$")


def platform(issuer: str) -> Platform | None:
    """The platform Learn documents for an issuer URL, or None."""
    parts = urlsplit(issuer.strip())
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or parts.path.strip("/"):
        return None
    if host == "token.actions.githubusercontent.com":
        return GITHUB
    if host in ("app.terraform.io", "app.eu.terraform.io"):
        return TERRAFORM
    if _GITLAB_HOST.match(host):
        return GITLAB
    return None


def problems(fic: FederatedCredential) -> Iterator[tuple[str, str]]:
    """(message, fix) for each way a flexible credential departs from what Learn documents."""
    expression = fic.claims_matching_expression
    if expression is None:
        return
    where = f"federated credential {fic.name!r}"
    found = platform(fic.issuer)
    if found is None:
        yield (
            f"{where}: Microsoft Learn documents flexible credentials only for GitHub, GitLab "
            f"and Terraform Cloud tokens, not for issuer {fic.issuer!r}",
            "check that Entra matches this issuer's tokens by expression, or use a subject",
        )
        return
    try:
        clauses = claims_clauses(expression.value)
    except SpecValueError:
        return  # the schema check reports it
    for claim, operator, _ in clauses:
        allowed = found.claims.get(claim)
        if allowed is None:
            yield (
                f"{where}: {found.name} expressions may match {', '.join(found.claims)}, "
                f"not {claim!r}",
                f"remove the clause on {claim!r}",
            )
        elif operator not in allowed:
            yield (
                f"{where}: {found.name} claim {claim!r} takes only "
                f"{' or '.join(sorted(allowed))}, not {operator!r}",
                f"write claims['{claim}'] eq '...'",
            )
    matched: set[str] = set()
    for claim, operator, comparand in clauses:
        if operator == "matches" and not comparand.strip("*"):
            yield (
                f"{where}: claims['{claim}'] matches {comparand!r}, which every value matches, "
                f"so the clause does not limit {claim!r} at all",
                "match only the values you mean, e.g. claims['sub'] matches "
                "'repo:contoso/myapp:environment:*'",
            )
        else:
            matched.add(claim)
    if found is GITHUB:
        yield from _pull_requests(where, clauses)
    if "sub" not in matched:
        yield (f"{where}: a {found.name} expression must match the 'sub' claim",
               "add claims['sub'] matches '...'")  # fmt: skip
    if found.immutable and not matched.intersection(found.immutable):
        yield (
            f"{where}: a {found.name} expression must also match "
            f"{' or '.join(found.immutable)}, or a repository re-created under the same name "
            "would match it",
            f"add and claims['{found.immutable[0]}'] eq '<the number from the OIDC token>'",
        )


def _pull_requests(where: str, clauses: list[tuple[str, str, str]]) -> Iterator[tuple[str, str]]:
    """A wildcard `sub` that also matches the repository's pull-request subject."""
    for claim, operator, comparand in clauses:
        if claim != "sub" or operator != "matches" or not comparand.startswith("repo:"):
            continue
        repository = comparand.removeprefix("repo:").split(":", 1)[0]
        if not repository or "*" in repository or "?" in repository:
            continue  # a wildcard repository is another finding's business
        probe = f"repo:{repository}:pull_request"
        wild = "".join(
            ".*" if c == "*" else "." if c == "?" else re.escape(c) for c in comparand
        )
        if comparand != probe and re.fullmatch(wild, probe):
            yield (
                f"{where}: claims['sub'] matches {comparand!r} also matches {probe!r}, so a "
                "workflow run for any pull request gets this identity",
                f"match what you mean, e.g. 'repo:{repository}:environment:production' or "
                f"'repo:{repository}:ref:refs/heads/main'",
            )


def check(
    credentials: Iterator[FederatedCredential],
    emit: Callable[[str, SourceRef | None, str, str], None],
) -> None:
    for fic in credentials:
        for message, fix in problems(fic):
            emit("IR109", fic.source, message, fix)
