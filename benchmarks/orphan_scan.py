"""What proving orphaned grants costs a plan: requests and seconds, against a per-grant lookup.

The estate: N user-assigned identities in one resource group, each granted Reader on the group
and Key Vault Secrets User on a vault, all applied through the CLI to the embedded local Azure.
Then K identities are deleted by hand (plain SDK calls) and their spec entries removed, which
leaves 2K owned grants whose principal is gone.

Measured, each as plan's live read (`read_live` + `compute_plan`):
  clean    no orphan candidate: the two bulk lists per subscription, nothing more
  orphans  2K candidates: the same lists plus one paged generic-resources list per
           subscription read (every system-assigned principal), then, as candidates remain,
           the list of visible subscriptions and two lists per other one (the local Azure has
           one other), then 2K deletes planned
  per-grant what a per-object proof would cost: one principal lookup per owned grant whose
           principal is not among the listed identities (counted, not sent: ARM has no such
           call, Microsoft Graph would)

    python benchmarks/orphan_scan.py [--identities 200] [--deleted 50]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import tempfile
import time
from pathlib import Path

from identity_reconciler.azure.clients import open_session
from identity_reconciler.azure.reader import read_live
from identity_reconciler.cli import main
from identity_reconciler.plan import compute_plan
from identity_reconciler.spec import validate

SUB = "11111111-1111-1111-1111-111111111111"
RG = "rg-bench-orphans"


def spec(names: list[str]) -> str:
    head = (
        f"subscription: {SUB}\n"
        f"defaults: {{location: uksouth, resource_group: {RG}}}\nidentities:\n"
    )
    body = "".join(
        f"  - name: {n}\n    roles:\n"
        f"      - {{role: Reader, scope: {{resource_group: {RG}}}}}\n"
        "      - {role: Key Vault Secrets User, scope: "
        "{type: Microsoft.KeyVault/vaults, name: kv-bench-orphans}}\n"
        for n in names
    )
    return head + body


def measure(specs: Path, state: Path) -> tuple[int, float, int]:
    result = validate([specs])
    assert result.desired is not None, result.findings
    started = time.perf_counter()
    with open_session("local", state_dir=state, desired=result.desired) as session:
        live = read_live(session, result.desired)
        plan = compute_plan(result.desired, live, cloud="local")
    seconds = time.perf_counter() - started
    orphans = sum(1 for c in plan.changes if c.reason == "delete_because_principal_deleted")
    return live.requests, seconds, orphans


def main_(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--identities", type=int, default=200)
    parser.add_argument("--deleted", type=int, default=50)
    args = parser.parse_args(argv)
    names = [f"id-bench-{i:04d}" for i in range(args.identities)]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        specs, state = root / "specs", root / "state"
        specs.mkdir()
        (specs / "bench.yaml").write_text(spec(names))
        target = ["--cloud", "local", "--state-dir", str(state), "-q"]
        with contextlib.redirect_stdout(io.StringIO()):
            rc = main(["apply", str(specs), *target, "--auto-approve", "--parallelism", "16"])
        if rc != 0:
            return 1
        clean = measure(specs, state)
        gone, kept = names[: args.deleted], names[args.deleted :]
        with open_session("local", state_dir=state) as session:
            for name in gone:
                session.msi(SUB).user_assigned_identities.delete(RG, name)
        (specs / "bench.yaml").write_text(spec(kept))
        orphans = measure(specs, state)
    per_grant = clean[0] + orphans[2]
    print(f"estate: {args.identities} identities, {2 * args.identities} owned grants; "
          f"{args.deleted} identities deleted by hand")
    print(f"{'run':<10}{'requests':>10}{'seconds':>10}{'orphans':>10}")
    for label, (requests, seconds, found) in (("clean", clean), ("orphans", orphans)):
        print(f"{label:<10}{requests:>10}{seconds:>10.2f}{found:>10}")
    print(f"{'per-grant':<10}{per_grant:>10}{'':>10}{orphans[2]:>10}  (counted, not sent)")
    extra = orphans[0] - clean[0]
    print(f"proof cost: {extra} extra request(s) for {orphans[2]} orphans; "
          f"a per-grant proof would cost {per_grant / max(orphans[0], 1):.1f}x the requests")
    return 0


if __name__ == "__main__":
    sys.exit(main_(sys.argv[1:]))
