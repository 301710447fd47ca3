"""audit without specs applies validate's least-privilege rules to what is live.

A data platform's ingestion identity was given Contributor on its resource group and Storage
Blob Data Reader on the whole group "to get it working"; validate warns (IR103, IR104) on such
specs, and audit of the live estate, with no specs at hand, must say the same (AUD008, AUD009).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from estates import SHOP_SUB, cli, write

RG = "rg-data-prod-uks-01"
SPEC = f"""\
subscription: {SHOP_SUB}
defaults: {{location: uksouth, resource_group: {RG}, tags: {{app: data, env: prod}}}}
identities:
  - name: id-data-ingest-prod-uks-01
    roles:
      - {{role: Contributor, scope: {{resource_group: {RG}}}}}
      - {{role: Storage Blob Data Reader, scope: {{resource_group: {RG}}}}}
      - role: Azure Service Bus Data Receiver
        scope: {{type: Microsoft.ServiceBus/namespaces, name: sb-data-prod-uks-01}}
"""


def test_audit_flags_what_validate_warns_about(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    specs = str(write(tmp_path / "specs", {"data.yaml": SPEC}))
    rc, out, err = cli(capsys, "validate", specs)
    assert rc == 0
    assert "IR103" in out + err
    assert "IR104" in out + err
    local = ["--cloud", "local", "--state-dir", str(tmp_path / "state")]
    plan = str(tmp_path / "plan.json")
    assert cli(capsys, "plan", specs, *local, "--out", plan)[0] == 0
    rc, out, err = cli(capsys, "apply", plan, *local)
    assert rc == 0, out + err

    rc, out, err = cli(capsys, "audit", "--subscription", SHOP_SUB, "--format", "json",
                       "--fail-on", "warning", *local)
    assert rc == 2, err
    findings = json.loads(out)["findings"]
    by_rule = {f["id"]: f for f in findings if f["id"] in ("AUD008", "AUD009")}
    assert set(by_rule) == {"AUD008", "AUD009"}
    assert "Contributor" in by_rule["AUD008"]["message"]
    assert "Storage Blob Data Reader" in by_rule["AUD009"]["message"]
    assert "storageAccounts" in by_rule["AUD009"]["message"]
    # the queue-scoped Service Bus grant is least privilege already
    assert not any("Service Bus" in f["message"] for f in findings)
