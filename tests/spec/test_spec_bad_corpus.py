"""Every file or folder under tests/spec/bad/ is a broken spec that must fail cleanly.

Each case names its expected finding in a comment, `# expect: line N IRxxx`, in the file where
the finding belongs (for a folder: in the one file that gets it). Files that cannot carry a
comment (empty, binary) are listed in SIDECAR. Every case must exit 1 through the real CLI,
print `file:line:` with the right rule, and never show a traceback.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from identity_reconciler import cli
from identity_reconciler.spec.files import display_path

BAD = Path(__file__).parent / "bad"
EXPECT_RE = re.compile(r"# expect: line (\d+) (IR\d{3})")
SIDECAR = {"empty.yaml": (1, "IR004"), "binary.yaml": (1, "IR004")}


def _expectation(case: Path) -> tuple[Path, int, str]:
    files = [case] if case.is_file() else sorted(p for p in case.rglob("*") if p.is_file())
    found = []
    for path in files:
        match = EXPECT_RE.search(path.read_bytes().decode("latin-1"))
        if match:
            found.append((path, int(match[1]), match[2]))
    if not found:
        line, rule = SIDECAR[case.name]
        return case, line, rule
    assert len(found) == 1, f"{case}: one '# expect:' comment per case"
    return found[0]


CASES = sorted(p for p in BAD.iterdir() if not p.name.startswith("."))


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_bad_spec_fails_with_located_finding(
    case: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, line, rule = _expectation(case)
    code = cli.main(["validate", str(case)])
    out, err = capsys.readouterr()
    assert code == 1
    expected = f"{display_path(path)}:{line}:"
    hits = [ln for ln in out.splitlines() if ln.startswith(expected) and f" {rule}: " in ln]
    assert hits, f"expected {expected} ... {rule} in:\n{out}"
    assert "error" in hits[0] or rule.startswith("IR1")
    assert "Traceback" not in out + err
    assert re.search(r" errors?, ", err)  # the summary line


@pytest.mark.parametrize("case", CASES[:5], ids=lambda p: p.name)
def test_bad_spec_github_annotations(case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, line, rule = _expectation(case)
    assert cli.main(["validate", "--format", "github", str(case)]) == 1
    out = capsys.readouterr().out
    assert f"file={display_path(path)},line={line}," in out
    assert f"title={rule}::" in out
