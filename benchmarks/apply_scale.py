"""Apply 1,000 grants under ARM's write throttling: how close to the bucket's floor, and clean?

ARM's token bucket for writes (per subscription and principal) holds 200 and refills 10 per
second, so N writes cannot finish faster than (N - 200) / 10 seconds: 80 s for 1,000 grants.
An apply that stampedes on 429s (or whose retries multiply with azure-core's) lands far above
that, or fails writes; one that waits exactly the Retry-After ARM sends, with every worker held
by the same gate, lands near it.

Setup (unthrottled): the embedded emulator on a temporary state directory, 10 user-assigned
identities applied from generated specs. Then the specs gain 100 role grants per identity (100
non-privileged built-in roles at their resource group), the plan is computed (1,000 creates),
throttling is switched on with ARM's limits, and the plan is applied with the default
parallelism. Printed: wall time, the floor, their ratio (target <= 1.2), failed operations
(target 0), requests, 429 answers, retries.

    python benchmarks/apply_scale.py [--grants 1000] [--parallelism 10]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

from identity_reconciler.apply import ApplyOptions, apply_plan
from identity_reconciler.azure.clients import connect_emulator
from identity_reconciler.azure.localworld import world_for
from identity_reconciler.azure.reader import read_live
from identity_reconciler.core import privilege
from identity_reconciler.plan import compute_plan
from identity_reconciler.spec import validate
from local_azure.api import start
from local_azure.kernel import Settings

SUB = "11111111-1111-1111-1111-111111111111"
RG = "rg-bench-prod-uks-01"
IDENTITIES = 10
BURST, REFILL = 200, 10.0


def role_ids(count: int) -> list[str]:
    """`count` built-in, non-privileged role ids in a stable order."""
    text = resources.files("identity_reconciler.data").joinpath("builtin-roles.json").read_text()
    catalog = json.loads(text)
    ids = sorted(str(r["id"]).lower() for r in catalog)
    usable = [i for i in ids if not privilege.of_guid(i).privileged]
    if len(usable) < count:
        raise SystemExit(f"only {len(usable)} built-in roles available, need {count}")
    return usable[:count]


def write_specs(folder: Path, grants_per_identity: int) -> None:
    lines = [
        f"subscription: {SUB}",
        f"defaults: {{location: uksouth, resource_group: {RG}, tags: {{env: prod}}}}",
        "identities:",
    ]
    rg_scope = f"/subscriptions/{SUB}/resourceGroups/{RG}"
    chosen = role_ids(grants_per_identity)
    for i in range(IDENTITIES):
        lines.append(f"  - name: id-bench{i:02d}-prod-uks-01")
        if chosen:
            lines.append("    roles:")
            lines += [f"      - {{role: {guid}, scope: {rg_scope}}}" for guid in chosen]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bench.yaml").write_text("\n".join(lines) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grants", type=int, default=1000, help="multiple of 10 (default 1000)")
    parser.add_argument("--parallelism", type=int, default=10)
    args = parser.parse_args()
    per_identity = args.grants // IDENTITIES

    with tempfile.TemporaryDirectory(prefix="apply-scale-") as tmp:
        specs = Path(tmp) / "specs"
        write_specs(specs, 0)
        first = validate([str(specs)]).desired
        assert first is not None
        write_specs(specs, per_identity)
        result = validate([str(specs)])
        desired = result.desired
        if desired is None:
            print("generated specs do not validate", file=sys.stderr)
            return 1
        emu = start(state_dir=Path(tmp) / "state", world=world_for(desired), settings=Settings())
        try:
            with connect_emulator(emu.info) as session:
                setup = compute_plan(first, read_live(session, first), cloud="local")
                assert apply_plan(session, setup).ok, "setup failed"
                plan = compute_plan(desired, read_live(session, desired), cloud="local")
                grants = sum(1 for c in plan.changes if c.kind.value == "grant")
                print(f"plan: {len(plan.changes)} changes ({grants} grants to create)")
                emu.configure(
                    throttle=True,
                    throttle_limits={"writes": {"burst": BURST, "per_second": REFILL}},
                )
                emu.reset_stats()
                started = time.monotonic()
                outcome = apply_plan(
                    session, plan, options=ApplyOptions(parallelism=args.parallelism)
                )
                wall = time.monotonic() - started
            stats = emu.stats()
        finally:
            emu.stop()

    floor = max(0.0, (grants - BURST) / REFILL)
    ratio = wall / floor if floor else float("nan")
    by_status = stats["by_status"]
    print(f"grants applied:      {len(outcome.done)} of {grants}")
    print(f"wall time:           {wall:.1f} s")
    print(f"bucket floor:        {floor:.1f} s  ((N - {BURST}) / {REFILL:g} per s)")
    print(f"ratio wall / floor:  {ratio:.3f}  (target <= 1.2)")
    print(f"failed operations:   {len(outcome.failed)}  (target 0); skipped {len(outcome.skipped)}")
    print(f"ARM requests:        {stats['total']} (by method {stats['by_method']})")
    print(f"429 answers:         {by_status.get('429', 0)}; retries {outcome.retries}")
    print(f"gate closed early:   {outcome.paced} times (remaining-writes header reached 0)")
    for failed in outcome.failed[:5]:
        print(f"  failed {failed.address}: {failed.failure.line() if failed.failure else '?'}")
    return 0 if not outcome.failed and outcome.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
