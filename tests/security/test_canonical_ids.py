"""One canonical ARM address: what was judged and reviewed is what ARM receives.

The reproduced attack: a scope `.../providers/Microsoft.KeyVault/../../../..` validated as a
resource scope, planned as safe, and `requests`/`urllib3` removed the dot segments, so the PUT
reached `/subscriptions/S` and stored Owner there. Every spelling a lower layer could rewrite is
now refused by `core/armid.py`, at validate (located), and again at the write.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from security_support import OWNER, READER, RG, RG_ID, SUB_ID, VAULT, watch_local

from identity_reconciler.azure import execute
from identity_reconciler.azure.clients import Session, connect_emulator
from identity_reconciler.azure.errors import ArmRequestError
from identity_reconciler.cli import main
from identity_reconciler.core import armid
from identity_reconciler.plan.model import Operation
from identity_reconciler.plan.safety import operation_scope
from local_azure import gateway
from local_azure.api import running

ASSIGN = "/providers/Microsoft.Authorization/roleAssignments/"
HOSTILE = [
    f"{VAULT}/../../../..",
    f"{VAULT}/..",
    f"{RG_ID}/providers/Microsoft.KeyVault/vaults/.",
    f"{SUB_ID}//resourceGroups/{RG}",
    f"{RG_ID}/",
    f" {RG_ID}",
    f"{RG_ID} ",
    f"{RG_ID}/providers/Microsoft.KeyVault/vaults/kv%2F..%2F..",
    f"{RG_ID}/providers/Microsoft.KeyVault/vaults/kv%2e%2e",
    f"{RG_ID}/providers/Microsoft.KeyVault/vaults/kv?x=1",
    f"{RG_ID}/providers/Microsoft.KeyVault/vaults/kv#frag",
    f"{RG_ID}/providers/Microsoft.KeyVault/vaults/kv\\..\\..",
    f"{RG_ID}/providers/Microsoft.KeyVault/vaults/kv\u202e",
    f"{RG_ID}/providers/Microsoft.KeyVault/vaults/kv\u200b",
    f"{RG_ID}/providers/Microsoft.KeyVault/vaults/kv\t",
    f"{RG_ID}/providers/Microsoft.KeyVault/vaults/\uff0e\uff0e",  # fullwidth dots: NFKC '..'
    f"{RG_ID}/providers/Microsoft.KeyVault/vaults/kv\u00a0",
    f"{RG_ID}/providers/Microsoft.KeyVault/vaults/ kv",
    f"{RG_ID}/providers/Microsoft.KeyVault/vaults/k\x00v",
    f"{RG_ID}/providers/Microsoft.KeyVault/vaults/\u2024\u2024",  # one-dot leaders
    f"{RG_ID}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-x{ASSIGN}{OWNER}/x",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_spellings_a_lower_layer_could_rewrite_are_refused(text: str) -> None:
    with pytest.raises(armid.ArmIdError):
        armid.parse_id(text)
    with pytest.raises(armid.ArmIdError):
        armid.parse_id(f"{text}{ASSIGN}{uuid.uuid4()}")


def test_a_canonical_id_round_trips() -> None:
    grant = f"{VAULT}{ASSIGN}{uuid.uuid4()}"
    parsed = armid.parse_id(grant.upper().replace("SUBSCRIPTIONS", "subscriptions"))
    assert parsed.kind == "role_assignment"
    assert parsed.key == grant.lower()
    assert armid.parse_id(parsed.id) == parsed


SPEC = """subscription: 11111111-1111-1111-1111-111111111111
defaults: {location: uksouth, resource_group: rg-myapp-prod-uks-01}
identities:
  - name: id-deploy-prod-uks-01
    roles:
      - role: Owner
        scope: %s
