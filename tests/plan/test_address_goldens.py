"""One address per object in every command and format: golden files for each output, and the
check that they all print the same address for the same object.

Regenerate after an intended change with

    UPDATE_GOLDEN=1 pytest tests/plan/test_address_goldens.py

and review the diff like any other code change.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from address_estates import ADDRESSES, ESTATES, OTHER, Estate
from plan_factories import RG, SUB

from identity_reconciler.cmds.github import drift_annotations, plan_annotations
from identity_reconciler.plan.audit import Naming, audit
from identity_reconciler.plan.audit_render import render_audit_json, render_audit_text
from identity_reconciler.plan.drift import drift_report
from identity_reconciler.plan.drift_render import render_drift_json, render_drift_text
from identity_reconciler.plan.render_json import render_json
from identity_reconciler.plan.render_markdown import render_markdown
from identity_reconciler.plan.render_text import render_text

GOLDEN = Path(__file__).parent / "golden" / "addresses"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
TODAY = date(2026, 1, 2)


def _audit(estate: Estate, render: Callable[..., str]) -> str:
    naming = Naming("id-{app}", lambda name: name.startswith("id-"))
    return render(audit(estate.live, subscriptions=estate.read, naming=naming,
                        desired=estate.desired))


def _drift(estate: Estate, render: Callable[..., str]) -> str:
    return render(drift_report(estate.plan(), estate.desired, estate.live, today=TODAY))


def _annotations(estate: Estate) -> str:
    p = estate.plan()
    report = drift_report(p, estate.desired, estate.live, today=TODAY)
    return "\n".join([*plan_annotations(p), *drift_annotations(report)]) + "\n"


OUTPUTS: dict[str, Callable[[Estate], str]] = {
    "plan.txt": lambda e: render_text(e.plan()),
    "plan.md": lambda e: render_markdown(e.plan()),
    "plan.json": lambda e: render_json(e.plan()),
    "annotations.txt": _annotations,
    "audit.json": lambda e: _audit(e, render_audit_json),
    "audit.txt": lambda e: _audit(e, render_audit_text),
    "drift.txt": lambda e: _drift(e, render_drift_text),
    "drift.json": lambda e: _drift(e, render_drift_json),
}
PLAN = {"plan.txt", "plan.md", "plan.json"}
DRIFT = {"drift.txt", "drift.json", "annotations.txt"}
AUDIT = {"audit.txt", "audit.json"}
# Where each object shows: the plan changes it, drift reports it, audit finds it live.
SHOWN = {
    "one-subscription": {
        "app": PLAN | DRIFT | AUDIT,
        "old": PLAN | DRIFT | AUDIT,
        "credential": PLAN | DRIFT,  # not live yet: nothing for audit
        "reader": PLAN | DRIFT,  # not live yet: nothing for audit
        "by-hand": DRIFT,  # made by hand: plans leave it alone, drift reports it
        "elsewhere": AUDIT,  # OTHER's look-alike: not the specs', only audit reads it
    },
    "two-subscriptions": {
        "app": PLAN | DRIFT | AUDIT,
        "old": PLAN | DRIFT | AUDIT,
        "credential": PLAN | DRIFT,
        "reader": PLAN | DRIFT,
        "by-hand": DRIFT,
        "elsewhere": PLAN | DRIFT,  # declared in OTHER, not live yet
    },
}
CASES = [(estate, output) for estate in sorted(ESTATES) for output in sorted(OUTPUTS)]


@pytest.mark.parametrize(("estate", "output"), CASES)
def test_golden(estate: str, output: str) -> None:
    path = GOLDEN / f"{estate}.{output}"
    got = OUTPUTS[output](ESTATES[estate]())
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(got, encoding="utf-8")
    assert path.exists(), f"missing {path}; run with UPDATE_GOLDEN=1 to create it"
    assert got == path.read_text(encoding="utf-8")


@pytest.mark.parametrize(("estate", "output"), CASES)
def test_every_output_names_each_object_alike(estate: str, output: str) -> None:
    text = OUTPUTS[output](ESTATES[estate]())
    for name, address in ADDRESSES[estate].items():
        present = address in text
        assert present == (output in SHOWN[estate][name]), (name, address)


@pytest.mark.parametrize("output", sorted(OUTPUTS))
def test_one_subscription_never_qualifies_a_home_address(output: str) -> None:
    """SUB is home: no address names it, while OTHER's objects are named with theirs."""
    text = OUTPUTS[output](ESTATES["one-subscription"]())
    assert not re.search(rf"[.@/]{SUB}/{RG}", text.replace(f"/subscriptions/{SUB}/", ""))


@pytest.mark.parametrize("output", sorted(OUTPUTS))
def test_two_subscriptions_qualify_every_address(output: str) -> None:
    text = OUTPUTS[output](ESTATES["two-subscriptions"]())
    for kind in ("identity", "grant", "federated_credential"):
        assert f"{kind}.{RG}/" not in text
    assert f"@{RG}" not in text
    assert f"identity.{OTHER}/{RG}/id-app" in text or output in AUDIT

