"""Hostile input, in bulk: spec files, command lines and plan files, then YAML bombs.

Generates `--examples` inputs from the corpus in tests/security/fuzz_corpus.py (each from its
own seed, so any failure can be replayed with `--replay FAMILY:SEED`), runs each under a
per-input deadline with its allocations traced, and prints per family: inputs, outcomes,
tracebacks, hangs, and the slowest and hungriest input. Command lines run sealed (no session,
no socket; see fuzz_harness.py); `--local N` more run for real against the in-process emulator
(`--cloud local`, loopback only). Then each YAML bomb is validated once and its time and peak
memory printed. Exit 1 if anything raised, hung or was accepted when it should not have been.

    python benchmarks/fuzz_inputs.py --examples 10000 [--seed 0] [--timeout 10] [--local 20]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import resource
import socket
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "security"))

import fuzz_corpus as corpus
import fuzz_harness as harness

from identity_reconciler.cli import main
from identity_reconciler.plan.model import Plan
from identity_reconciler.spec import validate

FAMILIES = {"spec": 0.4, "argv": 0.35, "plan": 0.25}


@dataclass
class Tally:
    inputs: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    tracebacks: int = 0
    hangs: int = 0
    max_seconds: float = 0.0
    max_seconds_seed: int = -1
    max_bytes: int = 0
    max_bytes_seed: int = -1
    failures: list[str] = field(default_factory=list)


def real_plan(tmp: Path) -> str:
    """A real plan file of the seed specs, planned against the local emulator."""
    out = tmp / "plan.json"
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = main(
            [
                "plan",
                str(corpus.REPO / "specs"),
                "--cloud",
                "local",
                "--state-dir",
                str(tmp / "plan-state"),
                "--out",
                str(out),
            ]
        )
    if code != 0:
        raise SystemExit(f"could not make the seed plan (exit {code})")
    return out.read_text()


def family_of(rng: random.Random) -> str:
    return rng.choices(list(FAMILIES), weights=list(FAMILIES.values()))[0]


def run_one(
    family: str, rng: random.Random, world: harness.Sealed, plan_text: str, original: Plan
) -> tuple[str | None, str]:
    """(problem, outcome label) for one generated input."""
    if family == "spec":
        problem = harness.check_spec(corpus.spec_text(rng), world.root)
        return problem, "checked"
    if family == "argv":
        paths = fuzz_paths(world.root, plan_text)
        return harness.check_argv(corpus.argv(rng, paths), world)
    text, format_only = corpus.plan_mutation(rng, plan_text)
    problem, accepted = harness.check_plan(text, format_only, original)
    return problem, "accepted (same content)" if accepted else "refused"


_PATHS: list[str] = []


def fuzz_paths(root: Path, plan_text: str) -> list[str]:
    """Files and folders a command line may name: specs good and bad, plans, oddities."""
    if _PATHS:
        return _PATHS
    specs = root / "specs"
    specs.mkdir()
    for seed in corpus.SEED_SPECS[:6]:
        (specs / seed.name).write_bytes(seed.read_bytes())
    (root / "plan.json").write_text(plan_text)
    (root / "tampered.json").write_text(plan_text.replace('"uksouth"', '"westeurope"', 1))
    (root / "empty.yaml").write_text("")
    (root / "dir.json").mkdir()
    _PATHS.extend(
        [
            str(specs),
            str(specs / corpus.SEED_SPECS[0].name),
            str(root / "plan.json"),
            str(root / "tampered.json"),
            str(root / "empty.yaml"),
            str(root / "dir.json"),
            str(root / "missing.yaml"),
            "/dev/null",
            "out.json",
            "out-dir",
            ".",
        ]
    )
    return _PATHS


def measured(
    fn: Callable[[], tuple[str | None, str]], timeout: float, memory: bool
) -> tuple[str | None, str, float, int]:
    baseline = tracemalloc.get_traced_memory()[0] if memory else 0
    if memory:
        tracemalloc.reset_peak()
    started = time.perf_counter()
    try:
        with harness.deadline(timeout):
            problem, label = fn()
    except harness.Hang as exc:
        problem, label = f"HANG: {exc}", "hang"
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] - baseline if memory else 0
    return problem, label, seconds, peak


def fuzz(args: argparse.Namespace) -> dict[str, Tally]:
    tallies = {name: Tally() for name in FAMILIES}
    with tempfile.TemporaryDirectory(prefix="ir-fuzz-plan-") as tmp:
        plan_text = real_plan(Path(tmp))
    original = Plan.from_json(plan_text)
    todo = [args.replay] if args.replay else range(args.examples)
    with harness.sealed() as world:
        for item in todo:
            if isinstance(item, str):
                name, _, number = item.partition(":")
                seed = int(number)
            else:
                seed = args.seed * 1_000_003 + item
                name = family_of(random.Random(seed ^ 0x5EED))
            rng = random.Random(seed)
            tally = tallies[name]
            problem, label, seconds, peak = measured(
                lambda n=name, r=rng: run_one(n, r, world, plan_text, original),  # type: ignore[misc]
                args.timeout,
                args.memory,
            )
            record(tally, problem, label, seconds, peak, seed, name)
        if world.connections:
            tallies["argv"].tracebacks += 1
            tallies["argv"].failures.append(f"argv: tried to connect: {world.connections[:3]}")
        print(
            f"sealed run: {world.sessions} session(s) refused, "
            f"{len(world.connections)} connection attempt(s), "
            f"{len(world.os_errors)} OSError(s) at the CLI's last resort"
        )
        for line in sorted(set(world.os_errors))[:5]:
            print(f"  last resort: {line[:120]}")
    if args.local and not args.replay:
        tallies["argv (local emulator)"] = local_runs(args, plan_text)
    return tallies


def record(
    tally: Tally, problem: str | None, label: str, seconds: float, peak: int, seed: int, name: str
) -> None:
    tally.inputs += 1
    tally.outcomes[label] += 1
    if seconds > tally.max_seconds:
        tally.max_seconds, tally.max_seconds_seed = seconds, seed
    if peak > tally.max_bytes:
        tally.max_bytes, tally.max_bytes_seed = peak, seed
    if problem is not None:
        if label == "hang":
            tally.hangs += 1
        else:
            tally.tracebacks += 1
        tally.failures.append(f"{name}:{seed}: {problem.strip().splitlines()[-1][:300]}")


def local_runs(args: argparse.Namespace, plan_text: str) -> Tally:
    """Command lines that really run against the in-process emulator; loopback only."""
    tally = Tally()
    real_connect = socket.socket.connect
    outside: list[Any] = []

    def loopback_only(sock: socket.socket, address: Any) -> None:
        host = address[0] if isinstance(address, tuple) else ""
        if host not in ("127.0.0.1", "::1", "localhost"):
            outside.append(address)
            raise OSError("only loopback in the fuzz run")
        real_connect(sock, address)

    socket.socket.connect = loopback_only  # type: ignore[method-assign,assignment]
    cwd = Path.cwd()
    try:
        with tempfile.TemporaryDirectory(prefix="ir-fuzz-local-") as tmp:
            root = Path(tmp)
            os.chdir(root)  # the sandbox: relative paths and default state stay inside it
            _PATHS.clear()
            paths = fuzz_paths(root, plan_text)
            world = harness.Sealed(root)
            rng = random.Random(args.seed)
            state = ["--state-dir", str(root / "state")]
            commands = ("plan", "drift", "audit", "export", "apply")
            while tally.inputs < args.local:
                line = corpus.argv(rng, paths)
                if not line or line[0] not in commands:
                    continue
                line = [w for w in line if w != "--cloud" and w != "local"] + [
                    "--cloud",
                    "local",
                    *state,
                ]
                problem, label, seconds, peak = measured(
                    lambda a=line: harness.check_argv(a, world),  # type: ignore[misc]
                    args.timeout * 6,
                    args.memory,
                )
                record(tally, problem, label, seconds, peak, tally.inputs, "local")
            os.chdir(cwd)
    finally:
        os.chdir(cwd)
        socket.socket.connect = real_connect  # type: ignore[method-assign]
    if outside:
        tally.tracebacks += 1
        tally.failures.append(f"local: connection outside loopback: {outside[:3]}")
    return tally


def bombs(args: argparse.Namespace) -> list[tuple[str, int, str, float, int, int]]:
    """(name, size, outcome, seconds, peak bytes, max RSS KiB) per bomb: timed with tracing off,
    then validated again with allocations traced for the peak above what was held before."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="ir-bombs-") as tmp:
        for name, data in corpus.bombs().items():
            path = Path(tmp) / "bomb.yaml"
            path.write_bytes(data)
            started = time.perf_counter()
            with harness.deadline(args.timeout * 6):
                result = validate([path])
            seconds = time.perf_counter() - started
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            peak = 0
            if args.memory:
                tracemalloc.start()
                validate([path])
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
            rules = sorted({f.rule_id for f in result.errors}) or ["valid"]
            first = result.errors[0].message[:60] if result.errors else ""
            rows.append((name, len(data), f"{', '.join(rules)}: {first}", seconds, peak, rss))
    return rows


