"""`fmt`'s text engine: canonical key order from the models, comments kept on their keys,
flow collections reordered, layout tidied, idempotent, and refusal instead of damage."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from identity_reconciler.spec.fmt import FormatError, comments, format_text
from identity_reconciler.spec.validation import validate

REPO = Path(__file__).resolve().parents[2]

MESSY = """\
# yaml-language-server: $schema=../schemas/spec.schema.json
# header
identities:  # eol ids
  # before first id
  - roles:   # the grants
      - scope: {name: kv-1, type: Microsoft.KeyVault/vaults}  # eol scope
        role: Key Vault Secrets User
    # about the name
    name: id-a  # eol name
    location: uksouth
  # before second

  - {tags: {z: "1", a: b}, name: id-b}
defaults:   \n  tags: {owner: platform, app: myapp}
  # loc
  location: uksouth


subscription: 11111111-1111-1111-1111-111111111111
# end
"""

CANONICAL = """\
# yaml-language-server: $schema=../schemas/spec.schema.json
# header
subscription: 11111111-1111-1111-1111-111111111111

defaults:
  # loc
  location: uksouth
  tags: {app: myapp, owner: platform}

identities:  # eol ids
  # before first id
    # about the name
  - name: id-a  # eol name
    location: uksouth
    roles:   # the grants
      - role: Key Vault Secrets User
        scope: {type: Microsoft.KeyVault/vaults, name: kv-1}  # eol scope
  # before second

  - {name: id-b, tags: {a: b, z: "1"}}
# end
"""


def test_golden_canonical_form() -> None:
    assert format_text(MESSY) == CANONICAL


def test_idempotent_and_meaning_kept() -> None:
    once = format_text(MESSY)
    assert format_text(once) == once
    assert yaml.safe_load(once) == yaml.safe_load(MESSY)
    assert comments(once) == comments(MESSY)
    assert sum(comments(once).values()) == 11


def test_a_comment_stays_on_the_key_it_sits_above() -> None:
    out = format_text("defaults:\n  tags: {}\n  # where it runs\n  location: uksouth\n")
    assert out == "defaults:\n  # where it runs\n  location: uksouth\n  tags: {}\n"


def test_unknown_keys_keep_their_order_after_known_ones() -> None:
    out = format_text("zeta: 1\nidentities: []\nalpha: 2\nsubscription: s\n")
    assert out == "subscription: s\n\nidentities: []\n\nzeta: 1\n\nalpha: 2\n"


def test_the_schema_line_stays_first() -> None:
    text = "# yaml-language-server: $schema=x.json\nidentities: []\nsubscription: s\n"
    assert format_text(text).splitlines()[0] == "# yaml-language-server: $schema=x.json"


def test_repository_specs_are_already_canonical() -> None:
    for path in sorted((REPO / "specs").glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        assert format_text(text) == text, path


def test_long_flow_mappings_wrap_at_commas_and_stay_wrapped() -> None:
    text = (
        "identities:\n"
        "  - name: id-a\n"
        "    federated_credentials:\n"
        "      - {subject: 'repo:contoso/myapp:environment:production', name: github-production,"
        " issuer: https://token.actions.githubusercontent.com}\n"
    )
    out = format_text(text)
    lines = out.splitlines()
    assert all(len(line) <= 100 for line in lines)
    assert lines[3].startswith("      - {name: github-production, issuer: https://")
    assert lines[4].startswith("         subject: 'repo:")
    assert format_text(out) == out


def test_block_scalars_and_quotes_are_untouched() -> None:
    text = (
        "identities:\n  - roles:\n      - condition: |\n          (a)  \n\n\n          (b)\n"
        "        role: Reader\n        scope: '/subscriptions/x'\n    name: \"id-a\"\n"
    )
    out = format_text(text)
    assert yaml.safe_load(out) == yaml.safe_load(text)  # trailing spaces in the literal kept
    assert "scope: '/subscriptions/x'" in out
    assert '  - name: "id-a"' in out


def test_multiple_documents_each_ordered() -> None:
    text = "identities: []\nsubscription: a\n---\nsql: []\nsubscription: b\n"
    expected = "subscription: a\n\nidentities: []\n---\nsubscription: b\n\nsql: []\n"
    assert format_text(text) == expected


def test_anchor_used_before_definition_is_refused_not_damaged() -> None:
    text = "identities:\n  - assigned_to: &r [a]\n    location: *r\n"
    with pytest.raises(FormatError, match=r"^x\.yaml:1:1: cannot reorder"):
        format_text(text, "x.yaml")


def test_syntax_error_is_located() -> None:
    with pytest.raises(FormatError, match=r"^f\.yaml:2:1: not valid YAML"):
        format_text("a: [\n", "f.yaml")


def test_formatted_specs_still_validate(tmp_path: Path) -> None:
    for path in sorted((REPO / "specs").glob("*.yaml")):
        target = tmp_path / path.name
        target.write_text(format_text(path.read_text()), encoding="utf-8")
    assert validate([tmp_path]).ok


KEYS = ["name", "resource_group", "location", "tags", "assigned_to", "roles", "zz_unknown"]


@settings(max_examples=60, deadline=None)
@given(
    order=st.permutations(KEYS),
    commented=st.sets(st.sampled_from(KEYS)),
    blank=st.sets(st.sampled_from(KEYS)),
)
def test_any_key_order_any_comments(
    order: list[str], commented: set[str], blank: set[str]
) -> None:
    values = {
        "name": "id-a", "location": "uksouth", "tags": "{b: '1', a: '2'}", "roles": "[]",
        "resource_group": "rg-a", "assigned_to": "\n      - {name: app, type: T}",
        "zz_unknown": "1",
    }
    lines: list[str] = []
    for position, key in enumerate(order):
        if key in blank and position:
            lines.append("")
        if key in commented:
            lines.append(f"    # about {key}")
        lines.append(f"{'  - ' if position == 0 else '    '}{key}: {values[key]}")
    text = "identities:\n" + "\n".join(lines) + "\n"
    out = format_text(text)
    assert format_text(out) == out
    assert yaml.safe_load(out) == yaml.safe_load(text)
    assert comments(out) == comments(text)
    for key in commented:  # each comment still directly above its key
        lines = out.splitlines()
        index = next(i for i, line in enumerate(lines) if line.strip().startswith(f"{key}:")
                     or line.strip().startswith(f"- {key}:"))
        assert lines[index - 1].strip() == f"# about {key}"
    listed = [k for k in (line.strip().lstrip("- ").split(":")[0] for line in out.splitlines())
              if k in KEYS]
    assert listed == KEYS
