"""Attacks on `--target`: a spelling that selects another object than the reviewer reads, or a
targeted plan that writes something the untargeted review did not show.

Through the CLI on the embedded local Azure: the untargeted plan of the seed specs is the
review; each targeted plan, however the target is spelt, must be a part of it, change for
change and operation for operation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from security_support import SUB

from identity_reconciler.cli import main

REPO = Path(__file__).resolve().parents[2]
FOREIGN = "22222222-2222-2222-2222-222222222222"


def _plan(tmp_path: Path, name: str, *targets: str) -> dict[str, Any]:
    out = tmp_path / f"{name}.json"
    args = ["plan", str(REPO / "specs"), "--cloud", "local", "--state-dir",
            str(tmp_path / "state"), "--out", str(out)]  # fmt: skip
    for t in targets:
        args += ["--target", t]
    assert main(args) == 0
    data: dict[str, Any] = json.loads(out.read_text())
    return data


def _by_address(data: dict[str, Any]) -> dict[str, Any]:
    return {c["address"]: (c["actions"], c["operations"]) for c in data["changes"]}


@pytest.fixture(scope="module")
def review(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("targets")
    return tmp, _plan(tmp, "full")


def _spellings(address: str) -> list[str]:
    kind, _, rest = address.partition(".")
    return [address.upper(), f" {kind}.{SUB.upper()}/{rest} "]


def test_every_spelling_of_every_target_is_a_part_of_the_review(
    review: tuple[Path, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    tmp, full = review
    reviewed = _by_address(full)
    kinds = {c["kind"]: c["address"] for c in full["changes"]}
    assert {"identity", "federated_credential", "grant", "attachment"} <= set(kinds)
    for address in kinds.values():
        for spelling in _spellings(address):
            part = _by_address(_plan(tmp, "part", spelling))
            assert address in part, spelling
            assert all(reviewed.get(a) == v for a, v in part.items()), spelling
    capsys.readouterr()


def test_another_subscriptions_qualifier_selects_nothing(
    review: tuple[Path, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    """`identity.<foreign>/rg/name` is not the home identity of that name: nothing is kept,
    and the notice points at the address the reviewer saw."""
    tmp, full = review
    address = next(c["address"] for c in full["changes"] if c["kind"] == "identity")
    kind, _, rest = address.partition(".")
    part = _plan(tmp, "foreign", f"{kind}.{FOREIGN}/{rest}")
    assert part["changes"] == []
    notices = [n["message"] for n in part["notices"] if n["code"] == "target_not_in_plan"]
    (notice,) = notices
    assert notice.endswith(f"did you mean {address}?")
    capsys.readouterr()