"""


@pytest.mark.parametrize(
    "scope",
    [
        f'"{VAULT}/../../../.."',
        f'"{VAULT}/%2e%2e/%2e%2e/%2e%2e/%2e%2e"',
        f'"{RG_ID}/"',
        f'"{VAULT}\u202e"',
        "{resource_group: rg-myapp-prod-uks-01, type: Microsoft.KeyVault/vaults, name: '..'}",
        "{resource_group: rg-myapp-prod-uks-01, type: Microsoft.Web/sites/slots, name: 'a/..'}",
    ],
)
def test_dot_segment_scope_fails_validate_with_its_location(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], scope: str
) -> None:
    spec = tmp_path / "specs" / "deploy.yaml"
    spec.parent.mkdir()
    spec.write_text(SPEC % scope, encoding="utf-8")
    assert main(["validate", str(spec.parent)]) == 1
    out, err = capsys.readouterr()
    assert "deploy.yaml:7:" in out + err
    assert "IR020" in out + err
    assert "Traceback" not in out + err


def test_dot_segment_owner_never_reaches_the_subscription(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reproduced case end to end: plan and apply refuse, and nothing is written."""
    watch = watch_local(monkeypatch)
    spec = tmp_path / "specs" / "deploy.yaml"
    spec.parent.mkdir()
    spec.write_text(SPEC % f'"{VAULT}/../../../.."', encoding="utf-8")
    state = str(tmp_path / "state")
    local = ["--cloud", "local", "--state-dir", state]
    assert main(["plan", str(spec.parent), *local, "--out", str(tmp_path / "p.json")]) == 1
    assert main(["apply", str(spec.parent), *local, "--auto-approve"]) == 1
    capsys.readouterr()
    assert all(
        sum(int(s["by_method"].get(m, 0)) for m in ("PUT", "PATCH", "DELETE")) == 0
        for s in watch.stats
    )


# --------------------------------------------------------------------------- the property


@pytest.fixture(scope="module")
def arm() -> Iterator[tuple[Session, list[tuple[str, str]], str]]:
    """A session on an emulator whose gateway records each request's method and decoded path."""
    seen: list[tuple[str, str]] = []
    lock = threading.Lock()
    real = gateway.Gateway.handle

    def recording(self: gateway.Gateway, req: Any) -> Any:
        with lock:
            seen.append((req.method, req.path))
        return real(self, req)

    gateway.Gateway.handle = recording  # type: ignore[method-assign]
    try:
        with running() as emu, connect_emulator(emu.info) as session:
            created = execute.run_operation(
                session,
                "identity",
                Operation(
                    method="PUT",
                    id=f"{RG_ID}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-prop",
                    body={"location": "uksouth", "tags": {}},
                ),
            )
            assert created.principal_id
            yield session, seen, created.principal_id
    finally:
        gateway.Gateway.handle = real  # type: ignore[method-assign]


SCOPES = [SUB_ID, RG_ID, VAULT, f"{RG_ID}/providers/Microsoft.Web/sites/app-myapp-prod-uks-01"]
ODD = ["/.", "/..", "/", "//", "%2e", "%2F", " ", "\t", "\u202e", "\u200b", "\uff0e", "?", "#",
       "\\", "\u00a0", "\u2066", "\u0130"]


@st.composite
def written_ids(draw: st.DrawFn) -> str:
    """A role assignment id as someone might write it: canonical, re-cased, or with something
    odd spliced in at a segment boundary or inside a segment."""
    scope = draw(st.sampled_from(SCOPES))
    text = f"{scope}{ASSIGN}{uuid.UUID(int=draw(st.integers(0, 2**128 - 1)))}"
    if draw(st.booleans()):
        text = "".join(c.upper() if draw(st.booleans()) else c for c in text[:60]) + text[60:]
        text = "/subscriptions" + text[len("/subscriptions"):] if draw(st.booleans()) else text
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(ODD)) + text[at:]
    return text


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=written_ids())
def test_the_path_arm_receives_is_the_canonical_id(
    arm: tuple[Session, list[tuple[str, str]], str], text: str
) -> None:
    session, seen, principal = arm
    body = {
        "properties": {
            "roleDefinitionId": f"/providers/Microsoft.Authorization/roleDefinitions/{READER}",
            "principalId": principal,
        }
    }
    op = Operation(method="PUT", id=text, body=body)
    parsed = armid.try_parse_id(text)
    before = len(seen)
    if parsed is None or parsed.kind != "role_assignment":
        with pytest.raises(ArmRequestError):
            execute.run_operation(session, "grant", op)
        assert not [p for m, p in seen[before:] if m == "PUT"]  # nothing was sent
        return
    answer: dict[str, Any] | None
    try:
        answer = execute.run_operation(session, "grant", op).answered or {}
    except ArmRequestError as exc:  # a well-formed id of a scope that does not exist: ARM's 404
        status = exc.status
        answer = None
    else:
        status = 200
    assert status in (200, 404)
    puts = [p for m, p in seen[before:] if m == "PUT"]
    assert puts == [parsed.id]  # what ARM received, decoded, is the canonical id
    if answer is None:
        return
    judged = operation_scope(op)
    assert judged is not None
    assert judged.key == armid.key(str(answer["properties"]["scope"]))  # judged == written
    execute.run_operation(session, "grant", Operation(method="DELETE", id=parsed.id))
