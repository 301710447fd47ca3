"""SIGKILL `identity-reconciler apply` at random points of a 500-change plan: does the next plan
and apply always converge, with nothing lost or duplicated and nothing unowned touched?

Per run, on a fresh state directory: someone else's identity (with a credential, attached to an
app, holding a grant) is put in place and snapshotted; `plan --out` of 20 identities x
(identity + federated credential + attachment + 22 grants) = 500 changes; `apply plan.json` in a
subprocess, SIGKILLed once a seeded random number of its changes are done (plus a seeded
0-20 ms, so the kill lands inside requests); then plan + apply as a user would, at most 3 times,
until the plan is empty. The emulator's store is then checked (every desired grant exactly once,
identities, credentials and attachments present, no owned leftovers, everything not ours
unchanged) and SQLite's integrity check run. Two placements of the emulator:

- in-process (`--cloud local --state-dir D`): the kill takes the emulator down too, so its
  SQLite state (WAL) must survive a SIGKILL;
- external (`identity-reconciler emulator serve --state D`, named by IDENTITY_RECONCILER_LOCAL_*):
  the kill cuts apply's requests in flight while the emulator carries on.

`--races N` adds N runs of two applies of the same specs at once against one emulator process
(half of them each planning for itself, half applying one saved plan), and counts the errors
they report by kind. The harness is `tests/reliability/crash_lab.py`; CI runs a smaller version.

    python benchmarks/crash_consistency.py [--runs 20] [--variant both] [--races 10] [--seed 0]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "reliability"))

import crash_lab  # the harnesses the reliability tests use, found through the path set above
import race_lab


def _crashes(variant: str, runs: int, args: argparse.Namespace, tmp: Path) -> bool:
    planned = crash_lab.changes_of(args.identities, args.grants)
    print(f"\n{variant} emulator: {runs} runs, SIGKILL during apply of a {planned}-change plan")
    results: list[crash_lab.CrashResult] = []
    for run in range(runs):
        r = crash_lab.crash_run(
            run,
            tmp,
            variant=variant,
            identities=args.identities,
            grants=args.grants,
            seed=args.seed,
        )
        results.append(r)
        state = "killed" if r.killed else "exited before the kill"
        print(
            f"  run {run:>2}: {state} after {r.done_at_kill:>3}/{r.planned} done; recovery "
            f"{r.attempts} plan+apply, {r.seconds:5.1f} s; "
            + ("converged" if r.converged else f"NOT converged: {'; '.join(r.problems[:3])}")
        )
    converged = sum(r.converged for r in results)
    killed = [r.done_at_kill for r in results if r.killed and r.done_at_kill < r.planned]
    recovery = [r.seconds for r in results]
    median = statistics.median(killed) if killed else 0
    print(
        f"  converged: {converged}/{runs}; killed with changes left {len(killed)}/{runs} (done "
        f"at the kill: min {min(killed, default=0)}, median {median:.0f}, "
        f"max {max(killed, default=0)})"
    )
    attempts = dict(sorted(Counter(r.attempts for r in results).items()))
    print(
        f"  recovery: plan+apply runs {attempts}, wall mean {statistics.mean(recovery):.1f} s, "
        f"max {max(recovery):.1f} s"
    )
    return converged == runs


def _races(count: int, args: argparse.Namespace, tmp: Path) -> bool:
    identities, grants = 5, 10
    planned = crash_lab.changes_of(identities, grants)
    print(f"\ntwo applies at once: {count} runs, {planned}-change specs, one emulator process")
    errors: Counter[str] = Counter()
    codes: Counter[str] = Counter()
    converged = 0
    for run in range(count):
        mode = "specs" if run % 2 == 0 else "plan"
        r = race_lab.race_run(run, tmp, mode=mode, identities=identities, grants=grants)
        errors += r.errors
        codes[",".join(str(c) for c in sorted(r.exit_codes))] += 1
        converged += r.converged
        if not r.converged:
            print(f"  run {run} ({mode}) NOT converged: {'; '.join(r.problems[:3])}")
    print(f"  converged: {converged}/{count}; exit codes of the pair: {dict(codes)}")
    print(f"  errors reported, by kind: {dict(errors) or 'none'}")
    return converged == count and set(errors) <= {"PlanStale"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="kills per variant (default 20)")
    parser.add_argument(
        "--variant",
        choices=(*crash_lab.VARIANTS, "both"),
        default="both",
        help="where the emulator runs (default both)",
    )
    parser.add_argument("--races", type=int, default=10, help="concurrent-apply runs (default 10)")
    parser.add_argument("--identities", type=int, default=20)
    parser.add_argument("--grants", type=int, default=22, help="grants per identity")
    parser.add_argument("--seed", type=int, default=0, help="seed of the kill points")
    args = parser.parse_args()
    variants = crash_lab.VARIANTS if args.variant == "both" else (args.variant,)

    started = time.monotonic()
    ok = True
    with tempfile.TemporaryDirectory(prefix="crash-consistency-") as tmp:
        for variant in variants:
            ok &= _crashes(variant, args.runs, args, Path(tmp))
        if args.races:
            ok &= _races(args.races, args, Path(tmp))
    print(f"\ntotal wall time: {time.monotonic() - started:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
