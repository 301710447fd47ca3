"""Shared pieces of the security tests: the seed estate's ids, a CI service principal, raw ARM
calls with a chosen principal's token, and a watch on the emulators `--cloud local` starts."""

from __future__ import annotations

import dataclasses
import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from identity_reconciler.azure.localworld import default_world
from identity_reconciler.cli import main
from identity_reconciler.plan.model import checksum_of
from local_azure import api
from local_azure.kernel import Settings

SUB = "11111111-1111-1111-1111-111111111111"
RG = "rg-myapp-prod-uks-01"
SUB_ID = f"/subscriptions/{SUB}"
RG_ID = f"{SUB_ID}/resourceGroups/{RG}"
SITE = f"{RG_ID}/providers/Microsoft.Web/sites/app-myapp-prod-uks-01"
VAULT = f"{RG_ID}/providers/Microsoft.KeyVault/vaults/kv-myapp-prod-uks-01"
MI_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"
WRITES = ("PUT", "PATCH", "DELETE", "POST")

# Built-in role definition GUIDs (identity_reconciler/data/builtin-roles.json).
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
MI_CONTRIBUTOR = "e40ec5ca-96e0-45a2-b4ff-59039f2c2b59"
MI_OPERATOR = "f1a07417-d97a-45cb-824c-7a7467783830"
WEBSITE_CONTRIBUTOR = "de139f84-1756-47ae-9be6-808fbbe84772"
RBAC_ADMIN = "f58310d9-a9f6-439a-9e8d-f62e7b41a168"
KV_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"

# The CI service principal the least-privilege tests sign in as (an app registration).
CI_OBJECT_ID = "c1c1c1c1-0000-4000-8000-000000000001"
CI_APP_ID = "c1c1c1c1-0000-4000-8000-0000000000a1"


def ci_world() -> dict[str, Any]:
    """The packaged default world plus the CI service principal (holding no role yet)."""
    world = default_world()
    world.setdefault("principals", []).append(
        {
            "object_id": CI_OBJECT_ID,
            "kind": "ServicePrincipal",
            "display_name": "identity-reconciler-ci",
            "app_id": CI_APP_ID,
        }
    )
    return world


def documented_condition() -> str:
    """The condition docs/permissions.md tells users to put on the RBAC administrator role."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "permissions.md").read_text()
    section = text.split("### The condition", 1)[1]
    found = re.search(r"```text\n(.*?)```", section, re.DOTALL)
    assert found, "docs/permissions.md lost its condition block"
    return found.group(1).strip()


def arm(
    emu: api.RunningEmulator,
    method: str,
    path: str,
    *,
    token: str | None = None,
    body: Any = None,
    api_version: str = "2022-04-01",
) -> requests.Response:
    """One ARM call with the given principal's token (default: the operator's)."""
    return requests.request(
        method,
        emu.info.endpoint + path,
        params={"api-version": api_version},
        json=body,
        headers={"Authorization": f"Bearer {token or emu.issue_token()}"},
        verify=emu.info.ca_bundle,
        timeout=30,
    )


def grant(
    emu: api.RunningEmulator,
    scope: str,
    role_guid: str,
    principal_id: str,
    *,
    condition: str | None = None,
) -> str:
    """A role assignment written by the operator; returns its id."""
    definitions = f"{SUB_ID}/providers/Microsoft.Authorization/roleDefinitions"
    props: dict[str, Any] = {
        "roleDefinitionId": f"{definitions}/{role_guid}",
        "principalId": principal_id,
        "principalType": "ServicePrincipal",
    }
    if condition:
        props.update(condition=condition, conditionVersion="2.0")
    rid = f"{scope}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}"
    resp = arm(emu, "PUT", rid, body={"properties": props})
    assert resp.status_code in (200, 201), resp.text
    return rid


@dataclass
class Watch:
    """What every emulator a CLI call started while watched saw and handed out."""

    stats: list[dict[str, Any]] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    identity_headers: list[str] = field(default_factory=list)

    def writes(self, index: int = -1) -> int:
        """ARM writes: the SQL endpoint's batches are POSTs too, and are not counted here."""
        by_method = self.stats[index]["by_method"]
        sql = int(self.stats[index].get("by_route", {}).get("sql.batch", 0))
        return sum(int(by_method.get(m, 0)) for m in WRITES) - sql

    @property
    def secrets(self) -> list[str]:
        return [*self.tokens, *self.identity_headers]


def watch_local(monkeypatch: pytest.MonkeyPatch, *, settings: Settings | None = None) -> Watch:
    """Wrap `emulator.api.running` (what `--cloud local` starts) to record counters and every
    token and identity-header secret the emulator issued."""
    watch = Watch()
    real = api.running

    @contextmanager
    def running(**kwargs: Any) -> Iterator[api.RunningEmulator]:
        if settings is not None:
            kwargs["settings"] = dataclasses.replace(
                settings, enforce_rbac=settings.enforce_rbac or _enforced(kwargs)
            )
        with real(**kwargs) as emu:
            watch.identity_headers.append(emu.info.identity_header)
            issuer = emu._app.issuer
            issue = issuer.issue

            def recording(*args: Any, **kw: Any) -> tuple[str, int]:
                token, exp = issue(*args, **kw)
                watch.tokens.append(token)
                return token, exp

            issuer.issue = recording  # type: ignore[method-assign]
            try:
                yield emu
            finally:
                watch.stats.append(emu.stats())

    monkeypatch.setattr(api, "running", running)
    return watch


def _enforced(kwargs: dict[str, Any]) -> bool:
    given = kwargs.get("settings")
    return bool(given is not None and given.enforce_rbac)


def reseal(plan_file: Path, data: dict[str, Any]) -> None:
    """Write an edited plan back with the checksum recomputed: the checksum is no signature."""
    data["checksum"] = checksum_of(data)
    plan_file.write_text(json.dumps(data))


def refused_without_writes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> str:
    """Run the CLI (an apply of a forged plan): exit 1, no traceback, no ARM write. Its stderr."""
    capsys.readouterr()
    watch = watch_local(monkeypatch)
    code = main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert code == 1
    assert all(watch.writes(i) == 0 for i in range(len(watch.stats)))
    return err
