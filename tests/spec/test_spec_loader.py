"""The located YAML loader: positions, YAML 1.2 scalars, duplicates, tags and limits."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest

from identity_reconciler.spec import Limits, SpecLoadError, load_documents, parse_yaml

SOURCE = """\
base: &base
  location: uksouth
  tags: {team: web}
first:
  <<: *base
  name: one
list:
  - *base
  - "two"
"""


def test_positions_of_values_and_keys() -> None:
    (doc,) = parse_yaml(SOURCE, "f.yaml")
    assert doc.position(("first", "name")) == (6, 9)
    assert doc.position(("first", "name"), key=True) == (6, 3)
    assert doc.position(("list", 1)) == (9, 5)
    assert doc.position(("nowhere", 3)) == (1, 1)
    assert doc.position(("first", "missing")) == (5, 3)  # nearest known: the mapping


def test_aliases_and_merges_point_at_the_anchored_text() -> None:
    (doc,) = parse_yaml(SOURCE, "f.yaml")
    assert doc.data["first"] == {"name": "one", "location": "uksouth", "tags": {"team": "web"}}
    assert doc.position(("first", "location")) == (2, 13)
    assert doc.position(("first", "location"), key=True) == (2, 3)
    assert doc.position(("list", 0, "tags", "team")) == (3, 16)
    assert doc.data["list"][0] is doc.data["base"]  # shared, never copied


def test_explicit_keys_win_over_merged_ones() -> None:
    (doc,) = parse_yaml("a: &a {x: 1, y: 2}\nb: {x: 3, <<: [*a, {y: 4, z: 5}]}\n", "f")
    assert doc.data["b"] == {"x": 3, "y": 2, "z": 5}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("yes", "yes"), ("no", "no"), ("on", "on"), ("true", True), ("False", False),
        ("~", None), ("null", None), ("", None), ("42", 42), ("-0x1F", "-0x1F"), ("0x1F", 31),
        ("0o17", 15), ("1.5", 1.5), ("1e3", 1000.0), (".inf", math.inf), ("'42'", "42"),
        ("!!str 42", "42"), ("!!float 1", 1.0), ("12:30", "12:30"), ("2024-01-01", "2024-01-01"),
        ("0042", 42), ("1" * 200, "1" * 200), ("|\n  text", "text\n"),
    ],
)
def test_scalars_follow_yaml_1_2_core(text: str, value: object) -> None:
    (doc,) = parse_yaml(f"v: {text}\n", "f")
    assert doc.data["v"] == value
    assert type(doc.data["v"]) is type(value)


def test_keys_are_text() -> None:
    (doc,) = parse_yaml("1: a\ntrue: b\nnull: c\n", "f")
    assert doc.data == {"1": "a", "true": "b", "null": "c"}


@pytest.mark.parametrize(
    ("text", "rule", "line"),
    [
        ("a: 1\nb: 2\na: 3\n", "IR002", 3),
        ("a:\n  x: 1\n  x: 1\n", "IR002", 3),
        ("a: !!python/name:os.system x\n", "IR005", 1),
        ("a: !custom x\n", "IR005", 1),
        ("a: !!set {x}\n", "IR005", 1),
        ("!!binary x: 1\n", "IR005", 1),
        ("a: !!int abc\n", "IR012", 1),
        ("? [a, b]\n: c\n", "IR012", 1),
        ("a: *missing\n", "IR001", 1),
        ("a: &x [*x]\n", "IR001", 1),
        ("a: [1, 2\nb: 3\n", "IR001", 2),
        ("a: 'unterminated\n", "IR001", 2),
        ("a:\n\tb: 1\n", "IR001", 2),
    ],
)
def test_load_errors_are_located(text: str, rule: str, line: int) -> None:
    with pytest.raises(SpecLoadError) as info:
        parse_yaml(text, "f.yaml")
    finding = info.value.finding
    assert (finding.rule_id, finding.line, finding.file) == (rule, line, "f.yaml")
    assert finding.fix


def test_billion_laughs_fails_fast() -> None:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 12):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]")
    start = time.process_time()
    with pytest.raises(SpecLoadError) as info:
        parse_yaml("\n".join(lines), "bomb.yaml")
    assert time.process_time() - start < 1.0  # generous: it stops at the crossing alias
    assert info.value.finding.rule_id == "IR003"
    assert "alias" in info.value.finding.message


def test_parser_depth_refusal_is_the_depth_finding_at_its_line() -> None:
    # libyaml refuses deep flow nesting while scanning ahead, before the builder counts depth:
    # the user must still read "too deeply nested", located, not a syntax error.
    text = "subscription: x\nidentities:\n  - roles: " + "[" * 5000 + "\n"
    with pytest.raises(SpecLoadError) as info:
        parse_yaml(text, "deep.yaml")
    finding = info.value.finding
    assert (finding.rule_id, finding.line, finding.file) == ("IR003", 3, "deep.yaml")
    assert "nesting deeper than 64 levels" in finding.message


def test_limits_are_configurable() -> None:
    with pytest.raises(SpecLoadError, match="more than 3 aliases"):
        parse_yaml("a: &a 1\nb: [*a, *a, *a, *a]\n", "f", Limits(max_aliases=3))
    with pytest.raises(SpecLoadError, match="deeper than 3"):
        parse_yaml("a: {b: {c: {d: 1}}}\n", "f", Limits(max_depth=3))
    with pytest.raises(SpecLoadError, match="deeper than 3"):
        parse_yaml("x: &x {b: {c: 1}}\ny: {z: *x}\n", "f", Limits(max_depth=3))
    with pytest.raises(SpecLoadError, match="more than 5 nodes"):
        parse_yaml("[1, 2, 3, 4, 5, 6]", "f", Limits(max_nodes=5))


def test_file_size_cap(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"# padding\n" * (600 * 1024))  # about 6 MiB
    result = load_documents([big])
    (finding,) = result.findings
    assert finding.rule_id == "IR003"
    assert "larger than 5,242,880 bytes" in finding.message
    small = load_documents([big], Limits(max_file_bytes=10 * 1024 * 1024))
    assert [f.rule_id for f in small.findings] == ["IR004"]  # only comments: no spec


def test_bom_and_crlf_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "win.yaml"
    path.write_bytes(b"\xef\xbb\xbfa: 1\r\nb: [x,\r\n  y]\r\n")
    result = load_documents([path])
    assert result.findings == []
    (doc,) = result.documents
    assert doc.data == {"a": 1, "b": ["x", "y"]}
    assert doc.position(("b", 1)) == (3, 3)


def test_null_documents_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "multi.yaml"
    path.write_text("---\n---\na: 1\n---\n# trailing\n")
    result = load_documents([path])
    assert [d.data for d in result.documents] == [{"a": 1}]
    assert [d.index for d in result.documents] == [1]
