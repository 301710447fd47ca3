"""How fast the CLI starts: whole processes, against the interpreter's own start.

For `--version`, `--help` and `validate specs/` (the two example specs): the median of N runs
of the installed console script, each paired with a run of the same interpreter's
`python -c pass`, and the ratio of the medians. Targets: `--version` and `--help` at most 3x
the bare start, `validate specs/` at most 8x. What keeps them there: the parser imports no
command module (a command's module loads only when it runs); only commands that reach Azure
import the Azure SDK, `cryptography` or the emulator (`tests/cli/test_cli_startup.py`); the
console script skips pydantic's plugin search (`core/pluginless.py`) and PyYAML's reader
regex until used (`core/yamlreader.py`); and the role catalog
parses only the roles a run names (`core/roles.py`). Most of what is left of `validate` is
pydantic and PyYAML themselves: importing them and building the spec models.

The wall ratio is the target; the CPU ratio is printed too because on a busy machine the
wall clock mostly measures the wait for a core.

    python benchmarks/startup.py [--runs 10]
"""

from __future__ import annotations

import argparse
import compileall
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CASES = (("--version", 3.0), ("--help", 3.0), ("validate specs/", 8.0))


def command() -> list[str]:
    """The console script installed next to this interpreter, else `python -m`."""
    script = Path(sys.executable).with_name("identity-reconciler")
    if script.exists():
        return [str(script)]
    found = shutil.which("identity-reconciler")
    return [found] if found else [sys.executable, "-m", "identity_reconciler"]


def seconds(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    # As installed: byte-compiled (PYTHONDONTWRITEBYTECODE would otherwise have every run
    # compile the package from source, which is not what a user's start costs).
    compileall.compile_dir(REPO / "identity_reconciler", quiet=1)
    cli = command()
    bare = [sys.executable, "-c", "pass"]
    seconds(bare)  # warm the file cache once
    print(f"median of {args.runs} paired runs; wall clock, then CPU (user + system)")
    print(f"{'command':<17} {'wall':>7} {'bare':>7} {'ratio':>6}   {'cpu':>7} {'bare':>7} "
          f"{'ratio':>6}   target")
    for words, target in CASES:
        argv = cli + words.split()
        seconds(argv)
        pairs = [(seconds(bare), seconds(argv)) for _ in range(args.runs)]
        row = []
        for i in (0, 1):  # wall, cpu
            base = statistics.median(b[i] for b, _ in pairs)
            took = statistics.median(c[i] for _, c in pairs)
            row.append(f"{took:>6.3f}s {base:>6.3f}s {took / base:>5.1f}x")
        print(f"{words:<17} {row[0]}   {row[1]}   {target:.0f}x")


if __name__ == "__main__":
    main()
