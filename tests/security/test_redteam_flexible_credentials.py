"""Attacks on flexible federated credentials: an expression that trusts more than it reads,
an issuer spelt to dodge IR109, and a saved plan whose credential write is edited after review.

A flexible credential is production access: whoever can present a token its expression matches
signs in as the identity. So the reviewer must see exactly what ARM receives, IR109 must not be
dodged by a spelling, and apply must refuse a write the plan's change does not show.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from security_support import refused_without_writes, reseal

from identity_reconciler.cli import main
from identity_reconciler.core.state import ClaimsExpression, FederatedCredential
from identity_reconciler.plan.binding import unbound
from identity_reconciler.plan.model import Plan, checksum_of
from identity_reconciler.plan.render_markdown import render_markdown
from identity_reconciler.plan.render_text import render_text
from identity_reconciler.spec import flexible_lint
from identity_reconciler.spec.values import SpecValueError, claims_clauses

REPO = Path(__file__).resolve().parents[2]
GITHUB = "https://token.actions.githubusercontent.com"
WITH_REPO = (
    "claims['sub'] matches 'repo:contoso/myapp:ref:refs/heads/*' and "
    "claims['repository_id'] eq '123456'"
)
EVIL_ISSUER = "https://attacker.example"


# ------------------------------------------------------------------ what the expression says


def _warnings(expression: str, issuer: str = GITHUB) -> list[str]:
    credential = FederatedCredential(
        "any", issuer, None, ("api://AzureADTokenExchange",),
        claims_matching_expression=ClaimsExpression(expression),
    )  # fmt: skip
    return [message for message, _ in flexible_lint.problems(credential)]


@pytest.mark.parametrize(
    "expression",
    [
        "claims['sub'] matches '*' and claims['repository_id'] eq '123456'",
        "claims['sub'] matches '**' and claims['repository_owner_id'] eq '42'",
    ],
)
def test_a_sub_that_matches_everything_is_warned(expression: str) -> None:
    """`matches '*'` names the claim without limiting it: every branch, pull request and
    environment of the repository (or, with the owner id, of every repository) would sign in.
    This went through IR109 silently before."""
    warnings = _warnings(expression)
    assert any("which every value matches" in w for w in warnings), warnings
    assert any("must match the 'sub' claim" in w for w in warnings), warnings


def test_a_narrow_wildcard_is_not_called_everything() -> None:
    assert _warnings(WITH_REPO) == []
    assert _warnings("claims['sub'] matches 'repo:contoso/*:environment:production' and "
                     "claims['repository_owner_id'] eq '42'") == []  # fmt: skip


@pytest.mark.parametrize(
    ("sub", "warned"),
    [
        ("repo:contoso/myapp:*", True),
        ("repo:contoso/myapp:?ull_request", True),
        ("repo:contoso/myapp:pull_*", True),
        ("repo:contoso/myapp:pull_request", False),  # said outright: the reviewer sees it
        ("repo:contoso/myapp:ref:refs/heads/*", False),
        ("repo:contoso/myapp:environment:*", False),
    ],
)
def test_a_wildcard_that_lets_pull_requests_in_is_warned(sub: str, warned: bool) -> None:
    """`repo:contoso/myapp:*` reads like "this repository" but also matches GitHub's subject
    for pull-request runs, `repo:contoso/myapp:pull_request`."""
    warnings = _warnings(f"claims['sub'] matches '{sub}' and claims['repository_id'] eq '1'")
    assert any("any pull request" in w for w in warnings) is warned, warnings


def test_a_doubled_quote_cannot_hide_a_second_clause() -> None:
    """`''` is a quote inside the comparand: the text that reads like a repository_id clause is
    part of the subject, and IR109 says the expression does not pin the repository."""
    hidden = "claims['sub'] eq 'x'' and claims[''repository_id''] eq ''123456'"
    assert claims_clauses(hidden) == [("sub", "eq", "x' and claims['repository_id'] eq '123456")]
    assert any("repository_id or repository_owner_id" in w for w in _warnings(hidden))


@pytest.mark.parametrize(
    "text",
    [
        f" {WITH_REPO}",
        f"{WITH_REPO} ",
        WITH_REPO.replace(" and ", "\nand "),
        WITH_REPO.replace(" and ", " and\u200b "),
        WITH_REPO.replace(" and ", " AND "),
        WITH_REPO.replace(" and ", " or "),
        WITH_REPO.replace("matches", "m\u0430tches"),  # Cyrillic a
        WITH_REPO.replace("claims['sub']", "claims[\u2018sub\u2019]"),
        WITH_REPO.replace("claims['sub']", "claims\uff3b'sub'\uff3d"),
        WITH_REPO.replace("'123456'", "'123456"),
        "claims['sub'] matches 'repo:contoso/myapp:*' and",
    ],
)
def test_lookalike_and_invisible_spellings_are_not_expressions(text: str) -> None:
    with pytest.raises(SpecValueError):
        claims_clauses(text)


@pytest.mark.parametrize(
    "issuer",
    [
        GITHUB,
        GITHUB + "/",
        "https://TOKEN.actions.githubusercontent.com",
        "https://user@token.actions.githubusercontent.com",
        "https://token.actions.githubusercontent.com:443",
        "https://token.actions.githubusercontent.com.",
        "https://token.actions.githubusercontent.com/contoso",
        "https://token.actions.githubusercontent.com.attacker.example",
        "https://token.actions.githubusercontent.com@attacker.example",
        EVIL_ISSUER,
    ],
)
def test_no_issuer_spelling_silences_the_repository_warning(issuer: str) -> None:
    """Whatever GitHub's issuer is spelt like, an expression that pins no repository is a
    warning: either the GitHub one, or that Learn does not document the issuer at all. (A host
    named gitlab.* is taken for a self-managed GitLab, whose rule asks only for `sub`; such an
    issuer is its own trust root, shown in the plan, and GitHub's tokens never match it.)"""
    assert _warnings("claims['sub'] matches 'repo:contoso/myapp:*'", issuer) != []


RAW = ("\n+ claims[''repository_id''] eq ''1''", "\u202e", "\u200b")
HIDING = (
    f"claims['sub'] eq 'repo:contoso/myapp:ref:refs/heads/main{''.join(RAW)}' and "
    "claims['repository_id'] eq '9'"
)


def test_the_reviewer_sees_the_characters_arm_receives(
    seed: tuple[str, Path, dict[str, Any]],
) -> None:
    """An accepted comparand may hold a line break or an invisible character: the plan shows it
    escaped (no fake line, no reordering) and ARM is sent the exact text the spec gave."""
    claims_clauses(HIDING)
    _, _, data = seed
    change = _credential(data, "/github-hiding")
    assert change["operations"][0]["body"]["properties"]["claimsMatchingExpression"] == {
        "value": HIDING, "languageVersion": 1,
    }  # fmt: skip
    for shown in (render_text(data), render_markdown(data)):
        assert "github-hiding" in shown
        for raw in RAW:
            assert raw not in shown
        for escaped in ("\\n+ claims", "\\u202e", "\\u200b"):
            assert escaped in shown


# ------------------------------------------------------------------ a saved plan, edited


def _edit(data: dict[str, Any], where: str, edit: Any) -> Plan:
    data = json.loads(json.dumps(data))
    change = next(c for c in data["changes"] if where in c["address"])
    edit(change["operations"][0]["body"])
    data["checksum"] = checksum_of(data)
    return Plan.from_json(json.dumps(data))


def _props(**extra: Any) -> Any:
    return lambda body: body["properties"].update(extra)


def _expr(**extra: Any) -> Any:
    return lambda body: body["properties"]["claimsMatchingExpression"].update(extra)


FORGERIES: dict[str, tuple[str, Any]] = {
    # ARM reads property names without regard to case: a second spelling reaches it unchecked.
    "Issuer beside issuer": ("/github-branches", _props(Issuer=EVIL_ISSUER)),
    "Subject beside the expression": (
        "/github-branches",
        _props(Subject="repo:attacker/x:pull_request"),
    ),
    "ClaimsMatchingExpression beside it": (
        "/github-branches",
        _props(
            ClaimsMatchingExpression={"value": "claims['sub'] matches '*'", "languageVersion": 1}
        ),
    ),
    "an expression's Value beside value": (
        "/github-branches",
        _expr(Value="claims['sub'] matches '*'"),
    ),
    "an expression on a subject credential": (
        "/github-production",
        _props(
            claimsMatchingExpression={"value": "claims['sub'] matches '*'", "languageVersion": 1}
        ),
    ),
    "subject on a flexible credential": (
        "/github-branches",
        _props(subject="repo:attacker/x:ref:main"),
    ),
    "languageVersion true": ("/github-branches", _expr(languageVersion=True)),
    "languageVersion '1'": ("/github-branches", _expr(languageVersion="1")),
    "languageVersion 2": ("/github-branches", _expr(languageVersion=2)),
    "Properties beside properties": (
        "/github-branches",
        lambda body: body.update(Properties={"issuer": EVIL_ISSUER}),
    ),
    "a grant's RoleDefinitionID beside roleDefinitionId": (
        "kv-myapp-prod-uks-01",
        _props(
            RoleDefinitionID="/providers/Microsoft.Authorization/"
            "roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
        ),
    ),
    "a grant's principalType changed": ("kv-myapp-prod-uks-01", _props(principalType="Group")),
    "a grant's principalType dropped": (
        "kv-myapp-prod-uks-01",
        lambda body: body["properties"].pop("principalType"),
    ),
    "a conditionVersion on a grant with no condition": (
        "kv-myapp-prod-uks-01",
        _props(conditionVersion="1.0"),
    ),
    "an identity's Tags beside tags": (
        "identity.rg-myapp-prod-uks-01/id-myapp",
        lambda body: body.update(Tags={"x": "y"}),
    ),
}


@pytest.mark.parametrize("name", list(FORGERIES))
def test_a_write_that_sends_more_than_its_change_shows_is_unbound(
    seed: tuple[str, Path, dict[str, Any]], name: str
) -> None:
    """The second spellings got through before: binding compared only the keys it knew."""
    _, plan_file, data = seed
    assert unbound(Plan.from_json(plan_file.read_text())) == []
    where, edit = FORGERIES[name]
    assert unbound(_edit(data, where, edit)) != []


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, dict[str, Any]]:
    return _seed_plan(tmp_path_factory.mktemp("seed"))


