"""Attaching a user-assigned identity needs a right on the identity, not only on the resource.

ARM checks `Microsoft.ManagedIdentity/userAssignedIdentities/assign/action` on every identity a
resource write attaches (a linked access check, 403 LinkedAuthorizationFailed), so whoever may
edit a web app cannot borrow any identity's permissions by attaching it. The emulator checks the
same when RBAC is enforced; detaching needs no right on the identity.
"""

from __future__ import annotations

from collections.abc import Callable

from security_support import (
    CI_OBJECT_ID,
    MI_OPERATOR,
    MI_TYPE,
    RG_ID,
    SITE,
    WEBSITE_CONTRIBUTOR,
    arm,
    ci_world,
    grant,
)

from local_azure.api import RunningEmulator
from local_azure.kernel import Settings

WEB_API = "2023-12-01"


def _attach(emu: RunningEmulator, token: str, identity: str, value: object) -> tuple[int, str]:
    kind = "UserAssigned" if value is not None else "None"
    body = {"identity": {"type": kind, "userAssignedIdentities": {identity: value}}}
    resp = arm(emu, "PATCH", SITE, token=token, body=body, api_version=WEB_API)
    return resp.status_code, resp.text


def test_attaching_an_identity_needs_assign_action_on_it(
    fresh_emulator: Callable[..., RunningEmulator],
) -> None:
    emu = fresh_emulator(world=ci_world(), settings=Settings(enforce_rbac=True))
    identity = f"{RG_ID}/providers/{MI_TYPE}/id-borrowed"
    created = arm(emu, "PUT", identity, body={"location": "uksouth"}, api_version="2023-01-31")
    assert created.status_code in (200, 201), created.text
    grant(emu, SITE, WEBSITE_CONTRIBUTOR, CI_OBJECT_ID)
    token = emu.issue_token(CI_OBJECT_ID)

    status, text = _attach(emu, token, identity, {})
    assert status == 403
    assert "LinkedAuthorizationFailed" in text
    assert f"{MI_TYPE}/assign/action" in text
    assert identity in text
    site = arm(emu, "GET", SITE, api_version=WEB_API).json()
    assert identity.lower() not in str(site.get("identity")).lower()

    operator_role = grant(emu, identity, MI_OPERATOR, CI_OBJECT_ID)
    assert _attach(emu, token, identity, {})[0] == 200

    assert arm(emu, "DELETE", operator_role).status_code in (200, 204)
    status, text = _attach(emu, token, identity, None)
    assert status == 200, text  # detaching needs no right on it
