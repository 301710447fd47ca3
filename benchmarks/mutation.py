"""Mutation score of the code that decides ownership, privilege and staleness.

Each mutant is one small change to one module (operators: `mutation_ops.py`). It is killed when
the tests that target the module fail on it; a survivor is a change no test notices.

The tests that target a module are the test files whose imports reach it, following test
helper modules (`plan_factories`, ...) and modules of the target's own package
(`identity_reconciler.plan` -> `plan.diff` -> `plan.diff_grants`), but not other packages, so a
core module is not "targeted" by every test that happens to import the planner. Files run
closest first (fewest imports away); those that need no emulator run first in a process of
their own, the rest only if they pass, so most mutants cost one cheap run.
`tests/reliability/` (fault and crash harnesses: minutes per run, and timing-dependent) is left
out unless `--slow`.

Every mutant runs in a fresh `python -m pytest -x -q -p no:cacheprovider` over those files, in
one of `--jobs` (at most 2) private copies of the tree made in a temporary directory; the
working tree is never written, and the copies are removed on exit, Ctrl-C included. Each run
has a timeout of 3 x the unmutated run + 30 s; a timed-out mutant is reported apart.

Printed per module: mutants, killed, survived, timeouts, marked equivalent, the score
(killed + timeouts over mutants not marked equivalent), then each survivor as
`file:line: description`. Exit status 1 when a module scores under `--fail-under`.

    python benchmarks/mutation.py [--module core/ownership.py ...] [--sample N] [--seed 0]
        [--jobs 2] [--slow] [--list-tests] [--progress] [--fail-under 0]

Not part of `.ci/run`: a full run takes tens of minutes on two cores.
"""

from __future__ import annotations

import argparse
import ast
import os
import queue
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import mutation_ops  # a sibling script, found through the script's directory on sys.path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "identity_reconciler"
MODULES = (
    "core/ownership.py",
    "core/armid.py",
    "apply/stale.py",
    "plan/diff_grants.py",
    "plan/safety.py",
    "core/privilege.py",
    "core/armid_segments.py",
)
# Tests that reach a module from outside its package but exist to pin it.
EXTRA_TESTS = {
    # docs/permissions.md's table of privileged roles is rendered from the classification.
    "core/privilege.py": ("tests/docs/test_docs_generated.py",),
}
SLOW = "reliability"  # fault and crash harnesses: minutes per run, and timing-dependent
COPY_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis"
)
PYTEST = ("-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly")
_RUNNING: set[subprocess.Popen[bytes]] = set()
_LOCK = threading.Lock()
_STOP = threading.Event()
_PROGRESS = threading.Event()


@dataclass(frozen=True)
class Outcome:
    site: mutation_ops.Site
    status: str  # killed | survived | timeout
    seconds: float


# ---------------------------------------------------------------------------- test selection


def _imports(path: Path) -> set[str]:
    """Module names a file imports (`from a.b import c` yields `a.b` and `a.b.c`)."""
    out: set[str] = set()
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError):
        return out
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
    return out


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def target_tests(module: str, *, slow: bool = False) -> list[Path]:
    """Test files whose imports reach `module` (dotted) through helpers and its own package."""
    package = module.rsplit(".", 1)[0]
    graph: dict[str, set[str]] = {}
    for path in (ROOT / PACKAGE).rglob("*.py"):
        name = _module_name(path)
        if name.startswith(package + ".") or name == package:
            graph[name] = _imports(path)
    helpers: dict[str, Path] = {}
    tests: list[Path] = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        if path.name.startswith("test_"):
            tests.append(path)
        else:
            helpers.setdefault(path.stem, path)
    for stem, path in helpers.items():
        graph[f"helper:{stem}"] = {f"helper:{m}" if m in helpers else m for m in _imports(path)}
    for path in tests:
        graph[str(path)] = {f"helper:{m}" if m in helpers else m for m in _imports(path)}
    hops = _hops_to(module, graph)
    picked = [p for p in tests if str(p) in hops and (slow or SLOW not in p.parts)]
    # Closest first, and those that start an emulator last: -x then stops sooner.
    return sorted(picked, key=lambda p: (hops[str(p)], _uses_emulator(p), p))


def _uses_emulator(path: Path) -> bool:
    return "emulator" in path.read_text(encoding="utf-8")


