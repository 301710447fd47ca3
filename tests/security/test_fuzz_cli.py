"""Hostile command lines: no traceback, exit codes only 0, 1 or 2, and nothing leaves the process.

Command lines are drawn (by hypothesis, from seeds) over the options argparse really declares,
with real and broken spec folders, plan files and hostile words as values. They run sealed
(tests/security/fuzz_harness.py): `open_session` answers as if the network were down, the
emulator cannot start, and any socket connection is refused and counted — there must be none.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import fuzz_corpus as corpus
import fuzz_harness as harness
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[harness.Sealed, list[str]]]:
    with harness.sealed() as sealed:
        root = sealed.root
        specs = root / "specs"
        specs.mkdir()
        for seed in corpus.SEED_SPECS[:6]:
            (specs / seed.name).write_bytes(seed.read_bytes())
        (root / "plan.json").write_text('{"format_version": "1.0", "checksum": "sha256:0"}')
        (root / "broken.json").write_bytes(b"\xff\xfe{")
        (root / "dir.json").mkdir()
        paths = [
            str(specs),
            str(specs / corpus.SEED_SPECS[0].name),
            str(REPO / "specs"),
            str(root / "plan.json"),
            str(root / "broken.json"),
            str(root / "dir.json"),
            str(root / "missing.yaml"),
            "/dev/null",
            "out.json",
            "out-dir",
        ]
        yield sealed, paths
        assert sealed.connections == [], "a command line tried to open a connection"


@settings(max_examples=800, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 2**63))
def test_random_command_lines(seed: int, world: tuple[harness.Sealed, list[str]]) -> None:
    sealed, paths = world
    argv = corpus.argv(random.Random(seed), paths)
    with harness.deadline(10):
        problem, label = harness.check_argv(argv, sealed)
    assert problem is None, f"seed {seed}, argv {[a[:40] for a in argv]}:\n{problem}"
    assert label in ("exit 0", "exit 1", "exit 2", "usage error (argparse 2)", "help/version (0)")


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--version"],
        ["-h"],
        ["nope"],
        ["plan"],
        ["plan", "--cloud", "mars", "specs"],
        ["apply", "--parallelism", "0", "x.json"],
        ["apply", "--principal-wait", "nan", "x"],
        ["plan", "specs", "--max-delete-percent", "1e309"],
        ["emulator", "serve", "--host", "::"],
        ["emulator", "serve", "--port", "-1"],
        ["completion", "tcsh"],
        ["validate", "\x00"],
        ["drift", "specs", "--cloud", "local", "--state-dir", "/dev/null/x"],
    ],
    ids=lambda a: " ".join(a)[:40] or "no-args",
)
def test_known_awkward_command_lines(
    argv: list[str], world: tuple[harness.Sealed, list[str]]
) -> None:
    sealed, _ = world
    with harness.deadline(10):
        problem, label = harness.check_argv(argv, sealed)
    assert problem is None, problem
    assert label != "raised"
