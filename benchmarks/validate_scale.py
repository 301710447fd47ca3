"""How long `validate` takes on a large estate: 5,000 grants across 50 spec files.

Generates the specs in a temporary folder (50 files, 10 identities each, 10 grants per
identity on distinct Key Vaults, plus a federated credential and an attachment), validates
them, and prints files, grants, wall and CPU seconds. Target: well under 1 s of CPU.

Then the garbage collector's share: the same validate with the CLI's tuning (imports frozen
with `gc.freeze()`, a high generation-0 threshold while loading: `core/gctune.py`) and
without it (CPython's defaults), alternating runs, with the number of collections each made.

    python benchmarks/validate_scale.py [--files 50] [--grants-per-file 100] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
from pathlib import Path
from typing import Any

from identity_reconciler.core import gctune
from identity_reconciler.spec import validate

SUB = "11111111-1111-1111-1111-111111111111"
IDENTITIES_PER_FILE = 10


def write_specs(folder: Path, files: int, grants_per_file: int) -> None:
    per_identity = max(1, grants_per_file // IDENTITIES_PER_FILE)
    for f in range(files):
        lines = [
            "# yaml-language-server: $schema=../schemas/spec.schema.json",
            f"subscription: {SUB}",
            "defaults:",
            "  location: uksouth",
            f"  resource_group: rg-app{f:02d}-prod-uks-01",
            "  tags: {env: prod, owner: platform}",
            "identities:",
        ]
        for i in range(IDENTITIES_PER_FILE):
            lines += [
                f"  - name: id-app{f:02d}-prod-uks-{i:02d}",
                "    federated_credentials:",
                "      - name: github-production",
                "        issuer: https://token.actions.githubusercontent.com",
                f"        subject: repo:contoso/app{f:02d}:environment:prod-{i}",
                "    assigned_to:",
                f"      - {{type: Microsoft.Web/sites, name: app-app{f:02d}-prod-uks-{i:02d}}}",
                "    roles:",
            ]
            for g in range(per_identity):
                lines += [
                    "      - role: Key Vault Secrets User",
                    "        scope:",
                    "          type: Microsoft.KeyVault/vaults",
                    f"          name: kv-app{f:02d}-{i:02d}-{g:03d}",
                ]
        (folder / f"app{f:02d}.yaml").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--grants-per-file", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_specs(folder, args.files, args.grants_per_file)
        runs = []
        for _ in range(1 + args.repeat):  # the first run also reads the role catalog
            cpu, wall = time.process_time(), time.perf_counter()
            result = validate([folder])
            runs.append((time.perf_counter() - wall, time.process_time() - cpu))
        assert result.desired is not None, result.findings[:5]
        best_wall, best_cpu = min(runs[1:], key=lambda r: r[1])
        print(f"files        {len(result.files)}")
        print(f"identities   {len(result.desired.identities)}")
        print(f"grants       {len(result.desired.grants)}")
        print(f"findings     {len(result.findings)}")
        print(f"cold run     {runs[0][0]:.3f} s wall, {runs[0][1]:.3f} s CPU (reads the catalog)")
        print(f"warm run     {best_wall:.3f} s wall, {best_cpu:.3f} s CPU (best of {args.repeat})")
        compare_gc(folder, args.repeat)


def compare_gc(folder: Path, repeat: int) -> None:
    """Best CPU of `repeat` runs each, tuned and untuned, alternating; collections counted."""
    collections = [0, 0, 0]

    def count(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            collections[info["generation"]] += 1

    gc.callbacks.append(count)
    best: dict[bool, tuple[float, list[int]]] = {}
    try:
        for _ in range(repeat):
            for tuned in (True, False):
                gctune.enabled = tuned
                if tuned:
                    gc.freeze()
                else:
                    gc.unfreeze()
                gc.collect()
                collections[:] = [0, 0, 0]
                cpu = time.process_time()
                validate([folder])
                took = time.process_time() - cpu
                if tuned not in best or took < best[tuned][0]:
                    best[tuned] = (took, list(collections))
    finally:
        gc.callbacks.remove(count)
        gctune.enabled = True
    for tuned, label in ((False, "gc default"), (True, "gc tuned")):
        took, made = best[tuned]
        print(f"{label:<12} {took:.3f} s CPU, collections gen0/1/2 {made[0]}/{made[1]}/{made[2]}")
    saved = 1 - best[True][0] / best[False][0]
    print(f"gc tuning    {best[False][0] / best[True][0]:.2f}x faster ({saved:.0%} less CPU)")

if __name__ == "__main__":
    main()
