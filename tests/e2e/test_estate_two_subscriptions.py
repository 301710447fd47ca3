"""Export and audit across two subscriptions and a management group.

The shop's identity (subscription A) pulls from a registry in shared services (subscription
B); the platform identity (B) holds Reader, Security Reader and Cost Management Reader at a
management group that holds neither subscription. Export must write every one of those
grants (else applying the export would delete working access), and audit must show them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from estates import (
    MG_READER_ROLES,
    PLATFORM_MG,
    SHARED_ACR,
    SHARED_SUB,
    SHOP_SUB,
    TWO_SUBSCRIPTIONS,
    cli,
    write,
)


@pytest.fixture
def applied(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    specs = str(write(tmp_path / "specs", TWO_SUBSCRIPTIONS))
    local = ["--cloud", "local", "--state-dir", str(tmp_path / "state")]
    plan = str(tmp_path / "plan.json")
    rc, out, err = cli(capsys, "plan", specs, *local, "--out", plan)
    assert rc == 0, out + err
    rc, out, err = cli(capsys, "apply", plan, *local)
    assert rc == 0, out + err
    return local


def test_export_writes_grants_in_other_subscriptions_and_management_groups(
    applied: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "exported"
    rc, out, err = cli(capsys, "export", "--subscription", SHOP_SUB, "--subscription",
                       SHARED_SUB, "--out", str(out_dir), *applied)
    assert rc == 0, out + err
    shop = (out_dir / "rg-shop-prod-uks-01.yaml").read_text()
    platform = (out_dir / "rg-shared-prod-uks-01.yaml").read_text()
    assert SHARED_ACR in shop
    for role in MG_READER_ROLES:
        assert f"role: {role}\n" in platform
    assert platform.count(PLATFORM_MG) == len(MG_READER_ROLES)
    # Applying the export changes nothing: no grant is lost.
    rc, out, err = cli(capsys, "plan", str(out_dir), *applied, "--detailed-exitcode")
    assert rc == 0, out + err


def test_export_without_subscription_reads_every_visible_one(
    applied: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "all"
    rc, out, err = cli(capsys, "export", "--out", str(out_dir), *applied)
    assert rc == 0, out + err
    assert SHARED_ACR in (out_dir / "rg-shop-prod-uks-01.yaml").read_text()
    assert PLATFORM_MG in (out_dir / "rg-shared-prod-uks-01.yaml").read_text()


def test_audit_shows_management_group_grants(
    applied: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, err = cli(capsys, "audit", "--subscription", SHARED_SUB, "--format", "json",
                       *applied)
    assert rc == 0, err
    report = json.loads(out)
    text = json.dumps(report)
    for role in MG_READER_ROLES:
        assert role in text
    assert PLATFORM_MG in text
