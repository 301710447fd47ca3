"""A persistent state keeps handing out fresh GUIDs across restarts."""

from __future__ import annotations

import json
from pathlib import Path

from local_azure.api import running
from local_azure.kernel import Request

SUB = "11111111-1111-1111-1111-111111111111"
RG = "rg-myapp-prod-uks-01"


def _create(state: Path, name: str) -> dict[str, str]:
    with running(state_dir=state) as emu:
        req = Request(
            "PUT",
            f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/"
            f"Microsoft.ManagedIdentity/userAssignedIdentities/{name}",
            {"api-version": "2024-11-30"},
            {},
            json.dumps({"location": "uksouth"}).encode(),
        )
        answer, _ = emu.router.dispatch(emu.context, req)
        assert answer.status == 201, answer.body
        assert isinstance(answer.body, dict)
        return dict(answer.body["properties"])


def test_identities_created_in_two_runs_on_one_state_get_distinct_ids(tmp_path: Path) -> None:
    first = _create(tmp_path, "id-one-dev-uks-01")
    second = _create(tmp_path, "id-two-dev-uks-01")
    assert first["principalId"] != second["principalId"]
    assert first["clientId"] != second["clientId"]