def report(tallies: dict[str, Tally], rows: list[tuple[str, int, str, float, int, int]]) -> int:
    total = sum(t.inputs for t in tallies.values())
    tracebacks = sum(t.tracebacks for t in tallies.values())
    hangs = sum(t.hangs for t in tallies.values())
    print(f"\ninputs {total:,}   tracebacks {tracebacks}   hangs {hangs}")
    print(
        f"{'family':<24}{'inputs':>8}{'tracebacks':>12}{'hangs':>7}{'max s':>9}"
        f"{'max MiB':>9}  outcomes"
    )
    for name, t in tallies.items():
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(t.outcomes.items()))
        print(
            f"{name:<24}{t.inputs:>8,}{t.tracebacks:>12}{t.hangs:>7}{t.max_seconds:>9.3f}"
            f"{t.max_bytes / 2**20:>9.1f}  {outcomes}"
        )
    for name, t in tallies.items():
        print(f"  {name}: slowest seed {t.max_seconds_seed}, hungriest seed {t.max_bytes_seed}")
        for failure in t.failures[:10]:
            print("  FAILED", failure)
    if rows:
        print(
            f"\n{'YAML bomb':<48}{'bytes':>11}{'seconds':>9}{'peak MiB':>10}"
            f"{'maxRSS MiB':>12}  outcome"
        )
        for name, size, outcome, seconds, peak, rss in rows:
            print(
                f"{name:<48}{size:>11,}{seconds:>9.3f}{peak / 2**20:>10.1f}"
                f"{rss / 1024:>12.0f}  {outcome}"
            )
    return 1 if tracebacks or hangs else 0


def main_cli(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per input")
    parser.add_argument("--local", type=int, default=20, help="command lines run for real")
    parser.add_argument("--replay", metavar="FAMILY:SEED", help="run one failing input again")
    parser.add_argument(
        "--no-memory",
        dest="memory",
        action="store_false",
        help="skip tracemalloc (faster; no memory figures)",
    )
    parser.add_argument("--no-bombs", dest="bombs", action="store_false")
    args = parser.parse_args(argv)
    if args.memory:
        tracemalloc.start()
    started = time.perf_counter()
    tallies = fuzz(args)
    tracemalloc.stop()  # bombs are timed untraced, then traced on their own
    rows = bombs(args) if args.bombs and not args.replay else []
    code = report(tallies, rows)
    print(f"\n{time.perf_counter() - started:.1f} s in all (seed {args.seed})")
    return code


if __name__ == "__main__":
    raise SystemExit(main_cli())
