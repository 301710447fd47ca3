"""`managed:` makes owned grants of deleted principals deletion candidates (orphans). Can a
grant that is not ours be deleted that way? Each look-alike below sits in the managed resource
group, for a principal that does not exist, with part of our mark: the marker in its
description but a random name, or our deterministic name for another principal, scope or
role. None is ours; the plan must not delete any, and apply writes nothing."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from security_support import (
    KV_SECRETS_USER,
    MI_CONTRIBUTOR,
    MI_OPERATOR,
    OWNER,
    READER,
    RG_ID,
    SUB_ID,
    WEBSITE_CONTRIBUTOR,
    arm,
    watch_local,
)

from identity_reconciler.cli import main
from identity_reconciler.core.ownership import DESCRIPTION_MARKER, assignment_name
from local_azure import api

SPEC = """subscription: 11111111-1111-1111-1111-111111111111
defaults: {location: uksouth, resource_group: rg-myapp-prod-uks-01}
managed:
  resource_groups: [rg-myapp-prod-uks-01]
identities:
  - name: id-keep-prod-uks-01
    roles:
      - {role: Reader, scope: {resource_group: rg-myapp-prod-uks-01}}
"""
OTHER = "deadbeef-0000-4000-8000-000000000002"


CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"


def _look_alikes(gone: str) -> list[tuple[str, str]]:
    """(name, role) of grants to `gone` at the resource group that are not ours (ARM allows
    one assignment per scope, role and principal, so each has its own role)."""
    return [
        (str(uuid.uuid4()), MI_OPERATOR),  # the marker, a random name
        (str(uuid.uuid5(uuid.uuid4(), "x")), WEBSITE_CONTRIBUTOR),  # version 5, not ours
        (assignment_name(RG_ID, KV_SECRETS_USER, OTHER), KV_SECRETS_USER),  # another principal
        (assignment_name(SUB_ID, MI_CONTRIBUTOR, gone), MI_CONTRIBUTOR),  # another scope
        (assignment_name(RG_ID, OWNER, gone), CONTRIBUTOR),  # another role
    ]


def _put(emu: api.RunningEmulator, name: str, role: str, principal: str) -> None:
    props: dict[str, Any] = {
        "roleDefinitionId": f"{SUB_ID}/providers/Microsoft.Authorization/roleDefinitions/{role}",
        "principalId": principal,
        "principalType": "ServicePrincipal",
        "description": f"hand-made {DESCRIPTION_MARKER}",
    }
    rid = f"{RG_ID}/providers/Microsoft.Authorization/roleAssignments/{name}"
    resp = arm(emu, "PUT", rid, body={"properties": props})
    assert resp.status_code in (200, 201), resp.text


def test_look_alike_orphans_are_not_deleted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "app.yaml").write_text(SPEC)
    state = str(tmp_path / "state")
    local = ["--cloud", "local", "--state-dir", state]
    assert main(["apply", str(specs), *local, "--auto-approve"]) == 0
    gone_id = f"{RG_ID}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-gone"
    emu = api.start(state_dir=state)
    try:
        made = arm(emu, "PUT", gone_id, body={"location": "uksouth"}, api_version="2023-01-31")
        assert made.status_code in (200, 201), made.text
        gone = made.json()["properties"]["principalId"]
        for name, role in _look_alikes(gone):
            _put(emu, name, role, gone)
        ours = assignment_name(RG_ID, READER, gone)  # the control: a real orphan of ours
        _put(emu, ours, READER, gone)
        assert arm(emu, "DELETE", gone_id, api_version="2023-01-31").status_code in (200, 204)
    finally:
        emu.stop()
    plan_file = tmp_path / "plan.json"
    assert main(["plan", str(specs), *local, "--out", str(plan_file), "--format", "json"]) == 0
    capsys.readouterr()
    deleted = [
        c["id"].rsplit("/", 1)[-1]
        for c in json.loads(plan_file.read_text())["changes"]
        if "delete" in c["actions"]
    ]
    assert deleted == [ours]
    watch = watch_local(monkeypatch)
    rc = main(["apply", str(plan_file), "--state-dir", state, "--allow-delete-identity"])
    out, err = capsys.readouterr()
    assert rc == 0, out + err
    assert all(watch.writes(i) == 1 for i in range(len(watch.stats)))