def _seed_plan(tmp_path: Path) -> tuple[str, Path, dict[str, Any]]:
    specs = tmp_path / "specs"
    specs.mkdir()
    for source in (REPO / "specs").glob("*.yaml"):
        text = source.read_text()
        if "github-production" in text:
            text = text.replace(
                "        subject: repo:contoso/myapp:environment:production\n",
                "        subject: repo:contoso/myapp:environment:production\n"
                "      - name: github-branches\n"
                f"        issuer: {GITHUB}\n"
                f'        claims_matching_expression: "{WITH_REPO}"\n'
                "      - name: github-hiding\n"
                f"        issuer: {GITHUB}\n"
                f"        claims_matching_expression: {json.dumps(HIDING)}\n",
            )
        (specs / source.name).write_text(text)
    state = str(tmp_path / "state")
    plan_file = tmp_path / "plan.json"
    assert main(["plan", str(specs), "--cloud", "local", "--state-dir", state,
                 "--out", str(plan_file)]) == 0  # fmt: skip
    return state, plan_file, json.loads(plan_file.read_text())


def _credential(data: dict[str, Any], name: str = "/github-branches") -> dict[str, Any]:
    return next(c for c in data["changes"] if c["address"].endswith(name))


def test_a_resealed_second_issuer_is_refused_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    state, plan_file, data = _seed_plan(tmp_path)
    _credential(data)["operations"][0]["body"]["properties"]["Issuer"] = EVIL_ISSUER
    reseal(plan_file, data)
    err = refused_without_writes(
        monkeypatch, capsys, ["apply", str(plan_file), "--state-dir", state]
    )
    assert "['Issuer'], which the change does not show" in err


