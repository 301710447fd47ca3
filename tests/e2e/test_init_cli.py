"""`identity-reconciler init`: a new repository validates, plans and applies on the embedded
local Azure at once; existing files are never half-overwritten."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from identity_reconciler.cli import main
from identity_reconciler.spec.scaffold import README_BEGIN, TEMPLATES, template

REPO = Path(__file__).resolve().parents[2]


def test_init_validate_plan_apply(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "identities"
    assert main(["init", str(repo)]) == 0
    out = capsys.readouterr().out
    for relative in [*TEMPLATES, "schemas/spec.schema.json", "README.md"]:
        assert (repo / relative).is_file(), relative
        assert f"created   {relative}" in out
    spec = (repo / "specs" / "example.yaml").read_text()
    assert spec.startswith("# yaml-language-server: $schema=../schemas/spec.schema.json\n")
    schema = json.loads((repo / "schemas" / "spec.schema.json").read_text())
    assert schema["title"] == "identity-reconciler spec"

    monkeypatch.chdir(repo)
    assert main(["validate", "specs/", "--strict"]) == 0
    assert main(["fmt", "specs/", "--check"]) == 0
    assert main(["plan", "specs/", "--cloud", "local", "--out", "plan.json",
                 "--detailed-exitcode", "-q"]) == 2
    assert main(["apply", "plan.json", "--cloud", "local", "--specs", "specs/", "-q"]) == 0
    assert main(["plan", "specs/", "--cloud", "local", "--detailed-exitcode", "-q"]) == 0
    capsys.readouterr()
    assert main(["outputs", "specs/", "--cloud", "local", "--format", "env"]) == 0
    assert "ID_EXAMPLE_PROD_UKS_01_CLIENT_ID=" in capsys.readouterr().out


def test_init_again_changes_nothing_and_keeps_the_readme(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "README.md").write_text("# Ours\n\nOur own words.\n")
    assert main(["init", str(tmp_path)]) == 0
    readme = (tmp_path / "README.md").read_text()
    assert readme.startswith("# Ours\n\nOur own words.\n\n" + README_BEGIN)
    capsys.readouterr()
    assert main(["init", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "created" not in out
    assert "unchanged README.md" in out
    assert (tmp_path / "README.md").read_text() == readme
    assert readme.count(README_BEGIN) == 1


def test_a_conflict_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mine = tmp_path / ".pre-commit-config.yaml"
    mine.write_text("repos: []\n")
    assert main(["init", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert ".pre-commit-config.yaml" in err
    assert "nothing was written" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == [".pre-commit-config.yaml"]
    assert main(["init", str(tmp_path), "--force"]) == 0
    assert "identity-reconciler-fmt" in mine.read_text()


def test_existing_specs_get_no_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "ours.yaml").write_text("subscription: x\n")
    assert main(["init", str(tmp_path)]) == 0
    assert "skipped   specs/example.yaml" in capsys.readouterr().out
    assert not (tmp_path / "specs" / "example.yaml").exists()


@pytest.mark.parametrize("name", sorted(p.name for p in (REPO / "docs/examples/github").glob("*")))
def test_scaffolded_workflows_are_the_documented_examples(name: str) -> None:
    assert template(name) == (REPO / "docs" / "examples" / "github" / name).read_text()
