"""Federated-credential subjects with wildcards: Azure matches subjects exactly, so a `*` in
one would trust no token at all. validate and plan refuse it at its line, naming the
alternative (one credential per subject)."""

from __future__ import annotations

from pathlib import Path

import pytest
from estates import SHOP_RG, SHOP_SUB, cli, write

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
