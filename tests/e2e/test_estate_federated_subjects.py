"""Federated-credential subjects with wildcards: Azure matches subjects exactly, so a `*` in
one would trust no token at all. validate and plan refuse it at its line, naming the
alternative (one credential per subject)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from azure.identity import ManagedIdentityCredential
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.msi.v2024_11_30.models import FederatedIdentityCredential, Identity
from estates import SHOP_RG, SHOP_SUB, cli, write

from identity_reconciler.core.ownership import OWNER_TAG, OWNER_TAG_VALUE
from local_azure.api import RunningEmulator

DEPLOY = f"""\
subscription: {SHOP_SUB}
defaults: {{location: uksouth, resource_group: {SHOP_RG}, tags: {{app: shop, env: prod}}}}
identities:
  - name: id-shop-deploy-prod-uks-01
    federated_credentials:
      - name: github-production
        issuer: https://token.actions.githubusercontent.com
        subject: repo:contoso/shop:environment:production
      - name: github-all-repos
        issuer: https://token.actions.githubusercontent.com
        subject: "repo:contoso/*:ref:refs/heads/main"
    roles:
      - {{role: AcrPush, scope: {{type: Microsoft.ContainerRegistry/registries,
                                  name: crshopproduks01}}}}
"""


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_wildcard_subject_is_a_located_error_naming_the_alternative(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    specs = write(tmp_path / "specs", {"deploy.yaml": DEPLOY})
    extra = ["--cloud", "local", "--state-dir", str(tmp_path / "s")] if command == "plan" else []
    rc, out, err = cli(capsys, command, str(specs), *extra)
    assert rc == 1
    text = out + err
    assert f"{specs / 'deploy.yaml'}:11:18: error IR012" in text
    assert "Azure matches subjects exactly" in text
    assert "one credential per subject" in text
    assert "Traceback" not in text


def test_exact_subjects_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    exact = DEPLOY.replace("repo:contoso/*:ref:refs/heads/main",
                           "repo:contoso/shop:ref:refs/heads/main")
    rc, out, err = cli(capsys, "validate", str(write(tmp_path / "specs", {"d.yaml": exact})))
    assert rc == 0, out + err


def test_export_of_a_live_wildcard_subject_says_so_and_still_validates(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fresh_emulator: Callable[..., RunningEmulator],
    identity_env: Callable[[RunningEmulator], None],
) -> None:
    """Made by hand in the portal, such a credential exists; export must not write specs that
    fail validation, and must say that planning them deletes the useless credential."""
    state = tmp_path / "state"
    emu = fresh_emulator(state_dir=state, world={
        "tenant_id": "22222222-2222-2222-2222-222222222222",
        "subscriptions": [{"id": SHOP_SUB, "display_name": "Shop production",
                           "resource_groups": [{"name": SHOP_RG, "location": "uksouth"}]}],
    })
    identity_env(emu)
    cred = ManagedIdentityCredential(connection_verify=emu.info.ca_bundle)
    msi = ManagedServiceIdentityClient(cred, SHOP_SUB, **emu.sdk_kwargs())
    msi.user_assigned_identities.create_or_update(
        SHOP_RG, "id-shop-deploy-prod-uks-01",
        Identity(location="uksouth", tags={OWNER_TAG: OWNER_TAG_VALUE}))
    for name, subject in (("github-production", "repo:contoso/shop:environment:production"),
                          ("github-all-repos", "repo:contoso/*:ref:refs/heads/main")):
        msi.federated_identity_credentials.create_or_update(
            SHOP_RG, "id-shop-deploy-prod-uks-01", name, FederatedIdentityCredential(
                issuer="https://token.actions.githubusercontent.com", subject=subject,
                audiences=["api://AzureADTokenExchange"]))
    emu.stop()

    local = ["--cloud", "local", "--state-dir", str(state)]
    out_dir = tmp_path / "exported"
    rc, out, err = cli(capsys, "export", "--subscription", SHOP_SUB, "--out", str(out_dir),
                       *local)
    assert rc == 0, out + err
    assert "github-all-repos has subject 'repo:contoso/*:ref:refs/heads/main'" in err
    assert "plan will delete it" in err
    text = (out_dir / f"{SHOP_RG}.yaml").read_text()
    assert "github-production" in text
    assert "github-all-repos" not in text
    rc, out, err = cli(capsys, "plan", str(out_dir), *local, "--format", "json")
    assert rc == 0, err
    changes = json.loads(out)["changes"]
    assert [(c["kind"], c["actions"]) for c in changes] == [("federated_credential", ["delete"])]
    assert changes[0]["address"].endswith("/github-all-repos")