def _hops_to(module: str, graph: dict[str, set[str]]) -> dict[str, int]:
    """For every node that reaches `module`, the fewest imports it takes (breadth first)."""
    importers: dict[str, set[str]] = {}
    for name, imported in graph.items():
        for m in imported:
            importers.setdefault(m, set()).add(name)
    hops = {module: 0}
    frontier = [module]
    while frontier:
        nxt = []
        for name in frontier:
            for importer in importers.get(name, ()):
                if importer not in hops:
                    hops[importer] = hops[name] + 1
                    nxt.append(importer)
        frontier = nxt
    return hops


# ---------------------------------------------------------------------------- running


@contextmanager
def worker_copies(jobs: int) -> Iterator[queue.Queue[Path]]:
    """`jobs` private copies of the tree; removed afterwards whatever happens."""
    base = Path(tempfile.mkdtemp(prefix="mutation-"))
    pool: queue.Queue[Path] = queue.Queue()
    try:
        for i in range(jobs):
            dest = base / f"w{i}"
            shutil.copytree(ROOT, dest, ignore=COPY_IGNORE, symlinks=True)
            pool.put(dest)
        yield pool
    finally:
        shutil.rmtree(base, ignore_errors=True)


def run_tests(tree: Path, tests: list[Path], timeout: float) -> tuple[str, float]:
    """Run the tests in a copy; ('passed'|'failed'|'timeout', seconds)."""
    env = dict(os.environ, PYTHONPATH=str(tree), PYTHONHASHSEED="0")
    args = [sys.executable, *PYTEST, *(str(tree / p.relative_to(ROOT)) for p in tests)]
    start = time.perf_counter()
    if _STOP.is_set():
        raise KeyboardInterrupt
    proc = subprocess.Popen(
        args,
        cwd=tree,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    with _LOCK:
        _RUNNING.add(proc)
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        return "timeout", time.perf_counter() - start
    except BaseException:
        _kill(proc)
        raise
    finally:
        with _LOCK:
            _RUNNING.discard(proc)
    if _STOP.is_set():
        raise KeyboardInterrupt
    return ("passed" if code == 0 else "failed"), time.perf_counter() - start


def stop_all() -> None:
    """Ctrl-C: no new runs, and every running one killed (its copy is restored by its thread)."""
    _STOP.set()
    with _LOCK:
        running = list(_RUNNING)
    for proc in running:
        _kill(proc)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _drop_bytecode(path: Path) -> None:
    """A mutant may have the same size and mtime second as the last one: never reuse its .pyc."""
    for pyc in (path.parent / "__pycache__").glob(f"{path.stem}.*.pyc"):
        pyc.unlink(missing_ok=True)


def stages(tests: list[Path]) -> list[list[Path]]:
    """The files that need no emulator first, then the rest.

    Collecting files that start an emulator costs seconds per mutant (SDK imports, TLS, the
    server); most mutants fall to the pure tests, so those run alone first.
    """
    first = [t for t in tests if not _uses_emulator(t)]
    rest = [t for t in tests if t not in first]
    return [s for s in (first, rest) if s]


def run_stages(tree: Path, staged: list[list[Path]], timeout: float) -> tuple[str, float]:
    total = 0.0
    for stage in staged:
        result, seconds = run_tests(tree, stage, timeout)
        total += seconds
        if result != "passed":
            return result, total
    return "passed", total


def run_mutant(
    pool: queue.Queue[Path],
    rel: Path,
    source: str,
    site: mutation_ops.Site,
    staged: list[list[Path]],
    timeout: float,
) -> Outcome:
    tree = pool.get()
    target = tree / rel
    try:
        target.write_text(mutation_ops.mutate(source, site.index), encoding="utf-8")
        _drop_bytecode(target)
        result, seconds = run_stages(tree, staged, timeout)
    finally:
        target.write_text(source, encoding="utf-8")
        _drop_bytecode(target)
        pool.put(tree)
    status = {"passed": "survived", "failed": "killed"}.get(result, result)
    if _PROGRESS.is_set():
        print(f"    {status:8} {rel}:{site.line}: {site.description}", file=sys.stderr, flush=True)
    return Outcome(site, status, seconds)


def check_copy(tree: Path) -> None:
    """The copy, not the installed working tree, is what a test run imports."""
    out = subprocess.run(
        [sys.executable, "-c", f"import {PACKAGE}; print({PACKAGE}.__file__)"],
        cwd=tree,
        env=dict(os.environ, PYTHONPATH=str(tree)),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if not Path(out.strip()).resolve().is_relative_to(tree.resolve()):
        raise SystemExit(f"the mutated copy is not the one imported: {out.strip()}")


# ---------------------------------------------------------------------------- report


def measure(
    rel_module: str, pool: queue.Queue[Path], args: argparse.Namespace
) -> tuple[float, int]:
    """Run one module's mutants; print its block; return (score %, survivors)."""
    rel = Path(PACKAGE) / rel_module
    source = (ROOT / rel).read_text(encoding="utf-8")
    dotted = ".".join(rel.with_suffix("").parts)
    tests = target_tests(dotted, slow=args.slow)
    tests += [ROOT / t for t in EXTRA_TESTS.get(rel_module, ()) if ROOT / t not in tests]
    if not tests:
        raise SystemExit(f"{rel}: no test imports it")
    all_sites = mutation_ops.sites(source)
    chosen = all_sites
    if args.sample and args.sample < len(all_sites):
        rng = random.Random(f"{args.seed}:{rel_module}")
        chosen = sorted(rng.sample(all_sites, args.sample), key=lambda s: s.index)
    staged = stages(tests)
    tree = pool.get()
    pool.put(tree)
    baseline, seconds = run_stages(tree, staged, timeout=3600)
    if baseline != "passed":
        raise SystemExit(f"{rel}: the unmutated tests do not pass ({baseline}); fix that first")
    timeout = 3 * seconds + 30
    print(
        f"\n{rel}: {len(chosen)} of {len(all_sites)} mutants, {len(tests)} test files "
        f"({len(staged[0])} run first), "
        f"unmutated run {seconds:.1f} s",
        flush=True,
    )
    ex = ThreadPoolExecutor(max_workers=args.jobs)
    try:
        outcomes = list(
            ex.map(lambda s: run_mutant(pool, rel, source, s, staged, timeout), chosen)
        )
    except BaseException:
        stop_all()
        raise
    finally:
        ex.shutdown(wait=True, cancel_futures=True)
    marks = mutation_ops.equivalent_marks(source)
    counted = [o for o in outcomes if not mutation_ops.is_marked(o.site, marks)]
    killed = sum(o.status == "killed" for o in counted)
    timeouts = sum(o.status == "timeout" for o in counted)
    survivors = [o for o in counted if o.status == "survived"]
    score = 100.0 * (killed + timeouts) / len(counted) if counted else 100.0
    print(
        f"  killed {killed}  survived {len(survivors)}  timeouts {timeouts}  "
        f"marked equivalent {len(outcomes) - len(counted)}  score {score:.1f} %"
        f"  ({sum(o.seconds for o in outcomes):.0f} s of test runs)"
    )
    for o in survivors:
        print(f"  {rel}:{o.site.line}: {o.site.description}")
    for o in outcomes:
        if mutation_ops.is_marked(o.site, marks):
            print(f"  {rel}:{o.site.line}: {o.site.description} [marked equivalent: {o.status}]")
    return score, len(survivors)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    # Ctrl-C and a plain kill both stop cleanly (a background job starts with SIGINT ignored).
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--module", action="append", help=f"under {PACKAGE}/ (default: {MODULES})")
    ap.add_argument("--sample", type=int, default=0, help="N mutants per module, seeded")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=2, choices=(1, 2))
    ap.add_argument("--slow", action="store_true", help=f"also run tests/{SLOW}/ (slow)")
    ap.add_argument("--list-tests", action="store_true", help="print the selection and stop")
    ap.add_argument("--progress", action="store_true", help="one line per mutant on stderr")
    ap.add_argument("--fail-under", type=float, default=0.0, help="exit 1 below this score")
    args = ap.parse_args()
    if args.progress:
        _PROGRESS.set()
    modules = [m.removeprefix(f"{PACKAGE}/") for m in args.module or MODULES]
    for m in modules:
        if not (ROOT / PACKAGE / m).is_file():
            ap.error(f"no module {PACKAGE}/{m}")
    if args.list_tests:
        for m in modules:
            dotted = ".".join((PACKAGE, *Path(m).with_suffix("").parts))
            tests = target_tests(dotted, slow=args.slow)
            tests += [ROOT / t for t in EXTRA_TESTS.get(m, ()) if ROOT / t not in tests]
            print(f"{m}: {' '.join(str(t.relative_to(ROOT)) for t in tests)}")
        return 0
    scores: dict[str, float] = {}
    start = time.perf_counter()
    with worker_copies(args.jobs) as pool:
        first = pool.get()
        pool.put(first)
        check_copy(first)
        for m in modules:
            scores[m], _ = measure(m, pool, args)
    print(f"\nsummary ({time.perf_counter() - start:.0f} s):")
    for m, score in scores.items():
        print(f"  {m:24} {score:5.1f} %")
    return 1 if any(s < args.fail_under for s in scores.values()) else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