@pytest.mark.parametrize(
    "forged",
    [
        {"value": "claims['sub'] matches '*' and claims['repository_id'] eq '123456'",
         "languageVersion": 1},
        None,  # back to a subject: the change and the write both say so
    ],
)  # fmt: skip
def test_a_consistent_forgery_is_refused_with_specs(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    forged: dict[str, Any] | None,
) -> None:
    """The change and its write edited alike (the checksum is no signature): with `--specs`,
    as the GitHub action applies, a fresh plan of the reviewed specs differs, and nothing is
    written."""
    state, plan_file, data = _seed_plan(tmp_path)
    change = _credential(data)
    props = change["operations"][0]["body"]["properties"]
    if forged is None:
        del props["claimsMatchingExpression"]
        del change["after"]["claims_matching_expression"]
        del change["after"]["language_version"]
        props["subject"] = change["after"]["subject"] = "repo:attacker/x:pull_request"
    else:
        props["claimsMatchingExpression"] = forged
        change["after"]["claims_matching_expression"] = forged["value"]
    reseal(plan_file, data)
    assert unbound(Plan.from_json(plan_file.read_text())) == []
    specs = str(tmp_path / "specs")
    refused_without_writes(
        monkeypatch, capsys, ["apply", str(plan_file), "--specs", specs, "--state-dir", state]
    )
