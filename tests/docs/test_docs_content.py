"""What the hand-written docs claim, checked: spec examples validate, the RBAC condition in
permissions.md does what it says in Azure's condition language, every ARM error the tool maps
has a troubleshooting entry, and links between pages resolve."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from identity_reconciler.apply import retry
from identity_reconciler.azure import errors
from identity_reconciler.core.findings import Severity
from identity_reconciler.spec import validate
from local_azure import rbac_conditions

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
PAGES = sorted(DOCS.glob("*.md"))
RA = "microsoft.authorization/roleassignments"
KV_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
BLOB_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
RBAC_ADMIN = "f58310d9-a9f6-439a-9e8d-f62e7b41a168"
WRITE = "Microsoft.Authorization/roleAssignments/write"
DELETE = "Microsoft.Authorization/roleAssignments/delete"


def blocks(page: Path, lang: str) -> list[str]:
    pattern = re.compile(rf"^```{lang}\n(.*?)^```", re.MULTILINE | re.DOTALL)
    return pattern.findall(page.read_text(encoding="utf-8"))


SPEC_BLOCKS = [
    (page.name, index, block)
    for page in PAGES
    for index, block in enumerate(blocks(page, "yaml"))
    if re.search(r"^subscription:", block, re.MULTILINE)
]


def test_docs_hold_spec_examples() -> None:
    assert {name for name, _, _ in SPEC_BLOCKS} >= {"github-actions.md"}


@pytest.mark.parametrize(("page", "index", "block"), SPEC_BLOCKS, ids=lambda v: str(v)[:20])
def test_spec_examples_validate(page: str, index: int, block: str, tmp_path: Path) -> None:
    spec = tmp_path / f"{Path(page).stem}-{index}.yaml"
    spec.write_text(block)
    result = validate([spec])
    errors_found = [f for f in result.findings if f.severity is Severity.ERROR]
    assert result.ok, errors_found


def permission_condition() -> str:
    (condition,) = blocks(DOCS / "permissions.md", "text")
    return condition


def spec_condition() -> str:
    block = next(b for name, _, b in SPEC_BLOCKS if name == "github-actions.md")
    text = block.split("condition: >-\n", 1)[1]
    return " ".join(line.strip() for line in text.splitlines())


def attributes(source: str, role: str, principal_type: str) -> dict[str, list[str]]:
    return {
        f"{source}:{RA}:roledefinitionid": [role],
        f"{source}:{RA}:principaltype": [principal_type],
    }


@pytest.mark.parametrize("condition", [permission_condition(), spec_condition()],
                         ids=["permissions.md", "github-actions.md"])
def test_the_documented_condition_allows_only_the_specs_roles(condition: str) -> None:
    rbac_conditions.parse(condition)  # well-formed in Azure's condition language
    for role in (KV_SECRETS_USER, BLOB_READER):
        assert rbac_conditions.evaluate(condition, WRITE, attributes("request", role,
                                                                     "ServicePrincipal"))
        assert rbac_conditions.evaluate(condition, DELETE, attributes("resource", role,
                                                                      "ServicePrincipal"))
    for role in (OWNER, RBAC_ADMIN):  # nothing else, and not its own role
        assert not rbac_conditions.evaluate(condition, WRITE, attributes("request", role,
                                                                         "ServicePrincipal"))
        assert not rbac_conditions.evaluate(condition, DELETE, attributes("resource", role,
                                                                          "ServicePrincipal"))
    assert not rbac_conditions.evaluate(condition, WRITE, attributes("request", KV_SECRETS_USER,
                                                                     "User"))
    assert rbac_conditions.evaluate(condition, "Microsoft.Authorization/roleAssignments/read", {})


def troubleshooting_headings() -> set[str]:
    text = (DOCS / "troubleshooting.md").read_text(encoding="utf-8")
    words: set[str] = set()
    for heading in re.findall(r"^### (.+)$", text, re.MULTILINE):
        words |= {w.lower() for w in re.findall(r"[A-Za-z]+", heading)}
    return words


def mapped_codes() -> set[str]:
    """Every ARM error code or class the tool maps, raises or retries on."""
    codes: set[str] = set()
    for _, cls in inspect.getmembers(errors, inspect.isclass):
        if issubclass(cls, errors.ArmRequestError) and cls is not errors.ArmRequestError:
            doc = cls.__doc__ or ""
            named = re.match(r"\d{3} ([A-Z][A-Za-z]+)", doc)
            codes.add(named.group(1) if named else cls.__name__)
    for path in (REPO / "identity_reconciler" / "azure").glob("*.py"):
        codes |= set(re.findall(r'ArmRequestError\(\s*0,\s*"([A-Za-z]+)"', path.read_text()))
    codes |= set(retry.RETRYABLE_CONFLICTS)
    return codes


def test_every_mapped_arm_error_has_a_troubleshooting_entry() -> None:
    headings = troubleshooting_headings()
    missing = sorted(code for code in mapped_codes() if code.lower() not in headings)
    assert not missing, f"add an entry to docs/troubleshooting.md for: {missing}"
    assert {"authorizationfailed", "throttled", "principalnotfound"} <= headings


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_relative_links_resolve(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if "://" in target:
            continue
        assert (page.parent / target).exists(), f"{page.name}: broken link {target}"
