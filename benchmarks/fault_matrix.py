"""Apply under seeded faults, many seeds: does every one converge, and what did the faults cost?

Each seed is a small estate (2-4 identities with federated credentials, attachments and ~10-20
grants, a system-assigned identity with grants, and objects that are not ours beside them) on
its own in-process emulator, first applied cleanly, then changed and applied while one kind of
fault is on: 429 with and without Retry-After (tiny token buckets), 500/503, dropped
connections and answers lost after the write committed, PrincipalNotFound for new principals,
another client racing grants under random names, a write storm, a mix. A seed converges when
plan + apply, re-run as a user would (at most 3 times), leaves an empty plan and the store
shows every desired grant exactly once, no owned leftovers and everything not ours unchanged.
The harness is `tests/reliability/fault_lab.py`; CI runs its first 20 seeds.

Printed: converged/N, then per fault kind: seeds, converged, how many plan+apply runs it took,
ARM requests, apply retries, 429 answers, fault events met, wall time (mean and max).
Apply's waits are scaled down (first backoff 50 ms instead of 1 s); Retry-After is obeyed as
sent (whole seconds). Seeds run in `--jobs` processes; the whole run stops by itself.

    python benchmarks/fault_matrix.py [--seeds 200] [--first 0] [--jobs 2]
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "reliability"))

import fault_lab  # the harness the reliability tests use, found through the path set above

SEED_TIMEOUT_S = 180.0  # one seed's bound (throttle budget 60 s, 3 attempts); stop if exceeded


def run_one(seed: int) -> fault_lab.SeedResult:
    with tempfile.TemporaryDirectory(prefix="fault-matrix-") as tmp:
        return fault_lab.run_seed(seed, Path(tmp))


def _row(name: str, results: list[fault_lab.SeedResult]) -> str:
    runs = Counter(r.attempts for r in results)
    events: Counter[str] = Counter()
    for r in results:
        events.update(r.events)
    met = ", ".join(f"{k} {v}" for k, v in sorted(events.items(), key=lambda kv: -kv[1]))
    wall = [r.seconds for r in results]
    return (
        f"{name:<26} {len(results):>5} {sum(r.converged for r in results):>5}"
        f"  {runs.get(1, 0):>3}/{runs.get(2, 0)}/{runs.get(3, 0):<3}"
        f" {sum(r.requests for r in results):>8} {sum(r.retries for r in results):>7}"
        f" {sum(r.statuses.get('429', 0) for r in results):>6}"
        f" {statistics.mean(wall):>6.2f} {max(wall):>6.2f}\n"
        f"{'':<26} faults met: {met or 'none'}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200, help="how many seeds (default 200)")
    parser.add_argument("--first", type=int, default=0, help="first seed (default 0)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    args = parser.parse_args()
    seeds = list(range(args.first, args.first + args.seeds))

    started = time.monotonic()
    results: list[fault_lab.SeedResult] = []
    with multiprocessing.get_context("spawn").Pool(max(1, args.jobs)) as pool:
        pending = pool.imap_unordered(run_one, seeds)
        deadline = SEED_TIMEOUT_S * len(seeds) / max(1, args.jobs)
        try:
            for _ in seeds:
                left = max(1.0, deadline - (time.monotonic() - started))
                results.append(pending.next(timeout=min(SEED_TIMEOUT_S * 2, left)))
        except multiprocessing.TimeoutError:
            print("a seed exceeded its time bound; stopping", file=sys.stderr)
            pool.terminate()
    wall = time.monotonic() - started

    results.sort(key=lambda r: r.seed)
    converged = sum(r.converged for r in results)
    print(
        f"fault matrix: seeds {seeds[0]}..{seeds[-1]}, {len(fault_lab.KINDS)} fault kinds, "
        f"at most {fault_lab.MAX_ATTEMPTS} plan+apply runs per seed"
    )
    print(
        f"converged: {converged}/{len(seeds)}   (finished {len(results)}; wall {wall:.0f} s "
        f"with {args.jobs} jobs)"
    )
    print()
    print(
        f"{'fault kind':<26} {'seeds':>5} {'conv':>5}  runs 1/2/3 {'requests':>8} "
        f"{'retries':>7} {'429s':>6} {'wall s':>6} {'max s':>6}"
    )
    by_kind: dict[str, list[fault_lab.SeedResult]] = defaultdict(list)
    for r in results:
        by_kind[r.kind].append(r)
    for kind in fault_lab.KINDS:
        if by_kind.get(kind.name):
            print(_row(kind.name, by_kind[kind.name]))
    print(_row("all", results))
    failed = [r for r in results if not r.converged]
    for r in failed[:10]:
        print(f"seed {r.seed} ({r.kind}) did not converge: {'; '.join(r.problems[:3])}")
    return 0 if converged == len(seeds) else 1


if __name__ == "__main__":
    raise SystemExit(main())
