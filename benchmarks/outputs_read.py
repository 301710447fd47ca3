"""What `outputs` costs, against the read a plan does, on an applied estate.

N user-assigned identities, each with one federated credential (managed, so a plan reads them:
ARM has no bulk list of credentials) and one role grant, plus one system-assigned resource. The
estate is planned and applied on the embedded local Azure, then both reads run on it:

  outputs   one identity list per subscription, one GET per system-assigned resource
  plan      the plan's bulk read (identities, role assignments, resources, credentials)

    python benchmarks/outputs_read.py [--identities 200]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import tempfile
import time
from pathlib import Path

from identity_reconciler.azure.clients import open_session
from identity_reconciler.azure.outputs_read import read_declared_identities
from identity_reconciler.azure.reader import read_live
from identity_reconciler.cli import main as cli
from identity_reconciler.plan.outputs import check_complete, compute_outputs
from identity_reconciler.spec import validate

SUB = "11111111-1111-1111-1111-111111111111"


def specs(n: int) -> str:
    lines = [f"subscription: {SUB}", "", "defaults:", "  location: uksouth",
             "  resource_group: rg-bench-prod-uks-01", "", "identities:"]
    for i in range(n):
        lines += [
            f"  - name: id-bench{i:04d}-prod-uks-01",
            "    federated_credentials:",
            "      - name: github-production",
            "        issuer: https://token.actions.githubusercontent.com",
            f"        subject: repo:contoso/app{i}:environment:production",
            "    roles:",
            "      - role: Key Vault Secrets User",
            "        scope: {type: Microsoft.KeyVault/vaults, name: kv-bench-prod-uks-01}",
        ]
    lines += ["", "resources:", "  - type: Microsoft.Web/sites",
              "    name: app-bench-prod-uks-01", "    system_assigned: true"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--identities", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "specs").mkdir()
        (root / "specs" / "bench.yaml").write_text(specs(args.identities))
        state = ["--cloud", "local", "--state-dir", str(root / "state"), "-q"]
        started = time.monotonic()
        with contextlib.redirect_stdout(io.StringIO()):
            assert cli(["plan", str(root / "specs"), *state, "--out", str(root / "p.json")]) == 0
            assert cli(["apply", str(root / "p.json"), *state]) == 0
        print(f"setup: planned and applied {args.identities} identities in "
              f"{time.monotonic() - started:.1f} s")
        desired = validate([root / "specs"]).desired
        assert desired is not None
        with open_session("local", state_dir=root / "state", desired=desired) as session:
            started = time.monotonic()
            live = read_declared_identities(session, desired)
            outputs = compute_outputs(desired, live)
            check_complete(outputs)
            out_s, out_requests = time.monotonic() - started, live.requests
            started = time.monotonic()
            plan_live = read_live(session, desired)
            plan_s, plan_requests = time.monotonic() - started, plan_live.requests
    print(f"outputs: {len(outputs)} identities, {out_requests} ARM requests, {out_s:.2f} s")
    print(f"plan read: {plan_requests} ARM requests, {plan_s:.2f} s")
    print(f"ratio: {plan_requests / max(out_requests, 1):.0f}x fewer requests, "
          f"{plan_s / max(out_s, 1e-9):.1f}x faster")


if __name__ == "__main__":
    main()
