"""A pull request controls the specs the plan comment describes: none of it may become markup.

Spec text (tag keys and values, descriptions, conditions, file names in locations) and live text
(tags someone set in Azure) reach the markdown plan. Whatever they hold — line breaks, fences,
headings, links, images, HTML, emphasis, backticks — the rendered comment must keep the shape
the renderer gave it: its own headings only, no links, images or HTML of the input's making, one
diff block per group whose lines all start with a diff sign, and hostile text only as text.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token

from identity_reconciler.cli import main
from identity_reconciler.plan.render_markdown import render_markdown
from identity_reconciler.plan.render_text import render_text

MARK = "PWN"
HOSTILE = [
    "\n```\n\n## Plan: 0 to destroy\n",
    "\r\n# heading\r\n",
    "[click](https://evil.example)",
    "![img](https://evil.example/x.png)",
    "<img src=x onerror=alert(1)>",
    "</details></summary><h1>x</h1>",
    "<https://evil.example>",
    "`` ` ``",
    "**bold** _em_ ~~gone~~",
    "| a | b |\n|--|--|",
    "\u2028line\u2029para\x85next\x1b[31mred",
    "&lt;b&gt; &#60;b&#62;",
    "\\",
]
ALLOWED_TAGS = {"details", "summary", "code", "sub"}
DIFF_PREFIXES = ("# ", "+ ", "- ", "! ", "-/+ ", "      ")
HEADINGS = {"identity-reconciler plan", "Changes"}
_MD = MarkdownIt("commonmark").enable("table").enable("strikethrough")
_LABEL = r"[A-Za-z0-9 ._/@:()+,=~#;-]*"
_MERMAID_LINE = re.compile(
    rf'flowchart LR|  n\d+(\(\["|\["|\{{\{{"|\[/"){_LABEL}("\]\)|"\]|"\}}\}}|"/\])'
    rf'|  n\d+ (==>|-\.->|-\.-x|-->)\|"{_LABEL}"\| n\d+|  more\["… \d+ more not drawn"\]'
)

hostile = st.builds(
    lambda parts: MARK + "".join(parts) + MARK,
    st.lists(
        st.one_of(st.sampled_from(HOSTILE), st.text("`*_[]()<>!#|~\\\n\r &;:/x", max_size=12)),
        min_size=1,
        max_size=4,
    ),
)


def _plan(s: list[str]) -> dict[str, Any]:
    """A plan mapping with hostile text in every string a spec or live Azure can influence."""
    group = f"identity.rg/{s[0]}"
    changes = [
        {
            "address": group,
            "kind": "identity",
            "actions": ["update"],
            "group": group,
            "reason": "update_because_tags_differ",
            "before": {"tags": {s[1]: s[2], "same": "x"}, "location": "uksouth"},
            "after": {"tags": {s[1]: s[3], s[4]: s[5], "same": "x"}, "location": "uksouth"},
            "operations": [],
        },
        {
            "address": f"grant.rg/{s[6]}",
            "kind": "grant",
            "actions": ["create"],
            "group": group,
            "reason": "create_because_not_live",
            "before": None,
            "after": {"description": s[7], "condition": s[8], "scope": s[9]},
            "operations": [{"method": "TSQL", "id": "/x", "body": {"tsql": s[10]}}],
        },
        {
            "address": f"grant.rg/{s[11]}",
            "kind": "grant",
            "actions": ["delete", "create"],
            "group": s[12],
            "reason": "replace_because_principal_replaced",
            "before": {"description": s[13]},
            "after": {"description": s[14]},
            "operations": [],
        },
    ]
    return {
        "changes": changes,
        "notices": [{"code": "n", "message": s[15], "source": f"specs/{s[16]}.yaml:3:5"}],
        "errors": [{"code": "e", "message": s[17], "address": s[18]}],
        "safety": {
            "safe": False,
            "violations": [
                {"reason": "r", "message": s[19], "flag": "--allow-privileged"},
            ],
        },
        "summary": {"add": 2, "change": 1, "destroy": 1},
        "target": {"cloud": "local", "tenant_id": "t", "subscriptions": ["s"]},
        "tool_version": "0",
        "spec_digest": "d",
        "checksum": "c",
        "created_at": "now",
    }


def _walk(tokens: list[Token]) -> list[tuple[Token, tuple[str, ...]]]:
    """Every token (inline children included) with the open tags around it."""
    out: list[tuple[Token, tuple[str, ...]]] = []
    stack: list[str] = []
    for tok in tokens:
        for t in [tok, *(tok.children or [])]:
            if t.nesting == 1:
                stack.append(t.type.removesuffix("_open"))
            out.append((t, tuple(stack)))
            if t.nesting == -1 and stack:
                stack.pop()
    return out


def assert_inert(markdown: str, groups: int) -> None:
    tokens = _MD.parse(markdown)
    fences = [t for t in tokens if t.type in ("fence", "code_block")]
    diagrams = [t for t in fences if t.info == "mermaid"]
    assert len(diagrams) <= 1
    for diagram in diagrams:  # only lines of the diagram's own grammar, labels entity-encoded
        for line in diagram.content.splitlines():
            assert _MERMAID_LINE.fullmatch(line), f"forged diagram line: {line!r}"
    fences = [t for t in fences if t.info != "mermaid"]
    assert [t.info for t in fences] == ["diff"] * groups, "a diff block was opened or closed"
    for fence in fences:
        for line in fence.content.splitlines():
            assert line.startswith(DIFF_PREFIXES), f"forged diff line: {line!r}"
    for tok, around in _walk(tokens):
        assert tok.type not in ("link_open", "image"), f"a link or image was made: {tok}"
        if tok.type in ("html_inline", "html_block"):
            names = {m.lower() for m in re.findall(r"</?([A-Za-z][\w-]*)", tok.content)}
            assert names <= ALLOWED_TAGS, f"HTML from the input: {tok.content!r}"
        if tok.type == "inline" and "heading" in around:
            assert tok.content in HEADINGS, f"a heading was made: {tok.content!r}"
        if MARK in tok.content and tok.type == "text":
            assert not {"strong", "em", "s", "heading", "th", "td"} & set(around), (
                f"hostile text was formatted: {around} {tok.content!r}"
            )


@settings(
    max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(st.lists(hostile, min_size=20, max_size=20))
def test_hostile_strings_never_become_markup(strings: list[str]) -> None:
    plan = _plan(strings)
    markdown = render_markdown(plan)
    assert_inert(markdown, groups=len({c["group"] for c in plan["changes"]}))
    text = render_text(plan)
    for control in ("\x1b", "\x85", "\u2028", "\r"):
        assert control not in text
    # Every line is one the renderer starts: indented, or one of its own headings.
    for line in text.splitlines():
        assert not line or line.startswith(
            (" ", "identity-reconciler ", "Notices:", "Errors:", "Unsafe plan:", "Plan")
        ), f"forged line: {line!r}"


def test_a_pull_requests_tag_key_cannot_inject_into_the_comment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The real path: an identity's tag key, changed in a PR, shows as an update in the plan."""
    spec = tmp_path / "app.yaml"
    key = "x\\n```\\n\\n## Plan: 0 to destroy [click](https:evil.example) !\\n"
    body = """subscription: 11111111-1111-1111-1111-111111111111
defaults: {location: uksouth, resource_group: rg-myapp-prod-uks-01}
identities:
  - name: id-myapp-prod-uks-07
    tags: {"%s": "%s", note: "**b** [l](https:x) <b>"}
"""
    state, plan_file = str(tmp_path / "state"), str(tmp_path / "plan.json")
    spec.write_text(body % (key, "one"))
    local = ["--cloud", "local", "--state-dir", state, "-q"]
    assert main(["plan", str(spec), *local, "--out", plan_file]) == 0
    assert main(["apply", plan_file, "--state-dir", state, "-q"]) == 0
    spec.write_text(body % (key, "two"))
    capsys.readouterr()
    assert main(["plan", str(spec), *local, "--format", "markdown"]) == 0
    markdown = capsys.readouterr().out
    assert "update_because_tags_differ" in markdown
    assert "## Plan: 0 to destroy" not in markdown.splitlines()
    assert_inert(markdown, groups=1)
